import Foundation
import LoligoKV
import XCTest

final class RocksDBTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("loligo-kv-\(UUID())")
  }

  override func tearDown() {
    try? FileManager.default.removeItem(at: directory)
  }

  func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

  func testTransactionsAreAtomicAndDurableAcrossReopen() throws {
    var db: RocksDB? = try RocksDB(path: directory.path, options: .init(createIfMissing: true))
    var t = KVTransaction()
    t.put(bytes("paxos/1"), bytes("one"))
    t.put(bytes("paxos/2"), bytes("two"))
    t.put(bytes("other"), bytes("x"))
    try db!.apply(t, sync: true)
    var d = KVTransaction()
    d.delete(bytes("paxos/1"))
    d.put(bytes("paxos/3"), bytes("three"))
    try db!.apply(d, sync: true)
    db = nil  // closes
    let reopened = try RocksDB(path: directory.path)
    XCTAssertNil(try reopened.get(bytes("paxos/1")))
    XCTAssertEqual(try reopened.get(bytes("paxos/2")), bytes("two"))
    let scanned = try reopened.scan(prefix: bytes("paxos/"))
    XCTAssertEqual(scanned.map { String(decoding: $0.key, as: UTF8.self) }, ["paxos/2", "paxos/3"])
    var range = KVTransaction()
    range.deleteRange(from: bytes("paxos/"), to: bytes("paxos0"))
    try reopened.apply(range, sync: false)
    XCTAssertEqual(try reopened.scan(prefix: bytes("paxos/")).count, 0)
    XCTAssertEqual(try reopened.get(bytes("other")), bytes("x"))
  }

  func testMissingStoreIsAClearError() {
    XCTAssertThrowsError(try RocksDB(path: directory.path)) { error in
      XCTAssertTrue("\(error)".contains("cannot open store"), "\(error)")
    }
  }

  func testMkfsRefusesAnExistingStore() throws {
    _ = try RocksDB(path: directory.path, options: .init(createIfMissing: true))
    XCTAssertThrowsError(
      try RocksDB(path: directory.path, options: .init(createIfMissing: true, errorIfExists: true)))
  }

  func testCorruptStoreIsRefused() throws {
    do {
      let db = try RocksDB(path: directory.path, options: .init(createIfMissing: true))
      var t = KVTransaction()
      t.put(bytes("k"), bytes("v"))
      try db.apply(t, sync: true)
    }
    // Overwrite the manifest pointer with garbage.
    try "garbage\n".write(
      to: directory.appendingPathComponent("CURRENT"), atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try RocksDB(path: directory.path))
  }

  func testClosedHandleThrows() throws {
    let db = try RocksDB(path: directory.path, options: .init(createIfMissing: true))
    db.close()
    XCTAssertThrowsError(try db.get(bytes("k")))
  }
}
