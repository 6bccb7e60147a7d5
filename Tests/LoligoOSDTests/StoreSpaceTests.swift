import Foundation
import LoligoCore
import LoligoPlacement
import NIOCore
import XCTest

@testable import LoligoOSD

/// What the stores say of their space, how an OSD's durable store stops at its first failed
/// transaction (nothing after it reaches the disk), and a durable store on a device that runs
/// out of space: ENOSPC, never a wedge, and every committed byte still there.
final class StoreSpaceTests: XCTestCase {
  let pg = PGID(pool: 1, seed: 3)

  func tx(_ ops: StoreTransaction.Operation...) -> StoreTransaction {
    var t = StoreTransaction()
    for op in ops { t.append(op) }
    return t
  }

  func data(_ n: Int, seed: UInt8 = 1) -> ByteBuffer {
    ByteBuffer(bytes: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) })
  }

  func temporaryDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "space-\(UUID().uuidString.prefix(8))")
  }

  func testMemStoreCountsTheDataItHolds() throws {
    let store = MemStore(capacity: 10 << 20)
    XCTAssertEqual(store.space(), StoreSpace(total: 10 << 20, available: 10 << 20))
    try store.apply(tx(.createCollection(pg), .writeFull(pg, ObjectID("a"), data: data(1 << 20))))
    try store.apply(tx(.write(pg, ObjectID("b"), offset: 1000, data: data(1000))))
    XCTAssertEqual(store.space().used, (1 << 20) + 2000)
    try store.apply(tx(.truncate(pg, ObjectID("a"), size: 100)))
    XCTAssertEqual(store.space().used, 100 + 2000)
    try store.apply(tx(.remove(pg, ObjectID("b"))))
    XCTAssertEqual(store.space().used, 100)
    try store.apply(tx(.writeFull(pg, ObjectID("c"), data: data(5 << 20))))
    XCTAssertEqual(store.space().ratio, Double(100 + (5 << 20)) / Double(10 << 20))
    try store.apply(tx(.removeCollection(pg)))
    XCTAssertEqual(store.space().used, 0)
    XCTAssertEqual(StoreSpace(total: 100, available: 500).available, 100, "never above total")
    XCTAssertEqual(StoreSpace(total: 0, available: 0).ratio, 0)
  }

  func testDurableStoreReportsItsFileSystem() throws {
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try DurableStore.mkfs(directory: directory.path)
    let store = try DurableStore(directory: directory.path)
    defer { store.close() }
    var fs = statvfs()
    XCTAssertEqual(statvfs(directory.path, &fs), 0)
    let space = store.space()
    XCTAssertEqual(space.total, UInt64(fs.f_blocks) * UInt64(fs.f_frsize))
    XCTAssertGreaterThan(space.available, 0)
    XCTAssertLessThanOrEqual(space.available, space.total)
  }

  /// The OSD's mode: the failed transaction and every one after it fail with the same error
  /// and none of them is on disk; those before it are.
  func testAnOSDsStoreStopsAtItsFirstFailure() throws {
    let directory = temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    try DurableStore.mkfs(directory: directory.path)
    do {
      let store = try DurableStore(directory: directory.path, stopAtFirstFailure: true)
      try store.apply(tx(.createCollection(pg), .writeFull(pg, ObjectID("before"), data: data(10))))
      // Submitted together, so they share a commit pass: the failure stops the ones after it.
      let results = Results()
      store.submit(tx(.writeFull(pg, ObjectID("first"), data: data(20)))) { results.add(0, $0) }
      store.submit(tx(.writeFull(PGID(pool: 9, seed: 9), ObjectID("x"), data: data(1)))) {
        results.add(1, $0)
      }
      store.submit(tx(.writeFull(pg, ObjectID("after"), data: data(30)))) { results.add(2, $0) }
      let outcome = results.wait(3).mapValues { result -> StoreError? in
        if case .failure(let error) = result { return error }
        return nil
      }
      XCTAssertEqual(outcome[1], .noSuchCollection(PGID(pool: 9, seed: 9)))
      XCTAssertEqual(outcome[2], outcome[1], "after a failure nothing commits")
      XCTAssertEqual(store.stoppedBy, .noSuchCollection(PGID(pool: 9, seed: 9)))
      XCTAssertThrowsError(try store.apply(tx(.writeFull(pg, ObjectID("later"), data: data(1)))))
      // What was before the failure (in its pass or not) is as durable as ever.
      XCTAssertEqual(outcome[0], .some(nil))
      XCTAssertEqual(try store.read(pg, ObjectID("first"), offset: 0, length: nil), data(20))
      store.close()
    }
    let reopened = try DurableStore(directory: directory.path, stopAtFirstFailure: true)
    defer { reopened.close() }
    XCTAssertEqual(try reopened.read(pg, ObjectID("before"), offset: 0, length: nil), data(10))
    for name in ["after", "later"] {
      XCTAssertThrowsError(try reopened.read(pg, ObjectID(name), offset: 0, length: nil)) {
        XCTAssertEqual($0 as? StoreError, .noSuchObject(ObjectID(name)))
      }
    }
    XCTAssertNil(reopened.stoppedBy, "a new mount starts afresh")
    // Each on its own (tools, tests): a failure stops nothing.
    let plain = try DurableStore(directory: temporaryDirectoryWithStore())
    defer { plain.close() }
    XCTAssertThrowsError(try plain.apply(tx(.writeFull(pg, ObjectID("x"), data: data(1)))))
    try plain.apply(tx(.createCollection(pg), .writeFull(pg, ObjectID("y"), data: data(1))))
    XCTAssertNil(plain.stoppedBy)
  }

  func temporaryDirectoryWithStore() throws -> String {
    let directory = temporaryDirectory()
    addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    try DurableStore.mkfs(directory: directory.path)
    return directory.path
  }

  /// A durable store on an 8 MiB tmpfs filled past its end: the write that does not fit fails
  /// with ENOSPC (not EIO), the store never wedges (mounted again, it serves every committed
  /// byte, deletes free space and writes fit again).
  func testAFullDeviceIsENOSPCAndNothingCommittedIsLost() throws {
    let mount = temporaryDirectory()
    try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
    guard Self.system("/bin/mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mount.path]) == 0
    else {
      try? FileManager.default.removeItem(at: mount)
      throw XCTSkip("mounting a tmpfs is not permitted here (needs root): no device to fill")
    }
    defer {
      Self.system("/bin/umount", [mount.path])
      try? FileManager.default.removeItem(at: mount)
    }
    let path = mount.appendingPathComponent("store").path
    try DurableStore.mkfs(directory: path)
    var written: [String] = []
    var failure: StoreError?
    do {
      let store = try DurableStore(directory: path, stopAtFirstFailure: true)
      try store.apply(tx(.createCollection(pg)))
      for n in 0..<40 {
        do {
          try store.apply(tx(.writeFull(pg, ObjectID("o\(n)"), data: data(512 << 10, seed: 3))))
          written.append("o\(n)")
        } catch {
          failure = error
          break
        }
      }
      store.close()
    }
    guard case .noSpace(let why)? = failure else {
      return XCTFail("filling 8 MiB gave \(String(describing: failure)) after \(written.count)")
    }
    XCTAssertEqual(failure?.code, -28, why)
    XCTAssertGreaterThan(written.count, 3)
    let store = try DurableStore(directory: path, stopAtFirstFailure: true)
    defer { store.close() }
    for name in written {
      XCTAssertEqual(
        try store.read(pg, ObjectID(name), offset: 0, length: nil), data(512 << 10, seed: 3))
    }
    for name in written { try store.apply(tx(.remove(pg, ObjectID(name)))) }
    try store.apply(tx(.writeFull(pg, ObjectID("again"), data: data(1 << 20, seed: 4))))
    XCTAssertEqual(
      try store.read(pg, ObjectID("again"), offset: 0, length: nil), data(1 << 20, seed: 4))
  }

  @discardableResult
  static func system(_ path: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
  }
}

/// Commit results by index, waited for off the commit thread.
private final class Results: @unchecked Sendable {  // `values` under `condition`
  private let condition = NSCondition()
  private var values: [Int: Result<Void, StoreError>] = [:]

  func add(_ index: Int, _ result: Result<Void, StoreError>) {
    condition.lock()
    values[index] = result
    condition.broadcast()
    condition.unlock()
  }

  func wait(_ count: Int) -> [Int: Result<Void, StoreError>] {
    condition.lock()
    defer { condition.unlock() }
    while values.count < count { condition.wait() }
    return values
  }
}
