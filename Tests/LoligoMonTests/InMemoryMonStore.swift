import LoligoConsensus
import NIOCore
import Synchronization

/// The monitor store in memory, for the simulation and tests. It outlives a simulated crash
/// (only the core's memory is lost), like a real store on disk. Copy-on-write dictionaries make
/// `snapshot()` cheap.
public final class InMemoryMonStore: MonStore {
  private let state = Mutex(InMemoryMonStoreContents())

  public init() {}

  public func get(prefix: String, key: String) -> ByteBuffer? {
    state.withLock { $0.get(prefix: prefix, key: key) }
  }

  public func scan(prefix: String, after: String?, limit: Int) -> [MonStoreEntry] {
    state.withLock { $0.scan(prefix: prefix, after: after, limit: limit) }
  }

  public func snapshot() -> any MonStoreReader {
    state.withLock { $0 }
  }

  public func apply(_ transaction: MonStoreTransaction) {
    state.withLock { $0.apply(transaction) }
  }

  /// Every key, for test assertions.
  public var contents: InMemoryMonStoreContents {
    state.withLock { $0 }
  }

  /// Number of keys held, for test assertions on trimming.
  public var keyCount: Int {
    state.withLock { $0.prefixes.values.reduce(0) { $0 + $1.count } }
  }
}

/// The plain value behind `InMemoryMonStore`; also what its snapshots are.
public struct InMemoryMonStoreContents: MonStoreReader, Equatable {
  public var prefixes: [String: [String: ByteBuffer]] = [:]

  public init() {}

  public func get(prefix: String, key: String) -> ByteBuffer? {
    prefixes[prefix]?[key]
  }

  public func scan(prefix: String, after: String?, limit: Int) -> [MonStoreEntry] {
    guard let keys = prefixes[prefix], limit > 0 else { return [] }
    var selected = keys.keys.filter { key in
      guard let after else { return true }
      return after.utf8.lexicographicallyPrecedes(key.utf8)
    }
    selected.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    return selected.prefix(limit).map { MonStoreEntry(key: $0, value: keys[$0]!) }
  }

  public func snapshot() -> any MonStoreReader { self }

  public mutating func apply(_ transaction: MonStoreTransaction) {
    for op in transaction.ops {
      switch op {
      case .put(let prefix, let key, let value):
        prefixes[prefix, default: [:]][key] = value
      case .delete(let prefix, let key):
        prefixes[prefix]?[key] = nil
        if prefixes[prefix]?.isEmpty == true { prefixes[prefix] = nil }
      case .deletePrefix(let prefix):
        prefixes[prefix] = nil
      }
    }
  }
}
