import Foundation
import LoligoCore
import LoligoKV
import LoligoPlacement
import NIOCore
import XCTest

@testable import LoligoOSD

/// Data at rest is checked, the same way in both stores: bytes flipped where the store keeps
/// them fail the reads that cover their block (and only those), never come back as data, are
/// not laundered by later partial writes, and are gone once rewritten whole. With checksums
/// off nothing is checked. This class runs against memstore; `DurableStoreChecksumTests` runs
/// the same tests (and its own) against the durable store.
class StoreChecksumTests: XCTestCase {
  var directory: URL!
  let pg = PGID(pool: 1, seed: 0x2a)
  let block = 4096

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "csum-\(UUID().uuidString.prefix(8))")
  }

  override func tearDown() { try? FileManager.default.removeItem(at: directory) }

  func makeStore(_ checksums: StoreChecksums = .default) throws -> any ObjectStore {
    MemStore(checksums: checksums)
  }

  func bytes(_ n: Int, seed: UInt8) -> [UInt8] {
    (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed) &+ $0 >> 9) }
  }

  func tx(_ ops: StoreTransaction.Operation...) -> StoreTransaction {
    var t = StoreTransaction()
    for op in ops { t.append(op) }
    return t
  }

  func read(_ store: any ObjectStore, _ o: ObjectID, _ offset: Int = 0, _ length: Int? = nil)
    throws -> [UInt8]
  {
    Array(
      try store.read(pg, o, offset: UInt64(offset), length: length.map(UInt64.init))
        .readableBytesView)
  }

  /// The read fails as corrupt, with a message naming the object (and `offset`, if given).
  func assertCorrupt(
    _ store: any ObjectStore, _ o: ObjectID, _ offset: Int, _ length: Int?, at damaged: Int? = nil,
    _ message: String = "", line: UInt = #line
  ) {
    XCTAssertThrowsError(
      try store.read(pg, o, offset: UInt64(offset), length: length.map(UInt64.init)), message,
      line: line
    ) { error in
      guard case .corrupt(let why) = error as? StoreError else {
        return XCTFail("\(error) is not corrupt \(message)", line: line)
      }
      XCTAssertTrue(why.contains(o.name), why, line: line)
      if let damaged { XCTAssertTrue(why.contains("offset \(damaged)"), why, line: line) }
    }
  }

  /// Objects of a few sizes (inline and file-backed in the durable store), written without a
  /// known crc, so each has block crcs.
  func sizes() -> [Int] { [40_000, 300_000] }

  func testFlippedBytesFailTheirBlockOnly() throws {
    let store = try makeStore()
    defer { store.close() }
    try store.apply(tx(.createCollection(pg)))
    for size in sizes() {
      let o = ObjectID("flip\(size)")
      let data = bytes(size, seed: 3)
      try store.apply(tx(.writeFull(pg, o, data: ByteBuffer(bytes: data))))
      let damage = try store.injectDataError(pg, o, offset: 5000)
      XCTAssertEqual(damage.kind, "data")
      XCTAssertEqual(damage.offset, 5000)
      XCTAssertEqual(damage.length, 4)
      assertCorrupt(store, o, 0, nil, at: 4096, "whole read, size \(size)")
      assertCorrupt(store, o, 5000, 4, at: 4096, "the flipped bytes")
      assertCorrupt(store, o, 4000, 200, at: 4096, "a read across blocks 0 and 1")
      // Part of the block, away from the flipped bytes: the whole block is verified.
      assertCorrupt(store, o, 4096, 10, at: 4096, "the start of the damaged block")
      assertCorrupt(store, o, 8000, 100, at: 4096, "the end of the damaged block")
      // Other blocks still read.
      XCTAssertEqual(try read(store, o, 0, 4096), Array(data[0..<4096]))
      XCTAssertEqual(try read(store, o, 8192, 20_000), Array(data[8192..<28_192]))
      XCTAssertEqual(try read(store, o, size - 10), Array(data[(size - 10)...]))
      XCTAssertEqual(try store.stat(pg, o).size, UInt64(size), "metadata is fine")
      // Rewritten whole: clean again.
      try store.apply(tx(.writeFull(pg, o, data: ByteBuffer(bytes: data))))
      XCTAssertEqual(try read(store, o), data)
    }
    // Past the end, or an object that is not there: clear errors, nothing damaged.
    XCTAssertThrowsError(try store.injectDataError(pg, ObjectID("flip40000"), offset: 40_000)) {
      XCTAssertEqual(($0 as? StoreError)?.code, -22, "\($0)")
    }
    XCTAssertThrowsError(try store.injectDataError(pg, ObjectID("nope"), offset: 0)) {
      XCTAssertEqual($0 as? StoreError, .noSuchObject(ObjectID("nope")))
    }
  }

  /// The last bytes of an object that ends mid-block: the short block is checked too, and a
  /// flip at the very end (fewer than 4 bytes left) flips what there is.
  func testShortLastBlock() throws {
    let store = try makeStore()
    defer { store.close() }
    let o = ObjectID("short")
    let data = bytes(70_001, seed: 5)
    try store.apply(tx(.createCollection(pg), .writeFull(pg, o, data: ByteBuffer(bytes: data))))
    XCTAssertEqual(try store.injectDataError(pg, o, offset: 70_000).length, 1)
    assertCorrupt(store, o, 69_632, nil, at: 69_632)
    XCTAssertEqual(try read(store, o, 0, 69_632), Array(data[0..<69_632]))
  }

  /// Writes after the damage: one covering the damaged block whole repairs it; one covering
  /// part of it leaves the block failing (the surviving damaged bytes must not be vouched
  /// for by a fresh crc); writes elsewhere leave other blocks readable; a truncate that keeps
  /// part of the damaged block keeps it failing, one that cuts it off leaves a clean object.
  func testWritesAfterDamage() throws {
    let store = try makeStore()
    defer { store.close() }
    try store.apply(tx(.createCollection(pg)))
    for size in sizes() {
      let o = ObjectID("after\(size)")
      var data = bytes(size, seed: 9)
      try store.apply(tx(.writeFull(pg, o, data: ByteBuffer(bytes: data))))
      _ = try store.injectDataError(pg, o, offset: 5000)

      let far = bytes(3000, seed: 1)
      try store.apply(tx(.write(pg, o, offset: 20_000, data: ByteBuffer(bytes: far))))
      data.replaceSubrange(20_000..<23_000, with: far)
      XCTAssertEqual(try read(store, o, 16_384, 12_288), Array(data[16_384..<28_672]))
      assertCorrupt(store, o, 0, nil, at: 4096, "a write elsewhere repairs nothing")

      let part = bytes(100, seed: 2)
      try store.apply(tx(.write(pg, o, offset: 6000, data: ByteBuffer(bytes: part))))
      data.replaceSubrange(6000..<6100, with: part)
      assertCorrupt(store, o, 6000, 100, at: 4096, "part of the block rewritten, size \(size)")

      let whole = bytes(4096, seed: 4)
      try store.apply(tx(.write(pg, o, offset: 4096, data: ByteBuffer(bytes: whole))))
      data.replaceSubrange(4096..<8192, with: whole)
      XCTAssertEqual(try read(store, o), data, "the block rewritten whole, size \(size)")

      _ = try store.injectDataError(pg, o, offset: 12_300)
      try store.apply(tx(.truncate(pg, o, size: 13_000)))
      assertCorrupt(store, o, 0, nil, at: 12_288, "a truncate keeping part of the damage")
      try store.apply(tx(.truncate(pg, o, size: 12_290)))
      assertCorrupt(store, o, 12_288, nil, at: 12_288, "cut inside the damaged bytes")
      try store.apply(tx(.truncate(pg, o, size: 12_288)))
      XCTAssertEqual(try read(store, o), Array(data[0..<12_288]), "cut before the damage")
      try store.apply(tx(.truncate(pg, o, size: 20_000)))
      XCTAssertEqual(
        try read(store, o), Array(data[0..<12_288]) + [UInt8](repeating: 0, count: 7712))
    }
  }

  /// Writes of every shape (partial, spanning, appends, sparse, growing and shrinking
  /// truncates, several in one commit) keep the crcs true: every read of every range verifies
  /// and returns the model's bytes, and whole reads come with the crc of what they return.
  func testCRCsFollowEveryKindOfWrite() throws {
    let store = try makeStore()
    defer { store.close() }
    try store.apply(tx(.createCollection(pg)))
    var generator = SeededGenerator(seed: 42)
    for round in 0..<3 {
      let o = ObjectID("model\(round)")
      var model: [UInt8] = []
      for step in 0..<60 {
        var t = StoreTransaction()
        // A few changes per transaction, a few transactions per commit.
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
          let choice = Int.random(in: 0..<10, using: &generator)
          let scale = [100, 5000, 70_000, 200_000][Int.random(in: 0..<4, using: &generator)]
          if choice < 5 {
            let offset = Int.random(in: 0...(model.count + scale / 4), using: &generator)
            let data = bytes(Int.random(in: 1...scale, using: &generator), seed: UInt8(step))
            t.append(.write(pg, o, offset: UInt64(offset), data: ByteBuffer(bytes: data)))
            if model.count < offset + data.count {
              model += [UInt8](repeating: 0, count: offset + data.count - model.count)
            }
            model.replaceSubrange(offset..<offset + data.count, with: data)
          } else if choice < 8 {
            let size = Int.random(in: 0...(model.count + scale), using: &generator)
            t.append(.truncate(pg, o, size: UInt64(size)))
            model =
              size <= model.count
              ? Array(model[0..<size]) : model + [UInt8](repeating: 0, count: size - model.count)
          } else if choice < 9 {
            model = bytes(Int.random(in: 0...scale, using: &generator), seed: UInt8(step))
            t.append(.writeFull(pg, o, data: ByteBuffer(bytes: model)))
          } else {
            let data = bytes(Int.random(in: 1...scale, using: &generator), seed: UInt8(step))
            t.append(.write(pg, o, offset: UInt64(model.count), data: ByteBuffer(bytes: data)))
            model += data
          }
        }
        if step % 3 == 2 {
          try store.apply(t)
        } else {
          store.submit(t) { _ in }  // committed with the next ones, in order
          continue
        }
        XCTAssertEqual(try read(store, o), model, "round \(round) step \(step)")
        let (whole, crc) = try store.readWithCRC(pg, o, offset: 0, length: nil)
        if let crc { XCTAssertEqual(crc, CRC32C.checksum(whole, seed: 0xFFFF_FFFF)) }
        for _ in 0..<5 where !model.isEmpty {
          let offset = Int.random(in: 0..<model.count, using: &generator)
          let length = Int.random(in: 1...(model.count - offset), using: &generator)
          XCTAssertEqual(
            try read(store, o, offset, length), Array(model[offset..<offset + length]),
            "round \(round) step \(step) \(offset)+\(length)")
        }
      }
    }
  }

  /// Block-aligned reads come with the crc of their bytes (no second pass in the messenger).
  func testAlignedReadsComeWithTheirCRC() throws {
    let store = try makeStore()
    defer { store.close() }
    let o = ObjectID("aligned")
    let data = bytes(300_001, seed: 6)
    try store.apply(tx(.createCollection(pg), .writeFull(pg, o, data: ByteBuffer(bytes: data))))
    for (offset, length) in [(0, nil), (0, 300_001), (8192, 16_384), (294_912, nil)]
      as [(Int, Int?)]
    {
      let (bytes, crc) = try store.readWithCRC(
        pg, o, offset: UInt64(offset), length: length.map(UInt64.init))
      XCTAssertEqual(crc, CRC32C.checksum(bytes, seed: 0xFFFF_FFFF), "\(offset)")
    }
  }

  func testChecksumsOffCheckNothing() throws {
    let store = try makeStore(.off)
    defer { store.close() }
    let o = ObjectID("unchecked")
    var data = bytes(300_000, seed: 7)
    try store.apply(tx(.createCollection(pg), .writeFull(pg, o, data: ByteBuffer(bytes: data))))
    _ = try store.injectDataError(pg, o, offset: 5000)
    for at in 5000..<5004 { data[at] ^= 0xFF }
    XCTAssertEqual(try read(store, o), data, "served as it is: that is what none means")
    // Written with the messenger's crc: a crc handed on with the read describes what it
    // returns (else the client would take the reply for a damaged frame).
    let given = ByteBuffer(bytes: bytes(300_000, seed: 8))
    try store.apply(
      tx(.writeFull(pg, o, data: given, crc: CRC32C.checksum(given, seed: 0xFFFF_FFFF))))
    _ = try store.injectDataError(pg, o, offset: 7)
    let (served, crc) = try store.readWithCRC(pg, o, offset: 0, length: nil)
    XCTAssertNotEqual(served, given)
    if let crc { XCTAssertEqual(crc, CRC32C.checksum(served, seed: 0xFFFF_FFFF)) }
  }

  /// Attributes keep their own crc; a damaged one is an error, not a wrong version.
  func testMetadataDamageIsAClearError() throws {
    let store = try makeStore()
    defer { store.close() }
    let o = ObjectID("meta")
    try store.apply(
      tx(
        .createCollection(pg), .writeFull(pg, o, data: ByteBuffer(bytes: bytes(9000, seed: 1))),
        .setXattr(pg, o, name: "_v", value: ByteBuffer(bytes: bytes(12, seed: 2)))))
    XCTAssertEqual(try store.injectMetadataError(pg, o).kind, "metadata")
    XCTAssertThrowsError(try store.xattr(pg, o, "_v")) {
      guard case .corrupt = $0 as? StoreError else { return XCTFail("\($0)") }
    }
    XCTAssertThrowsError(try store.xattrs(pg, o))
    XCTAssertThrowsError(try store.injectMetadataError(pg, ObjectID("nope")))
    // Replaced whole (a repair): readable again.
    try store.apply(
      tx(
        .remove(pg, o), .writeFull(pg, o, data: ByteBuffer(bytes: bytes(9000, seed: 1))),
        .setXattr(pg, o, name: "_v", value: ByteBuffer(bytes: bytes(12, seed: 2)))))
    XCTAssertEqual(try store.xattr(pg, o, "_v"), ByteBuffer(bytes: bytes(12, seed: 2)))
    XCTAssertEqual(try read(store, o), bytes(9000, seed: 1))
  }

  /// A whole object written with the messenger's crc: a whole read verifies and hands on that
  /// crc. Memstore keeps only that crc, so once the object is damaged where is unknown and
  /// every read of it fails; the durable store has block crcs and fails only the damaged block.
  func testWholeObjectCRCFastPath() throws {
    let store = try makeStore()
    defer { store.close() }
    let o = ObjectID("fast")
    let data = ByteBuffer(bytes: bytes(1 << 20, seed: 8))
    let crc = CRC32C.checksum(data, seed: 0xFFFF_FFFF)
    try store.apply(tx(.createCollection(pg), .writeFull(pg, o, data: data, crc: crc)))
    XCTAssertEqual(try store.readWithCRC(pg, o, offset: 0, length: nil).crc, crc)
    XCTAssertEqual(
      try read(store, o, 4096, 100), Array(data.readableBytesView)[4096..<4196].map { $0 })
    _ = try store.injectDataError(pg, o, offset: 500_000)
    assertCorrupt(store, o, 0, nil)
    try store.apply(tx(.writeFull(pg, o, data: data, crc: crc)))
    _ = try store.injectDataError(pg, o, offset: 500_000)
    if store is MemStore {
      assertCorrupt(store, o, 0, 100, "block crcs worked out from a crc the data no longer has")
    } else {
      XCTAssertEqual(try read(store, o, 0, 100), Array(data.readableBytesView.prefix(100)))
    }
    // A partial write must not vouch for the damage: block crcs worked out at that point
    // are checked against the whole crc first.
    try store.apply(tx(.writeFull(pg, o, data: data, crc: crc)))
    _ = try store.injectDataError(pg, o, offset: 500_000)
    try store.apply(tx(.write(pg, o, offset: 10, data: ByteBuffer(bytes: [1, 2, 3]))))
    assertCorrupt(store, o, 0, nil, "a partial write after the damage")
    assertCorrupt(store, o, 499_712, 4096, "the damaged block after a partial write")
  }
}

final class DurableStoreChecksumTests: StoreChecksumTests {
  override func makeStore(_ checksums: StoreChecksums = .default) throws -> any ObjectStore {
    try durable(checksums)
  }

  func durable(_ checksums: StoreChecksums = .default) throws -> DurableStore {
    if !FileManager.default.fileExists(atPath: directory.path + "/meta") {
      try DurableStore.mkfs(directory: directory.path)
    }
    return try DurableStore(directory: directory.path, checksums: checksums)
  }

  /// Damaged data survives a reopen as damaged (a clear error on read, no crash), and the
  /// checksum block is the object's own: reopening with another block size or with checksums
  /// off changes nothing for objects already written, only for those written whole after.
  func testDamageAndChecksumsAcrossReopen() throws {
    let o = ObjectID("kept")
    var data = bytes(300_000, seed: 2)
    do {
      let store = try durable()
      try store.apply(tx(.createCollection(pg), .writeFull(pg, o, data: ByteBuffer(bytes: data))))
      _ = try store.injectDataError(pg, o, offset: 100_000)
      store.close()
    }
    do {
      let store = try durable(.crc32c(blockSize: 65_536))
      assertCorrupt(store, o, 99_000, 10, at: 98_304, "4 KiB blocks as written")
      store.close()
    }
    do {
      let store = try durable(.off)
      for at in 100_000..<100_004 { data[at] ^= 0xFF }
      XCTAssertEqual(try read(store, o), data, "off: nothing checked")
      try store.apply(tx(.writeFull(pg, o, data: ByteBuffer(bytes: data))))  // no crcs kept
      _ = try store.injectDataError(pg, o, offset: 0)
      store.close()
    }
    for at in 0..<4 { data[at] ^= 0xFF }
    let store = try durable()
    defer { store.close() }
    XCTAssertEqual(try read(store, o), data, "written with checksums off: unchecked")
    try store.apply(tx(.write(pg, o, offset: 10, data: ByteBuffer(bytes: [1, 2, 3]))))
    data.replaceSubrange(10..<13, with: [1, 2, 3])
    XCTAssertEqual(try read(store, o), data, "a partial write keeps it unchecked")
    try store.apply(tx(.writeFull(pg, o, data: ByteBuffer(bytes: data))))
    _ = try store.injectDataError(pg, o, offset: 0)
    assertCorrupt(store, o, 0, nil, at: 0, "written whole with checksums on: checked")
  }

  /// A damaged object record fails every access of its object with a clear error, at once and
  /// after a reopen (which neither fails nor removes the file the record named); the object is
  /// replaced or removed like any other; other objects are untouched.
  func testDamagedRecord() throws {
    let o = ObjectID("record")
    let data = bytes(300_000, seed: 3)
    do {
      let store = try durable()
      try store.apply(
        tx(
          .createCollection(pg), .writeFull(pg, o, data: ByteBuffer(bytes: data)),
          .setXattr(pg, o, name: "_v", value: ByteBuffer(bytes: [1, 2, 3])),
          .writeFull(pg, ObjectID("other"), data: ByteBuffer(bytes: data))))
      let damage = try store.injectMetadataError(pg, o)
      XCTAssertEqual(damage.kind, "metadata")
      assertCorrupt(store, o, 0, nil)
      store.close()
    }
    let store = try durable()
    defer { store.close() }
    for access in [
      { _ = try store.read(self.pg, o, offset: 0, length: nil) },
      { _ = try store.stat(self.pg, o) }, { _ = try store.xattr(self.pg, o, "_v") },
      { _ = try store.omap(self.pg, o, keys: []) },
    ] as [() throws -> Void] {
      XCTAssertThrowsError(try access()) {
        guard case .corrupt(let why) = $0 as? StoreError else { return XCTFail("\($0)") }
        XCTAssertTrue(why.contains("object record of record"), why)
      }
    }
    XCTAssertEqual(try read(store, ObjectID("other")), data)
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: directory.path + "/data").count, 2,
      "the damaged record's file is kept")
    // Partial changes leave it damaged; a whole write replaces it.
    try store.apply(tx(.write(pg, o, offset: 5, data: ByteBuffer(bytes: [9]))))
    try store.apply(tx(.truncate(pg, o, size: 10), .touch(pg, o)))
    assertCorrupt(store, o, 0, nil)
    try store.apply(tx(.remove(pg, o), .writeFull(pg, o, data: ByteBuffer(bytes: data))))
    XCTAssertEqual(try read(store, o), data)
    try store.apply(tx(.remove(pg, o)))
    XCTAssertThrowsError(try store.stat(pg, o)) {
      XCTAssertEqual($0 as? StoreError, .noSuchObject(o))
    }
  }

  /// Record bytes flipped, cut short or extended at random: every read either returns the
  /// right bytes or fails as corrupt, never other bytes, never a crash.
  func testFuzzedRecordsNeverReadAsData() throws {
    let store = try durable()
    defer { store.close() }
    try store.apply(tx(.createCollection(pg)))
    var generator = SeededGenerator(seed: 7)
    for size in [0, 100, 40_000, 300_000] {
      let o = ObjectID("fuzz\(size)")
      let data = bytes(size, seed: 4)
      try store.apply(tx(.writeFull(pg, o, data: ByteBuffer(bytes: data))))
      let key = DurableStoreKeys.object(pg, o)
      let good = try XCTUnwrap(try store.db.get(key))
      for trial in 0..<150 {
        var bad = good
        switch trial % 3 {
        case 0:
          for _ in 0..<Int.random(in: 1...3, using: &generator) {
            bad[Int.random(in: 0..<bad.count, using: &generator)] ^=
              UInt8.random(in: 1...255, using: &generator)
          }
        case 1: bad = Array(bad.prefix(Int.random(in: 0..<bad.count, using: &generator)))
        default: bad += (0..<Int.random(in: 1...9, using: &generator)).map { _ in 0x5A }
        }
        var t = KVTransaction()
        t.put(key, bad)
        try store.db.apply(t, sync: false)
        do {
          let got = try read(store, o)
          XCTAssertEqual(got, data, "size \(size) trial \(trial): wrong bytes served")
        } catch StoreError.corrupt {
        }
        _ = try? store.stat(pg, o)
        _ = try? store.usage(pg)
      }
      var t = KVTransaction()
      t.put(key, good)
      try store.db.apply(t, sync: false)
      XCTAssertEqual(try read(store, o), data)
    }
    // Attribute and omap values carry their own crc.
    let o = ObjectID("fuzz100")
    try store.apply(
      tx(
        .setXattr(pg, o, name: "_v", value: ByteBuffer(bytes: [1, 2, 3, 4])),
        .setOmap(pg, o, ["k": ByteBuffer(bytes: [5, 6])])))
    for (kind, name) in [(DurableStoreKeys.AttrKind.xattr, "_v"), (.omap, "k")] {
      let key = DurableStoreKeys.attr(pg, o, kind: kind, name)
      var value = try XCTUnwrap(try store.db.get(key))
      value[value.count - 1] ^= 1
      var t = KVTransaction()
      t.put(key, value)
      try store.db.apply(t, sync: true)
    }
    XCTAssertThrowsError(try store.xattr(pg, o, "_v"))
    XCTAssertThrowsError(try store.omap(pg, o, keys: ["k"]))
  }

  /// A store that cannot be used is a clear error at start, never a crash.
  func testDamagedStoreAtMount() throws {
    func opening(_ expected: String, _ damage: () throws -> Void, line: UInt = #line) throws {
      try? FileManager.default.removeItem(at: directory)
      try DurableStore.mkfs(directory: directory.path)
      try damage()
      XCTAssertThrowsError(try DurableStore(directory: directory.path), line: line) {
        XCTAssertTrue("\($0)".contains(expected), "\($0)", line: line)
      }
    }
    func put(_ key: [UInt8], _ value: [UInt8]?) throws {
      let db = try RocksDB(path: directory.path + "/meta")
      var t = KVTransaction()
      if let value { t.put(key, value) } else { t.delete(key) }
      try db.apply(t, sync: true)
      db.close()
    }
    try opening("file counter is damaged") { try put(DurableStoreKeys.nextFileID, [1, 2, 3]) }
    try opening("no file counter") { try put(DurableStoreKeys.nextFileID, nil) }
    try opening("deferred-write counter is damaged") {
      try put(DurableStoreKeys.nextDeferred, [1])
    }
    try opening("format 1 (no checksums)") { try put(DurableStoreKeys.format, nil) }
    try opening("format 7") { try put(DurableStoreKeys.format, DurableStoreKeys.fileCounter(7)) }
    try opening("missing or not a directory") {
      try FileManager.default.removeItem(atPath: directory.path + "/data")
    }
    try opening("cannot open") {
      let meta = directory.path + "/meta"
      for name in try FileManager.default.contentsOfDirectory(atPath: meta)
      where name == "CURRENT" || name.hasPrefix("MANIFEST") {
        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: meta + "/" + name))
      }
    }
    try opening("mkfs") { try FileManager.default.removeItem(atPath: directory.path + "/meta") }
  }

  /// A truncate and a write in one transaction: the write lands after the truncation, also
  /// when the file is cut after the commit.
  func testTruncateThenWriteInOneCommit() throws {
    let store = try durable()
    defer { store.close() }
    let o = ObjectID("cut")
    let data = bytes(200_000, seed: 1)
    try store.apply(tx(.createCollection(pg), .writeFull(pg, o, data: ByteBuffer(bytes: data))))
    let patch = bytes(5000, seed: 2)
    try store.apply(
      tx(.truncate(pg, o, size: 10), .write(pg, o, offset: 100, data: ByteBuffer(bytes: patch))))
    let expected = Array(data[0..<10]) + [UInt8](repeating: 0, count: 90) + patch
    XCTAssertEqual(try read(store, o), expected)
    store.close()
    let reopened = try durable()
    defer { reopened.close() }
    XCTAssertEqual(try read(reopened, o), expected)
  }
}
