import Foundation
import LoligoClient
import LoligoCore
import LoligoPlacement
import NIOCore
import XCTest

/// OSD failures with real daemons: no acknowledged write is lost or hidden when OSDs die,
/// restart (with or without their data), when two of three are gone, when the primary dies
/// mid-write, and when the monitor dies during recovery; every PG returns to active+clean
/// with every copy equal (deep scrub).
final class RecoveryClusterTests: XCTestCase {
  static let fast = [
    "--set", "osd_heartbeat_interval=0.5", "--set", "osd_heartbeat_grace=2",
    "--set", "client_op_timeout=20",
  ]

  func payload(_ n: Int, size: Int = 3000) -> ByteBuffer {
    ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) })
  }

  /// Waits until every PG is active+clean (status JSON as `ceph -s -f json`).
  func waitClean(_ cluster: TestCluster, _ what: String, timeout: TimeInterval = 120) throws {
    let deadline = Date().addingTimeInterval(timeout)
    var last = ""
    while Date() < deadline {
      let (status, out, _) = try cluster.loligo(["status", "--format", "json"], timeout: 20)
      if status == 0 {
        let pgmap = jsonObject(out)["pgmap"] as? [String: Any] ?? [:]
        let states = pgmap["pgs_by_state"] as? [[String: Any]] ?? []
        let total = pgmap["num_pgs"] as? Int ?? -1
        let clean = states.filter { $0["state_name"] as? String == "active+clean" }
          .reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
        if total > 0 && clean == total { return }
        last = states.map { "\($0["count"] ?? 0) \($0["state_name"] ?? "?")" }.joined(
          separator: ", ")
      }
      usleep(300_000)
    }
    XCTFail("\(what): not active+clean after \(Int(timeout)) s (\(last))")
    throw XCTSkip("cluster not clean")
  }

  func write(_ io: IoCtx, _ range: Range<Int>) throws {
    for n in range { try io.sync { io.writeFull("o\(n)", data: payload(n), completion: $0) } }
  }

  func verify(_ io: IoCtx, _ range: Range<Int>, _ when: String) {
    for n in range {
      XCTAssertEqual(try? io.sync { io.read("o\(n)", completion: $0) }, payload(n), "o\(n) \(when)")
    }
  }

  /// Every acting copy of every object agrees.
  func assertScrubClean(_ cluster: TestCluster, _ when: String) throws {
    let (status, out, err) = try cluster.loligo(
      ["pg", "deep-scrub", "all", "--format", "json"], timeout: 120)
    let report = jsonObject(out)
    XCTAssertEqual(status, 0, "deep-scrub \(when): \(out) \(err)")
    XCTAssertGreaterThan(report["scrubbed"] as? Int ?? 0, 0, when)
    XCTAssertEqual((report["inconsistent"] as? [String]) ?? ["?"], [], when)
  }

  func kill9(_ cluster: TestCluster, _ daemon: String) throws {
    kill(try XCTUnwrap(cluster.pid(daemon), "no pid for \(daemon)"), SIGKILL)
  }

  /// Memory stores: an OSD killed and started again comes back empty and is refilled; with
  /// two of three copies gone a read waits (never "no such object"), and when they return
  /// empty, the one left fills them.
  func testEmptyReturningOSDsAreRefilledAndNothingIsHidden() throws {
    let cluster = try TestCluster(mons: 1, osds: 3, extra: Self.fast)
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "rp", "16", "--size", "3"]).0, 0)
    try waitClean(cluster, "new pool")
    let objecter = try Objecter(config: try cluster.config())
    defer { objecter.shutdown() }
    let io = try IoCtx(objecter: objecter, pool: "rp")
    try write(io, 0..<40)
    try kill9(cluster, "osd.0")
    try write(io, 40..<80)  // acknowledged by the two left (min_size 2)
    try cluster.restart("loligo-osd", id: "0")
    try waitClean(cluster, "osd.0 back empty")
    verify(io, 0..<80, "after osd.0 returned empty")
    try assertScrubClean(cluster, "after osd.0 returned empty")

    try kill9(cluster, "osd.1")
    try kill9(cluster, "osd.2")
    sleep(3)
    let get = try cluster.loligo(
      [
        "-p", "rp", "get", "o1", cluster.directory.appendingPathComponent("got").path,
        "--set", "client_op_timeout=3",
      ], timeout: 30)
    XCTAssertNotEqual(get.0, 0, "read served with one copy below min_size")
    XCTAssertFalse((get.1 + get.2).lowercased().contains("no such"), get.2)
    try cluster.restart("loligo-osd", id: "1")
    try cluster.restart("loligo-osd", id: "2")
    try waitClean(cluster, "osd.1 and osd.2 back empty")
    verify(io, 0..<80, "after two OSDs returned empty")
    try assertScrubClean(cluster, "after two OSDs returned empty")
  }

  /// Durable stores: kill -9 of the primary of a PG while writes to it are in flight. The
  /// writes it had not acknowledged are resent by the clients; none is applied twice (no
  /// request appears twice in any PG log) and every acknowledged one is there.
  func testKilledPrimaryResendsAreAppliedOnce() throws {
    let cluster = try TestCluster(
      mons: 1, osds: 3, extra: Self.fast + ["--objectstore", "durable"])
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "rp", "8", "--size", "3"]).0, 0)
    try waitClean(cluster, "new pool")
    let objecter = try Objecter(config: try cluster.config())
    defer { objecter.shutdown() }
    let io = try IoCtx(objecter: objecter, pool: "rp")
    let map = try XCTUnwrap(objecter.osdMap)
    let pool = try XCTUnwrap(map.poolID(named: "rp"))
    let victim = try XCTUnwrap(map.map(object: "o0", pool: pool).actingPrimary as Int32?)
    // Writes in flight, 16 at a time, while the primary of o0's PG dies.
    let record = AckedSet()
    let group = DispatchGroup()
    let total = 400
    let slots = DispatchSemaphore(value: 16)
    let victimPID = try XCTUnwrap(cluster.pid("osd.\(victim)"))
    DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { kill(victimPID, SIGKILL) }
    for n in 0..<total {
      slots.wait()
      group.enter()
      io.writeFull("o\(n % 40)", data: payload(n)) { result in
        if case .success = result { record.insert(n) }
        slots.signal()
        group.leave()
      }
      usleep(2000)
    }
    XCTAssertEqual(group.wait(timeout: .now() + 120), .success, "writes never finished")
    let acked = record.values
    XCTAssertGreaterThan(acked.count, total / 2)
    try cluster.restart("loligo-osd", id: "\(victim)")
    try waitClean(cluster, "osd.\(victim) restarted")
    // Each object holds one of the writes to it at or after its last acknowledged one.
    for object in 0..<40 {
      let writes = stride(from: object, to: total, by: 40).map { $0 }
      let lastAcked = writes.last { acked.contains($0) } ?? -1
      let got = try io.sync { io.read("o\(object)", completion: $0) }
      XCTAssertTrue(
        writes.contains { $0 >= lastAcked && payload($0) == got }, "o\(object) holds an older write"
      )
    }
    try assertScrubClean(cluster, "after the primary's restart")
    for pg in 0..<8 {
      let pgid = "\(pool).\(String(pg, radix: 16))"
      let (_, out, _) = try cluster.loligo(["pg", pgid, "query", "--format", "json"])
      XCTAssertEqual(jsonObject(out)["duplicate_requests"] as? String, "0", "\(pgid): \(out)")
    }
  }

  /// The monitor dies while a returned OSD is being refilled (which needs pg_temp from it);
  /// once it is back, recovery finishes and nothing is lost.
  func testMonitorKilledDuringRecovery() throws {
    let cluster = try TestCluster(mons: 1, osds: 3, extra: Self.fast)
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "rp", "16", "--size", "3"]).0, 0)
    try waitClean(cluster, "new pool")
    let objecter = try Objecter(config: try cluster.config())
    defer { objecter.shutdown() }
    let io = try IoCtx(objecter: objecter, pool: "rp")
    try write(io, 0..<200)
    try kill9(cluster, "osd.2")
    try write(io, 200..<260)
    try cluster.restart("loligo-osd", id: "2")
    usleep(300_000)
    try kill9(cluster, "mon.a")
    sleep(3)
    try cluster.restart("loligo-mon", id: "a")
    try waitClean(cluster, "monitor back during recovery")
    verify(io, 0..<260, "after the monitor's restart")
    try assertScrubClean(cluster, "after the monitor's restart")
  }
}

/// Writes acknowledged, from completion handlers on any thread.
final class AckedSet: @unchecked Sendable {  // `set` under `lock`
  private let lock = NSLock()
  private var set = Set<Int>()

  func insert(_ value: Int) { lock.withLock { _ = set.insert(value) } }
  var values: Set<Int> { lock.withLock { set } }
}
