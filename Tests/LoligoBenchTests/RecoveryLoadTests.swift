import Foundation
import LoligoBench
import NIOCore
import XCTest

/// The recovery benchmark's dataset, client load and read-back against an in-memory pool:
/// every block must read back at its last acknowledged version, and a block that went back to
/// an older version, changed bytes or a missing object must be reported as lost.
final class RecoveryLoadTests: XCTestCase {
  /// 8 objects of 4 blocks of 64 bytes.
  let dataset = RecoveryDataset(objects: 8, objectSize: 256, blockSize: 64)

  func pool() -> InMemoryObjectIO {
    InMemoryObjectIO(delivery: .queue(DispatchQueue(label: "recovery-load-test")))
  }

  /// Prefills `io`, runs the load until at least `ops` writes were acknowledged, stops it.
  func runLoad(_ io: any ObjectIO, ops: UInt64, concurrency: Int = 4) throws
    -> RecoveryLoad.Outcome
  {
    _ = try RecoveryPrefill.run(io: io, dataset: dataset, concurrency: concurrency)
    let recorder = LoadLatencyRecorder()
    let load = RecoveryLoad(io: io, dataset: dataset, concurrency: concurrency, recorder: recorder)
    load.start()
    var seen: UInt64 = 0
    let deadline = Date().addingTimeInterval(20)
    while seen < ops && load.failure == nil && Date() < deadline {
      usleep(1000)
      seen += recorder.take().latency.count
    }
    return try XCTUnwrap(load.finish(timeout: 10), "the load stops")
  }

  func verify(_ io: any ObjectIO, _ outcome: RecoveryLoad.Outcome) -> RecoveryVerification {
    RecoveryVerification.run(io: io, dataset: dataset, load: outcome, concurrency: 3)
  }

  func block(object: Int, block: Int, version: UInt32) -> [UInt8] {
    var buffer = ByteBuffer()
    dataset.fill(&buffer, object: object, block: block, version: version)
    return Array(buffer.readableBytesView)
  }

  func testBlocksDifferByObjectIndexAndVersionAndAreReproducible() {
    let base = block(object: 1, block: 2, version: 3)
    XCTAssertEqual(base.count, 64)
    XCTAssertEqual(base, block(object: 1, block: 2, version: 3))
    XCTAssertNotEqual(base, block(object: 1, block: 2, version: 2))
    XCTAssertNotEqual(base, block(object: 1, block: 3, version: 3))
    XCTAssertNotEqual(base, block(object: 2, block: 2, version: 3))
    // The bytes scripts/ceph-reference/recovery-load.c writes for the same block.
    XCTAssertEqual(
      base.prefix(16).map { String(format: "%02x", $0) }.joined(),
      "a788ce9d808d5812257c6ab9f459a5b0")
    let odd = RecoveryDataset(objects: 1, objectSize: 13, blockSize: 13)
    var buffer = ByteBuffer()
    odd.fill(&buffer, object: 0, block: 0, version: 0)
    XCTAssertEqual(buffer.readableBytes, 13, "a block size that is not a multiple of 8")
    XCTAssertTrue(odd.matches(buffer.readableBytesView, object: 0, block: 0, version: 0))
    XCTAssertFalse(odd.matches(buffer.readableBytesView, object: 0, block: 0, version: 1))
  }

  func testEveryBlockReadsBackAtItsLastAcknowledgedVersion() throws {
    let io = pool()
    let outcome = try runLoad(io, ops: 2000)
    XCTAssertEqual(outcome.errors, 0)
    XCTAssertGreaterThanOrEqual(outcome.acknowledged, 2000)
    // Every acknowledged write moved exactly one block one version on.
    XCTAssertEqual(outcome.acknowledgedVersions.map(UInt64.init).reduce(0, +), outcome.acknowledged)
    XCTAssertEqual(outcome.acknowledgedVersions, outcome.sentVersions)
    XCTAssertTrue(outcome.acknowledgedVersions.allSatisfy { $0 > 0 }, "every block overwritten")
    XCTAssertEqual(io.count(.writeFull), dataset.objects, "the prefill writes each object whole")
    let result = verify(io, outcome)
    XCTAssertTrue(result.passed, "\(result.examples)")
    XCTAssertEqual(result.objectsRead, 8)
    XCTAssertEqual(result.blocks, 32)
    XCTAssertEqual(result.blocksCurrent, 32)
    XCTAssertEqual(result.blocksLost, 0)
  }

  func testAnOlderVersionChangedBytesOrAnEmptyObjectAreLostWrites() throws {
    let io = pool()
    let outcome = try runLoad(io, ops: 500)
    // Object 3's block 1 goes back one version, object 5 has a byte changed, object 6 is empty.
    let index = 3 * dataset.blocksPerObject + 1
    let acknowledged = outcome.acknowledgedVersions[index]
    var three = try XCTUnwrap(io.bytes(RecoveryDataset.name(3)))
    three.replaceSubrange(64..<128, with: block(object: 3, block: 1, version: acknowledged - 1))
    io.put(RecoveryDataset.name(3), three)
    io.corrupt(RecoveryDataset.name(5), at: 200)
    io.put(RecoveryDataset.name(6), [])

    let result = verify(io, outcome)
    XCTAssertFalse(result.passed)
    XCTAssertEqual(result.blocksLost, 1 + 1 + 4, "\(result.examples)")
    XCTAssertEqual(result.blocksCurrent, 32 - 6)
    XCTAssertTrue(
      result.examples.contains(
        "\(RecoveryDataset.name(3))@64: version \(acknowledged - 1) instead of \(acknowledged)"),
      "\(result.examples)")
    XCTAssertTrue(
      result.examples.contains { $0.hasPrefix("\(RecoveryDataset.name(5))@192: not version") },
      "\(result.examples)")
    XCTAssertTrue(
      result.examples.contains { $0.hasPrefix("\(RecoveryDataset.name(6))@0: the object is 0") },
      "\(result.examples)")
  }

  func testAMissingObjectIsUnreadable() throws {
    let io = pool()
    let outcome = try runLoad(io, ops: 100)
    io.remove(RecoveryDataset.name(2)) { _ in }
    let deadline = Date().addingTimeInterval(5)
    while io.bytes(RecoveryDataset.name(2)) != nil && Date() < deadline { usleep(1000) }
    let result = verify(io, outcome)
    XCTAssertFalse(result.passed)
    XCTAssertEqual(result.objectsUnreadable, 1)
    XCTAssertEqual(result.objectsRead, 7)
    XCTAssertEqual(result.blocksLost, 4)
  }

  /// A write whose reply is an error may or may not have been applied: the load stops at it,
  /// and either content of its block passes.
  func testAWriteThatFailedEndsTheLoadAndMayOrMayNotBeThere() throws {
    for applied in [true, false] {
      let io = FailingWrite(base: pool(), failing: 300, applied: applied)
      let outcome = try runLoad(io, ops: 100_000)
      XCTAssertEqual(outcome.errors, 1)
      XCTAssertNotNil(outcome.firstError)
      XCTAssertEqual(
        outcome.sentVersions.map(UInt64.init).reduce(0, +), outcome.acknowledged + 1,
        "one write sent and not acknowledged")
      let result = verify(io, outcome)
      XCTAssertTrue(result.passed, "\(result.examples)")
      XCTAssertEqual(result.blocksUnacknowledgedVersion, applied ? 1 : 0)
      XCTAssertEqual(result.blocksCurrent, applied ? 31 : 32)
    }
  }

  /// Each block has one writer at a time, and a slot's consecutive writes go to different
  /// objects.
  func testWritesToABlockNeverOverlapAndASlotMovesFromObjectToObject() throws {
    let io = OverlapCheck(base: pool())
    let outcome = try runLoad(io, ops: 3000)
    XCTAssertEqual(outcome.errors, 0)
    XCTAssertEqual(io.maxPerBlock, 1)
    XCTAssertGreaterThan(io.maxInFlight, 1, "the load keeps several writes in flight")
    // Slot 0 owns objects 0 and 4 (4 slots, 8 objects): it alternates between them.
    let slot0 = io.firstObjects.filter {
      [RecoveryDataset.name(0), RecoveryDataset.name(4)].contains($0)
    }
    XCTAssertGreaterThan(slot0.count, 2)
    XCTAssertTrue(zip(slot0, slot0.dropFirst()).allSatisfy { $0 != $1 }, "\(slot0)")
  }
}

/// Passes everything through, except that write number `failing` (from 1) completes with an
/// error, after being applied or not.
final class FailingWrite: PassThroughIO, @unchecked Sendable {
  let failing: Int
  let applied: Bool
  private let lock = NSLock()
  private var writes = 0

  init(base: InMemoryObjectIO, failing: Int, applied: Bool) {
    self.failing = failing
    self.applied = applied
    super.init(base: base)
  }

  override func write(
    _ object: String, offset: UInt64, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    let number = lock.withLock {
      writes += 1
      return writes
    }
    guard number == failing else {
      return base.write(object, offset: offset, data: data, completion: completion)
    }
    let error = ObjectIOError(code: ObjectIOError.timedOutCode, message: "timed out")
    if applied {
      base.write(object, offset: offset, data: data) { _ in completion(.failure(error)) }
    } else {
      DispatchQueue.global().async { completion(.failure(error)) }
    }
  }
}

/// Passes everything through and records the writes in flight: per block at most, in all at
/// most, and the objects of the first writes.
final class OverlapCheck: PassThroughIO, @unchecked Sendable {
  private let lock = NSLock()
  private var perBlock: [String: Int] = [:]
  private var inFlight = 0
  private(set) var maxPerBlock = 0
  private(set) var maxInFlight = 0
  private(set) var firstObjects: [String] = []

  override func write(
    _ object: String, offset: UInt64, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    let key = "\(object)@\(offset)"
    lock.withLock {
      perBlock[key, default: 0] += 1
      inFlight += 1
      maxPerBlock = max(maxPerBlock, perBlock[key]!)
      maxInFlight = max(maxInFlight, inFlight)
      if firstObjects.count < 100 { firstObjects.append(object) }
    }
    base.write(object, offset: offset, data: data) { [self] result in
      lock.withLock {
        perBlock[key]! -= 1
        inFlight -= 1
      }
      completion(result)
    }
  }
}

/// Hands every call to an in-memory pool; the checks above override `write` only.
class PassThroughIO: ObjectIO, @unchecked Sendable {
  let base: InMemoryObjectIO

  init(base: InMemoryObjectIO) { self.base = base }

  func write(
    _ object: String, offset: UInt64, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) { base.write(object, offset: offset, data: data, completion: completion) }

  func writeFull(
    _ object: String, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) { base.writeFull(object, data: data, completion: completion) }

  func read(
    _ object: String, offset: UInt64, length: UInt64,
    completion: @escaping @Sendable (Result<ByteBuffer, ObjectIOError>) -> Void
  ) { base.read(object, offset: offset, length: length, completion: completion) }

  func remove(
    _ object: String, completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) { base.remove(object, completion: completion) }

  func list(
    prefix: String, completion: @escaping @Sendable (Result<[String], ObjectIOError>) -> Void
  ) { base.list(prefix: prefix, completion: completion) }
}
