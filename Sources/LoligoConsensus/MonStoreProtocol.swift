import LoligoCore
import NIOCore

/// One change inside a `MonStoreTransaction`.
public enum MonStoreOp: Sendable, Equatable {
  case put(prefix: String, key: String, value: ByteBuffer)
  case delete(prefix: String, key: String)
  /// Removes every key of `prefix` (a full sync clears the prefixes it is about to copy).
  case deletePrefix(String)
}

/// Puts and deletes applied atomically and in order: after a crash the store holds either all
/// of them or none. The consensus core emits one per step at most (`MonOutput.store`).
public struct MonStoreTransaction: Sendable, Equatable {
  public var ops: [MonStoreOp]

  public init(ops: [MonStoreOp] = []) {
    self.ops = ops
  }

  public var isEmpty: Bool { ops.isEmpty }

  /// Payload bytes (keys and values), for accounting.
  public var byteCount: Int {
    ops.reduce(0) { total, op in
      switch op {
      case .put(let prefix, let key, let value):
        return total + prefix.utf8.count + key.utf8.count + value.readableBytes
      case .delete(let prefix, let key):
        return total + prefix.utf8.count + key.utf8.count
      case .deletePrefix(let prefix):
        return total + prefix.utf8.count
      }
    }
  }
}

/// Read side of the monitor store, which the consensus core reads synchronously (the way
/// etcd's raft reads its `Storage`). The core never writes through it: every change leaves the
/// core as a `MonStoreTransaction` output.
///
/// Contract for implementations (in memory for the simulation, RocksDB in the daemon):
/// - Before the core's next `step`, every transaction it returned must have been applied, so
///   reads see it (it need not be synced yet; syncing is ordered by the output list).
/// - Keys within a prefix are ordered bytewise by their UTF-8 bytes (RocksDB's default
///   comparator), which `scan` follows.
public protocol MonStoreReader: Sendable {
  func get(prefix: String, key: String) -> ByteBuffer?
  /// Up to `limit` entries of `prefix` whose key sorts after `after` (from the first key when
  /// `after` is nil), in ascending key order.
  func scan(prefix: String, after: String?, limit: Int) -> [MonStoreEntry]
  /// A read-only, point-in-time view that later transactions do not change. Sync providers
  /// keep one across many steps so the copy they stream is consistent (a RocksDB snapshot).
  func snapshot() -> any MonStoreReader
}

/// A whole store: the reader plus atomic application of transactions. The daemon and the
/// simulation apply the core's transactions through this; the core itself only reads.
public protocol MonStore: MonStoreReader {
  func apply(_ transaction: MonStoreTransaction) throws
}

public struct MonStoreEntry: Sendable, Equatable {
  public var key: String
  public var value: ByteBuffer

  public init(key: String, value: ByteBuffer) {
    self.key = key
    self.value = value
  }
}

extension MonStoreReader {
  public func getUInt64(prefix: String, key: String) -> UInt64 {
    get(prefix: prefix, key: key)?.littleEndianUInt64 ?? 0
  }
}
