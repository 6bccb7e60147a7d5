import Foundation
import LoligoCore
import LoligoOSD
import LoligoPlacement
import NIOCore
import XCTest

/// The same behaviour from both stores.
class ObjectStoreBehaviour: XCTestCase {
  var directory: URL!
  let pg = PGID(pool: 1, seed: 0x2a)

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "os-\(UUID().uuidString.prefix(8))")
  }

  override func tearDown() { try? FileManager.default.removeItem(at: directory) }

  func makeStore() throws -> any ObjectStore { MemStore() }

  func bytes(_ n: Int, seed: UInt8) -> ByteBuffer {
    ByteBuffer(bytes: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) })
  }

  func tx(_ ops: StoreTransaction.Operation...) -> StoreTransaction {
    var t = StoreTransaction()
    for op in ops { t.append(op) }
    return t
  }

  func testWriteReadStatAcrossSizes() throws {
    let store = try makeStore()
    defer { store.close() }
    try store.apply(tx(.createCollection(pg)))
    for (index, size) in [0, 1, 4096, 65536, 65537, 1 << 20].enumerated() {
      let o = ObjectID("obj\(index)")
      let data = bytes(size, seed: UInt8(index))
      try store.apply(tx(.writeFull(pg, o, data: data)))
      XCTAssertEqual(try store.stat(pg, o).size, UInt64(size))
      XCTAssertEqual(try store.read(pg, o, offset: 0, length: nil), data, "size \(size)")
      if size > 10 {
        XCTAssertEqual(
          try store.read(pg, o, offset: 3, length: 5), data.getSlice(at: 3, length: 5))
      }
      XCTAssertEqual(try store.read(pg, o, offset: UInt64(size) + 10, length: 4).readableBytes, 0)
    }
  }

  func testOffsetWritesExtendWithZerosAndCrossTheInlineLimit() throws {
    let store = try makeStore()
    defer { store.close() }
    let o = ObjectID("grow", namespace: "ns")
    try store.apply(tx(.createCollection(pg), .write(pg, o, offset: 10, data: bytes(5, seed: 1))))
    var expected = [UInt8](repeating: 0, count: 10) + Array(bytes(5, seed: 1).readableBytesView)
    XCTAssertEqual(Array(try store.read(pg, o, offset: 0, length: nil).readableBytesView), expected)
    // Grow past 64 KiB in pieces, then overwrite the middle.
    for step in 0..<20 {
      let piece = bytes(8192, seed: UInt8(step))
      try store.apply(tx(.write(pg, o, offset: UInt64(expected.count), data: piece)))
      expected += Array(piece.readableBytesView)
    }
    let middle = bytes(100, seed: 99)
    try store.apply(tx(.write(pg, o, offset: 70_000, data: middle)))
    expected.replaceSubrange(70_000..<70_100, with: Array(middle.readableBytesView))
    XCTAssertEqual(Array(try store.read(pg, o, offset: 0, length: nil).readableBytesView), expected)
    try store.apply(tx(.truncate(pg, o, size: 1000)))
    XCTAssertEqual(
      Array(try store.read(pg, o, offset: 0, length: nil).readableBytesView),
      Array(expected.prefix(1000)))
    try store.apply(tx(.truncate(pg, o, size: 1500)))
    XCTAssertEqual(
      Array(try store.read(pg, o, offset: 0, length: nil).readableBytesView),
      Array(expected.prefix(1000)) + [UInt8](repeating: 0, count: 500))
  }

  func testAttributesOmapRemoveAndList() throws {
    let store = try makeStore()
    defer { store.close() }
    try store.apply(tx(.createCollection(pg)))
    for name in ["b", "a", "c"] { try store.apply(tx(.touch(pg, ObjectID(name)))) }
    // Listed in ObjectID's (hash) order, not by name: here a, c, b.
    let order = ["a", "b", "c"].map { ObjectID($0) }.sorted()
    XCTAssertEqual(order.map(\.name), ["a", "c", "b"])
    XCTAssertEqual(try store.list(pg, after: nil, limit: 10), order)
    XCTAssertEqual(try store.list(pg, after: order[0], limit: 1), [order[1]])
    let o = ObjectID("a")
    try store.apply(
      tx(
        .setXattr(pg, o, name: "user.x", value: ByteBuffer(string: "1")),
        .setOmap(pg, o, ["k1": ByteBuffer(string: "v1"), "k2": ByteBuffer(string: "v2")])))
    XCTAssertEqual(try store.xattr(pg, o, "user.x"), ByteBuffer(string: "1"))
    XCTAssertEqual(try store.omap(pg, o, keys: []).count, 2)
    XCTAssertEqual(try store.omap(pg, o, keys: ["k2"]), ["k2": ByteBuffer(string: "v2")])
    try store.apply(tx(.removeXattr(pg, o, name: "user.x"), .removeOmapKeys(pg, o, ["k1"])))
    XCTAssertThrowsError(try store.xattr(pg, o, "user.x"))
    XCTAssertEqual(Array(try store.omap(pg, o, keys: []).keys), ["k2"])
    try store.apply(tx(.remove(pg, o)))
    XCTAssertThrowsError(try store.stat(pg, o)) {
      XCTAssertEqual($0 as? StoreError, .noSuchObject(o))
    }
    XCTAssertEqual(try store.list(pg, after: nil, limit: 10), order.filter { $0 != o })
    try store.apply(tx(.remove(pg, o)))  // removing a missing object is harmless
  }

  func testFailingTransactionChangesNothing() throws {
    let store = try makeStore()
    defer { store.close() }
    let other = PGID(pool: 9, seed: 1)
    try store.apply(tx(.createCollection(pg)))
    XCTAssertThrowsError(
      try store.apply(
        tx(.writeFull(pg, ObjectID("x"), data: bytes(10, seed: 1)), .touch(other, ObjectID("y")))))
    XCTAssertThrowsError(try store.stat(pg, ObjectID("x")), "first op must not be applied")
    XCTAssertThrowsError(try store.apply(tx(.createCollection(pg))))
    XCTAssertEqual(try store.collections(), [pg])
    try store.apply(tx(.touch(pg, ObjectID("z")), .removeCollection(pg)))
    XCTAssertEqual(try store.collections(), [])
    XCTAssertThrowsError(try store.read(pg, ObjectID("z"), offset: 0, length: nil))
  }

  /// An offset whose end would pass 2^64 is refused like any write past the size limit (the
  /// end's arithmetic must not overflow: offsets come from peers).
  func testWriteAtAnOffsetNear2To64IsRefused() throws {
    let store = try makeStore()
    defer { store.close() }
    try store.apply(tx(.createCollection(pg)))
    let offsets: [UInt64] = [.max, .max - 1, 1 << 63]
    for offset in offsets {
      XCTAssertThrowsError(
        try store.apply(
          tx(.write(pg, ObjectID("far"), offset: offset, data: bytes(4, seed: 1), crc: nil))))
    }
    XCTAssertThrowsError(try store.stat(pg, ObjectID("far")))
  }

  /// A crc that comes with a read is the crc of the bytes it returns: the one given with a
  /// whole-object write until a change alters the bytes, then (with block checksums) one folded
  /// from the new bytes' block crcs. Stores may also not know it at all.
  func testKnownCRCFollowsTheBytes() throws {
    let store = try makeStore()
    defer { store.close() }
    try store.apply(tx(.createCollection(pg)))
    let o = ObjectID("crc")
    let data = bytes(100_000, seed: 9)
    let crc = CRC32C.checksum(data, seed: CRC32C.segmentSeed)
    func known(offset: UInt64 = 0, length: UInt64? = nil) throws -> UInt32? {
      let (read, known) = try store.readWithCRC(pg, o, offset: offset, length: length)
      if let known { XCTAssertEqual(known, CRC32C.checksum(read, seed: CRC32C.segmentSeed)) }
      return known
    }
    try store.apply(tx(.writeFull(pg, o, data: data, crc: crc)))
    if store.kind == "memstore" { XCTAssertEqual(try known(), crc) }
    XCTAssertNil(try known(offset: 1))
    XCTAssertNil(try known(length: 10))
    try store.apply(tx(.write(pg, o, offset: 10, data: bytes(5, seed: 1))))
    // With block checksums the crc of the new bytes is known (folded from them); a crc from
    // before would fail the check in `known`.
    XCTAssertNotEqual(try known(), crc, "a partial write changes it")
    try store.apply(tx(.write(pg, o, offset: 0, data: data, crc: crc)))
    if store.kind == "memstore" { XCTAssertEqual(try known(), crc, "a whole write sets it") }
    try store.apply(tx(.truncate(pg, o, size: 50)))
    XCTAssertNotEqual(try known(), crc, "truncate changes it")
  }
}

final class MemStoreTests: ObjectStoreBehaviour {}

final class DurableStoreTests: ObjectStoreBehaviour {
  override func makeStore() throws -> any ObjectStore {
    if !FileManager.default.fileExists(atPath: directory.path + "/meta") {
      try DurableStore.mkfs(directory: directory.path)
    }
    return try DurableStore(directory: directory.path)
  }

  func testContentSurvivesReopenAndMkfsRefusesExisting() throws {
    var store: (any ObjectStore)? = try makeStore()
    try store!.apply(
      tx(.createCollection(pg), .writeFull(pg, ObjectID("big"), data: bytes(200_000, seed: 3))))
    try store!.apply(tx(.writeFull(pg, ObjectID("small"), data: bytes(100, seed: 4))))
    store!.close()
    store = nil
    XCTAssertThrowsError(try DurableStore.mkfs(directory: directory.path))
    let reopened = try makeStore()
    defer { reopened.close() }
    XCTAssertEqual(
      try reopened.read(pg, ObjectID("big"), offset: 0, length: nil), bytes(200_000, seed: 3))
    XCTAssertEqual(
      try reopened.read(pg, ObjectID("small"), offset: 0, length: nil), bytes(100, seed: 4))
  }

  func testMissingStoreIsAClearError() {
    XCTAssertThrowsError(try DurableStore(directory: directory.path)) {
      XCTAssertTrue("\($0)".contains("mkfs"), "\($0)")
    }
  }

  /// Every write acknowledged before a kill -9 is there after reopening. The writer is this
  /// test bundle run again as a child process (see `testChildWriter`).
  func testAcknowledgedWritesSurviveKill9() throws {
    try DurableStore.mkfs(directory: directory.path)
    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["LoligoOSDTests.DurableStoreTests/testChildWriter"]
    child.environment = ProcessInfo.processInfo.environment.merging(
      ["LOLIGO_STORE_CHILD": directory.path]) { $1 }
    let pipe = Pipe()
    child.standardOutput = pipe
    child.standardError = FileHandle.nullDevice
    try child.run()
    // Let it commit for a while, then kill it mid-stream.
    var acked: [Int] = []
    var text = ""
    let deadline = Date().addingTimeInterval(30)
    while acked.count < 300 && Date() < deadline {
      text += String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
      acked = text.split(separator: "\n").compactMap {
        $0.hasPrefix("acked ") ? Int($0.dropFirst(6)) : nil
      }
    }
    kill(child.processIdentifier, SIGKILL)
    child.waitUntilExit()
    text += String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    acked = text.split(separator: "\n").compactMap {
      $0.hasPrefix("acked ") ? Int($0.dropFirst(6)) : nil
    }
    XCTAssertGreaterThanOrEqual(acked.count, 300, "child wrote too little")
    let store = try DurableStore(directory: directory.path)
    defer { store.close() }
    for n in acked {
      let expected = DurableStoreTests.payload(n)
      XCTAssertEqual(
        try store.read(pg, ObjectID("o\(n)"), offset: 0, length: nil), expected, "object \(n) lost")
    }
  }

  static func payload(_ n: Int) -> ByteBuffer {
    // Alternate small (inline) and large (file) objects.
    let size = n % 3 == 0 ? 70_000 + n : 4096
    return ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &+ n) })
  }

  /// Runs only as the child of `testAcknowledgedWritesSurviveKill9`.
  func testChildWriter() throws {
    guard let path = ProcessInfo.processInfo.environment["LOLIGO_STORE_CHILD"] else { return }
    let store = try DurableStore(directory: path)
    try store.apply(tx(.createCollection(pg)))
    let out = FileHandle.standardOutput
    for n in 0..<1_000_000 {
      store.submit(tx(.writeFull(pg, ObjectID("o\(n)"), data: DurableStoreTests.payload(n)))) {
        result in
        if case .success = result { out.write(Data("acked \(n)\n".utf8)) }
      }
      if n % 8 == 7 { usleep(1000) }
    }
  }
}
