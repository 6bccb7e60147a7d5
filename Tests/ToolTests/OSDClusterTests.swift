import Foundation
import LoligoClient
import LoligoCore
import LoligoDaemon
import LoligoMessages
import LoligoMessenger
import LoligoWire
import NIOCore
import XCTest

final class OSDClusterTests: XCTestCase {
  func payload(_ n: Int, size: Int = 4096) -> ByteBuffer {
    ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) })
  }

  func objectStat(_ cluster: TestCluster, osd: Int, pool: Int, name: String) -> [String: Any] {
    let socket = cluster.directory.appendingPathComponent("osd.\(osd).asok").path
    return jsonObject(
      (try? adminSocketRequest(path: socket, command: "object stat \(pool) \(name)")) ?? "{}")
  }

  /// Objects written through the client come back intact, and every replica holds the same
  /// bytes as the primary.
  func testWritesAreReplicatedAndReadBack() throws {
    let cluster = try TestCluster(mons: 1, osds: 3)
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "rep", "16", "--size", "3"]).0, 0)
    let objecter = try Objecter(config: try cluster.config())
    defer { objecter.shutdown() }
    _ = try objecter.waitForMap(atLeast: 5)
    let io = try IoCtx(objecter: objecter, pool: "rep")
    for n in 0..<30 {
      try io.sync { io.writeFull("obj\(n)", data: payload(n), completion: $0) }
    }
    for n in 0..<30 {
      XCTAssertEqual(try io.sync { io.read("obj\(n)", completion: $0) }, payload(n))
    }
    try io.sync { io.write("obj0", offset: 4096, data: payload(99, size: 100), completion: $0) }
    XCTAssertEqual(try io.sync { io.stat("obj0", completion: $0) }.size, 4196)
    for n in [0, 7, 19] {
      let stats = (0..<3).map { objectStat(cluster, osd: $0, pool: 1, name: "obj\(n)") }
      XCTAssertTrue(stats.allSatisfy { $0["crc32c"] != nil }, "obj\(n) on every OSD: \(stats)")
      XCTAssertEqual(
        Set(stats.compactMap { $0["crc32c"] as? Int }).count, 1, "same bytes everywhere")
    }
    XCTAssertEqual(try io.sync { io.list(completion: $0) }.count, 30)
    try io.sync { io.remove("obj1", completion: $0) }
    XCTAssertThrowsError(try io.sync { io.read("obj1", completion: $0) }) {
      XCTAssertEqual($0 as? IoCtxError, .noObject)
    }
  }

  /// Kill -9 of one OSD during writes to a size-3 pool: the map marks it down within the
  /// heartbeat grace, writes go on, and nothing acknowledged is lost.
  func testKilledOSDIsMarkedDownAndWritesContinue() throws {
    let cluster = try TestCluster(
      mons: 1, osds: 3,
      extra: ["--set", "osd_heartbeat_interval=0.5", "--set", "osd_heartbeat_grace=2"])
    defer { cluster.tearDown() }
    XCTAssertEqual(
      try cluster.loligo(["pool", "create", "rep", "32", "--size", "3", "--min-size", "2"]).0, 0)
    let objecter = try Objecter(config: try cluster.config())
    defer { objecter.shutdown() }
    _ = try objecter.waitForMap(atLeast: 5)
    let io = try IoCtx(objecter: objecter, pool: "rep")
    var acked: [Int] = []
    var n = 0
    while acked.count < 50 {
      try io.sync { io.writeFull("o\(n)", data: payload(n), completion: $0) }
      acked.append(n)
      n += 1
    }
    let victim = try XCTUnwrap(cluster.pid("osd.1"))
    kill(victim, SIGKILL)
    let killed = Date()
    var markedDown: TimeInterval?
    while Date().timeIntervalSince(killed) < 40 && (markedDown == nil || acked.count < 150) {
      if (try? io.sync { io.writeFull("o\(n)", data: payload(n), completion: $0) }) != nil {
        acked.append(n)
      }
      n += 1
      if markedDown == nil, let map = objecter.osdMap, !map.isUp(1) {
        markedDown = Date().timeIntervalSince(killed)
      }
    }
    let seconds = try XCTUnwrap(markedDown, "osd.1 never marked down")
    XCTAssertLessThan(seconds, 20)
    XCTAssertGreaterThanOrEqual(acked.count, 150, "writes continued after the kill")
    print("osd.1 killed; marked down after \(seconds) s; \(acked.count) writes acknowledged")
    for n in acked {
      XCTAssertEqual(try io.sync { io.read("o\(n)", completion: $0) }, payload(n), "o\(n)")
    }
  }

  /// With the durable store, kill -9 and restart of an OSD keeps every acknowledged object.
  func testDurableOSDRestartKeepsAcknowledgedObjects() throws {
    let cluster = try TestCluster(mons: 1, osds: 2, extra: ["--objectstore", "durable"])
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "d", "8", "--size", "1"]).0, 0)
    let objecter = try Objecter(config: try cluster.config())
    defer { objecter.shutdown() }
    _ = try objecter.waitForMap(atLeast: 4)
    let io = try IoCtx(objecter: objecter, pool: "d")
    for n in 0..<40 {
      try io.sync {
        io.writeFull("d\(n)", data: payload(n, size: n % 2 == 0 ? 4096 : 100_000), completion: $0)
      }
    }
    for osd in [0, 1] { if let pid = cluster.pid("osd.\(osd)") { kill(pid, SIGKILL) } }
    usleep(200_000)
    try cluster.restart("loligo-osd", id: "0")
    try cluster.restart("loligo-osd", id: "1")
    for n in 0..<40 {
      XCTAssertEqual(
        try io.sync { io.read("d\(n)", completion: $0) },
        payload(n, size: n % 2 == 0 ? 4096 : 100_000),
        "d\(n) after restart")
    }
  }

  func testBadInputGetsClearErrorsAndTheOSDKeepsServing() throws {
    let cluster = try TestCluster(mons: 1, osds: 1)
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "p", "8", "--size", "1"]).0, 0)
    let file = cluster.directory.appendingPathComponent("in.txt")
    try "x".write(to: file, atomically: true, encoding: .utf8)
    let unknownPool = try cluster.loligo(["-p", "nope", "put", "a", file.path])
    XCTAssertNotEqual(unknownPool.0, 0)
    XCTAssertTrue(unknownPool.2.contains("does not exist"), unknownPool.2)
    let longName = try cluster.loligo([
      "-p", "p", "put", String(repeating: "n", count: 3000), file.path,
    ])
    XCTAssertNotEqual(longName.0, 0)
    XCTAssertTrue(longName.2.contains("longer than"), longName.2)
    let missing = try cluster.loligo(["-p", "p", "get", "absent", "-"])
    XCTAssertNotEqual(missing.0, 0)
    XCTAssertTrue(missing.2.contains("no such object"), missing.2)

    // A malformed request straight to the OSD is refused; the OSD keeps serving.
    let config = try cluster.config()
    let objecter = try Objecter(config: config)
    defer { objecter.shutdown() }
    let map = try objecter.waitForMap(atLeast: 3)
    let addr = try EntityAddr(parsing: try XCTUnwrap(map.entry(0)?.publicAddress))
    let replies = ReplyRecorder()
    let raw = try Messenger(name: EntityName(.client, 77), config: config, policy: .lossyClient)
    raw.setDispatcher(replies)
    defer { raw.shutdown() }
    let connection = raw.connect(to: addr)
    var garbage = ByteBuffer()
    garbage.writeBytes([1, 1, 200, 0, 0, 0, 9, 9, 9])
    connection.send(Message(type: MessageType.osdOp, tid: 1, front: garbage))
    let deadline = Date().addingTimeInterval(10)
    while replies.results.isEmpty && Date() < deadline { usleep(10_000) }
    XCTAssertEqual(replies.results, [-22])
    // A well-formed write whose offset is near 2^64 (its end would overflow) is refused with
    // EFBIG, not a crash.
    let pg = try map.map(object: "far", poolNamed: "p").pgid
    let far = OSDOp(
      pool: pg.pool, placementSeed: pg.seed, objectName: "far", epoch: map.epoch,
      operations: [OSDOperation(code: .write, offset: .max - 1, length: 4, payloadLength: 4)])
    connection.send(far.message(tid: 2, data: ByteBuffer(bytes: [1, 2, 3, 4])))
    while replies.results.count < 2 && Date() < deadline.addingTimeInterval(10) {
      usleep(10_000)
    }
    XCTAssertEqual(replies.results, [-22, -27])
    XCTAssertEqual(try cluster.loligo(["-p", "p", "put", "after", file.path]).0, 0)
  }
}

final class ReplyRecorder: Dispatcher, @unchecked Sendable {
  private let lock = NSLock()
  private var values: [Int32] = []
  func dispatch(_ message: Message) {
    guard let reply = try? OSDOpReply(message) else { return }
    lock.withLock { values.append(reply.result) }
  }
  var results: [Int32] { lock.withLock { values } }
}
