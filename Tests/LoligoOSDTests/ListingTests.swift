import Foundation
import LoligoMessages
import LoligoPlacement
import NIOCore
import XCTest

@testable import LoligoOSD

/// A listing served while the copy has objects to recover: it names what exists but is not
/// here yet and leaves out what is here but must go, page by page, without waiting.
final class ListingTests: XCTestCase {
  func names(
    _ store: MemStore, after cursor: String?, limit: UInt64, missing: [String], removed: [String]
  )
    throws -> [String]
  {
    let pg = PGID(pool: 1, seed: 0)
    let op = OSDOperation(code: .listObjects, offset: 0, length: limit, name: cursor ?? "")
    let (results, data, code, _) = OSDOpExecution.reads(
      [op], payloads: [ByteBuffer()], pg: pg, object: ObjectID(""), store: store,
      listing: (Set(missing.map { ObjectID($0) }), Set(removed.map { ObjectID($0) })))
    XCTAssertEqual(code, 0)
    XCTAssertEqual(results.count, 1)
    var buffer = data
    let count = try XCTUnwrap(buffer.readInteger(endianness: .little, as: UInt32.self))
    return try (0..<count).map { _ in try buffer.readCephString(limit: 4096) }
  }

  func testMissingObjectsAreListedAndRemovedOnesAreNot() throws {
    let store = MemStore()
    let pg = PGID(pool: 1, seed: 0)
    var t = StoreTransaction()
    t.append(.createCollection(pg))
    for name in ["a", "b", "c", "d"] { t.append(.touch(pg, ObjectID(name))) }
    t.append(.touch(pg, PGStore.metaObject))
    try store.apply(t)
    let missing = ["bb", "z"]
    let removed = ["b", "d"]
    // Listings walk a PG in Ceph's hash order (ObjectID's order), not by name.
    func ordered(_ names: [String]) -> [String] {
      names.sorted { ObjectID($0) < ObjectID($1) }
    }
    let listed = ordered(["a", "bb", "c", "z"])
    XCTAssertEqual(
      try names(store, after: nil, limit: 10, missing: missing, removed: removed), listed)
    // Pages of two: nothing skipped, nothing twice.
    XCTAssertEqual(
      try names(store, after: nil, limit: 2, missing: missing, removed: removed),
      Array(listed[0..<2]))
    XCTAssertEqual(
      try names(store, after: listed[1], limit: 2, missing: missing, removed: removed),
      Array(listed[2..<4]))
    XCTAssertEqual(
      try names(store, after: listed[3], limit: 2, missing: missing, removed: removed), [])
    // Nothing to recover: the store's names, as before.
    XCTAssertEqual(
      try names(store, after: nil, limit: 3, missing: [], removed: []),
      Array(ordered(["a", "b", "c", "d"])[0..<3]))
  }
}
