import Foundation
import NIOCore

/// Reads every object of the dataset back once the load has stopped and checks each block:
/// it must hold the last version the load had acknowledged for it (version 0, the prefill's,
/// if none), or a later one whose write failed (its outcome is unknown). An older version,
/// other bytes, a short object or a missing one is an acknowledged write lost.
public struct RecoveryVerification: Encodable, Sendable {
  /// Objects read, and objects that could not be read (missing, or a read error).
  public var objectsRead = 0
  public var objectsUnreadable = 0
  /// Blocks checked; blocks holding their last acknowledged version; blocks holding a version
  /// whose write failed (accepted: the client was never told it was not written).
  public var blocks = 0
  public var blocksCurrent = 0
  public var blocksUnacknowledgedVersion = 0
  /// Blocks whose last acknowledged write is not there (in unreadable objects too).
  public var blocksLost = 0
  public var seconds: Double = 0
  /// Up to 10 lost blocks, `object@offset: what was found`.
  public var examples: [String] = []

  public init() {}

  public var passed: Bool { blocksLost == 0 && objectsUnreadable == 0 && blocks > 0 }

  enum CodingKeys: String, CodingKey {
    case blocks, seconds, examples, passed
    case objectsRead = "objects_read"
    case objectsUnreadable = "objects_unreadable"
    case blocksCurrent = "blocks_current"
    case blocksUnacknowledgedVersion = "blocks_unacknowledged_version"
    case blocksLost = "blocks_lost"
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(objectsRead, forKey: .objectsRead)
    try c.encode(objectsUnreadable, forKey: .objectsUnreadable)
    try c.encode(blocks, forKey: .blocks)
    try c.encode(blocksCurrent, forKey: .blocksCurrent)
    try c.encode(blocksUnacknowledgedVersion, forKey: .blocksUnacknowledgedVersion)
    try c.encode(blocksLost, forKey: .blocksLost)
    try c.encode(seconds, forKey: .seconds)
    try c.encode(examples, forKey: .examples)
    try c.encode(passed, forKey: .passed)
  }

  /// Reads the dataset with `concurrency` reads in flight and checks it against `load`.
  public static func run(
    io: any ObjectIO, dataset: RecoveryDataset, load: RecoveryLoad.Outcome, concurrency: Int
  ) -> RecoveryVerification {
    let started = Date()
    let slots = DispatchSemaphore(value: concurrency)
    let group = DispatchGroup()
    let total = Total()
    let versions = Versions(acknowledged: load.acknowledgedVersions, sent: load.sentVersions)
    for object in 0..<dataset.objects {
      slots.wait()
      group.enter()
      io.read(RecoveryDataset.name(object), offset: 0, length: UInt64(dataset.objectSize)) {
        read in
        // Checked outside the lock: comparing is the costly part.
        total.add(check(read, object: object, dataset: dataset, versions: versions))
        slots.signal()
        group.leave()
      }
    }
    group.wait()
    var result = total.value
    result.seconds = Date().timeIntervalSince(started)
    return result
  }

  /// The load's versions, shared read-only by the completions.
  private struct Versions: Sendable {
    let acknowledged: [UInt32]
    let sent: [UInt32]
  }

  /// The sum of the objects' checks, added to from completions on any thread.
  private final class Total: @unchecked Sendable {
    private let lock = NSLock()
    private var sum = RecoveryVerification()

    func add(_ other: RecoveryVerification) { lock.withLock { sum.add(other) } }
    var value: RecoveryVerification { lock.withLock { sum } }
  }

  private static func check(
    _ read: Result<ByteBuffer, ObjectIOError>, object: Int, dataset: RecoveryDataset,
    versions: Versions
  ) -> RecoveryVerification {
    var checked = RecoveryVerification()
    let name = RecoveryDataset.name(object)
    checked.blocks = dataset.blocksPerObject
    guard case .success(let data) = read else {
      if case .failure(let error) = read { checked.examples = ["\(name): \(error)"] }
      checked.objectsUnreadable = 1
      checked.blocksLost = dataset.blocksPerObject
      return checked
    }
    checked.objectsRead = 1
    let bytes = data.readableBytesView
    for block in 0..<dataset.blocksPerObject {
      let index = object * dataset.blocksPerObject + block
      let offset = block * dataset.blockSize
      let acknowledged = versions.acknowledged[index]
      let sent = versions.sent[index]
      guard offset + dataset.blockSize <= bytes.count else {
        checked.blocksLost += 1
        if checked.examples.isEmpty {
          checked.examples.append("\(name)@\(offset): the object is \(bytes.count) bytes")
        }
        continue
      }
      let start = bytes.index(bytes.startIndex, offsetBy: offset)
      let slice = bytes[start..<(start + dataset.blockSize)]
      if dataset.matches(slice, object: object, block: block, version: acknowledged) {
        checked.blocksCurrent += 1
      } else if acknowledged < sent,
        ((acknowledged + 1)...sent).contains(where: {
          dataset.matches(slice, object: object, block: block, version: $0)
        })
      {
        checked.blocksUnacknowledgedVersion += 1
      } else {
        checked.blocksLost += 1
        if checked.examples.count < 10 {
          let older = (0..<acknowledged).last {
            dataset.matches(slice, object: object, block: block, version: $0)
          }
          checked.examples.append(
            "\(name)@\(offset): "
              + (older.map { "version \($0) instead of \(acknowledged)" }
                ?? "not version \(acknowledged) nor any earlier one"))
        }
      }
    }
    return checked
  }

  private mutating func add(_ other: RecoveryVerification) {
    objectsRead += other.objectsRead
    objectsUnreadable += other.objectsUnreadable
    blocks += other.blocks
    blocksCurrent += other.blocksCurrent
    blocksUnacknowledgedVersion += other.blocksUnacknowledgedVersion
    blocksLost += other.blocksLost
    examples += other.examples.prefix(max(0, 10 - examples.count))
  }
}
