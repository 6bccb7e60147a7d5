import Foundation
import LoligoPlacement
import NIOCore

/// An ordered list of changes applied together or not at all.
public struct StoreTransaction: Sendable {
  public enum Operation: Sendable {
    case createCollection(PGID)
    /// Creates the collection unless it exists.
    case ensureCollection(PGID)
    case removeCollection(PGID)
    /// Removes every object of the collection but `except` (a backfill starts over, keeping the
    /// PG's own metadata object).
    case removeObjects(PGID, except: ObjectID)
    /// Creates the object if needed; leaves its data alone.
    case touch(PGID, ObjectID)
    /// Writes `data` at `offset`, extending the object (zero-filled) as needed. `crc` as for
    /// `writeFull` (of use when the write covers the whole object).
    case write(PGID, ObjectID, offset: UInt64, data: ByteBuffer, crc: UInt32? = nil)
    /// Replaces the whole content. `crc`, when known, is crc32c (seed -1) of `data`; a store
    /// may keep it to answer whole-object reads without computing it again.
    case writeFull(PGID, ObjectID, data: ByteBuffer, crc: UInt32? = nil)
    case truncate(PGID, ObjectID, size: UInt64)
    case remove(PGID, ObjectID)
    case setXattr(PGID, ObjectID, name: String, value: ByteBuffer)
    case removeXattr(PGID, ObjectID, name: String)
    case setOmap(PGID, ObjectID, [String: ByteBuffer])
    case removeOmapKeys(PGID, ObjectID, [String])
  }

  public private(set) var operations: [Operation] = []
  /// Bytes of data this transaction carries (for throttles).
  public private(set) var dataBytes = 0

  public init() {}

  public var isEmpty: Bool { operations.isEmpty }

  public mutating func append(_ operation: Operation) {
    switch operation {
    case .write(_, _, _, let data, _), .writeFull(_, _, let data, _):
      dataBytes += data.readableBytes
    case .setXattr(_, _, _, let value): dataBytes += value.readableBytes
    case .setOmap(_, _, let values): dataBytes += values.values.reduce(0) { $0 + $1.readableBytes }
    default: break
    }
    operations.append(operation)
  }

  public mutating func append(contentsOf other: StoreTransaction) {
    for operation in other.operations { append(operation) }
  }
}

/// Waits for one commit callback (off the event loops).
final class CommitWaiter: @unchecked Sendable {  // `result` under `condition`
  private let condition = NSCondition()
  private var result: Result<Void, StoreError>?

  func finish(_ value: Result<Void, StoreError>) {
    condition.lock()
    result = value
    condition.broadcast()
    condition.unlock()
  }

  func wait() -> Result<Void, StoreError> {
    condition.lock()
    while result == nil { condition.wait() }
    let value = result!
    condition.unlock()
    return value
  }
}
