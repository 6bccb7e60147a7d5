import Foundation
import LoligoCore
import LoligoPlacement
import NIOCore
import XCTest

@testable import LoligoOSD

/// A crash at any point of a commit leaves every object as the last committed transaction left
/// it: overwrites of file-backed objects never touch committed bytes before their batch is
/// durable, and overwrites committed but not yet applied to their files are replayed at mount.
final class DurableStoreCrashTests: XCTestCase {
  var directory: URL!
  let pg = PGID(pool: 1, seed: 7)
  let object = ObjectID("big")

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "crash-\(UUID().uuidString.prefix(8))")
    try DurableStore.mkfs(directory: directory.path)
  }

  override func tearDown() { try? FileManager.default.removeItem(at: directory) }

  func bytes(_ n: Int, seed: UInt8) -> [UInt8] {
    (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ Int(seed)) }
  }

  func apply(_ store: DurableStore, _ ops: StoreTransaction.Operation...) throws {
    var t = StoreTransaction()
    for op in ops { t.append(op) }
    try store.apply(t)
  }

  func read(_ store: DurableStore) throws -> [UInt8] {
    Array(try store.read(pg, object, offset: 0, length: nil).readableBytesView)
  }

  func testAFailedCommitLeavesCommittedBytesAsTheyWere() throws {
    var expected = bytes(300_000, seed: 1)
    do {
      let store = try DurableStore(directory: directory.path)
      try apply(
        store, .createCollection(pg), .writeFull(pg, object, data: ByteBuffer(bytes: expected)))
      // A committed partial overwrite (deferred, then applied) reads back right.
      let patch = bytes(5000, seed: 2)
      try apply(store, .write(pg, object, offset: 1000, data: ByteBuffer(bytes: patch)))
      expected.replaceSubrange(1000..<6000, with: patch)
      XCTAssertEqual(try read(store), expected)
      // Now every commit dies after its file writes: nothing may change what is committed.
      store.failBeforeCommit = true
      for op: StoreTransaction.Operation in [
        .writeFull(pg, object, data: ByteBuffer(bytes: bytes(280_000, seed: 3))),
        .write(pg, object, offset: 0, data: ByteBuffer(bytes: bytes(4096, seed: 4))),
        .write(pg, object, offset: 299_000, data: ByteBuffer(bytes: bytes(9000, seed: 5))),
        .write(pg, object, offset: 0, data: ByteBuffer(bytes: bytes(310_000, seed: 6))),
        .truncate(pg, object, size: 400_000),
      ] {
        XCTAssertThrowsError(try apply(store, op))
        XCTAssertEqual(try read(store), expected, "\(op) changed committed bytes")
      }
      store.close()
    }
    let reopened = try DurableStore(directory: directory.path)
    defer { reopened.close() }
    XCTAssertEqual(try read(reopened), expected)
    XCTAssertEqual(try reopened.stat(pg, object).size, UInt64(expected.count))
  }

  func testOverwritesCommittedButNotAppliedAreReplayedAtMount() throws {
    var expected = bytes(200_000, seed: 7)
    do {
      let store = try DurableStore(directory: directory.path)
      try apply(
        store, .createCollection(pg), .writeFull(pg, object, data: ByteBuffer(bytes: expected)))
      store.stopAfterCommit = true
      let first = bytes(3000, seed: 8)
      let second = bytes(100_000, seed: 9)  // overlaps the first and grows the object
      XCTAssertThrowsError(
        try apply(store, .write(pg, object, offset: 500, data: ByteBuffer(bytes: first))))
      XCTAssertThrowsError(
        try apply(store, .write(pg, object, offset: 150_000, data: ByteBuffer(bytes: second))))
      expected.replaceSubrange(500..<3500, with: first)
      expected.replaceSubrange(150_000..<200_000, with: second[0..<50_000])
      expected += second[50_000...]
      store.close()
    }
    let reopened = try DurableStore(directory: directory.path)
    defer { reopened.close() }
    XCTAssertEqual(try read(reopened), expected, "replayed in order at mount")
    // A growing truncate then reads as zeros past the old end, even over stale file bytes.
    try apply(reopened, .truncate(pg, object, size: 10))
    try apply(reopened, .truncate(pg, object, size: 20_000))
    XCTAssertEqual(
      try read(reopened), Array(expected[0..<10]) + [UInt8](repeating: 0, count: 19_990))
  }
}
