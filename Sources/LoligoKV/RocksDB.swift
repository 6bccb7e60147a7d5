import CRocksDB
import Foundation
import NIOConcurrencyHelpers

/// A RocksDB database through its C API: the durable key-value store under the monitor's
/// MonStore and the OSD's object metadata.
///
/// Writes go through `KVTransaction`s, applied atomically (one write batch). `sync: true` makes
/// the write durable (WAL fsync) before `apply` returns: Paxos steps and acknowledged object
/// writes use it. The handle is thread-safe (RocksDB's own guarantee); `close` waits for no one,
/// so callers close after their last use.
// the handle is read and cleared under `lock`; RocksDB is thread-safe
public final class RocksDB: @unchecked Sendable {
  public let path: String
  private var db: OpaquePointer?
  private let options: OpaquePointer
  private let syncWrite: OpaquePointer
  private let asyncWrite: OpaquePointer
  private let read: OpaquePointer
  private let lock = NIOLock()

  public struct Options: Sendable {
    /// Create the database when the directory has none.
    public var createIfMissing = false
    /// Refuse to open an existing database (for mkfs).
    public var errorIfExists = false
    /// Bytes a memtable takes before it is flushed (RocksDB's write_buffer_size); nil for
    /// RocksDB's 64 MiB. The write-ahead log holds as much again until the flush.
    public var writeBufferSize: Int?
    public init(
      createIfMissing: Bool = false, errorIfExists: Bool = false, writeBufferSize: Int? = nil
    ) {
      self.createIfMissing = createIfMissing
      self.errorIfExists = errorIfExists
      self.writeBufferSize = writeBufferSize
    }
  }

  public init(path: String, options opts: Options = Options()) throws(KVError) {
    self.path = path
    // No fallocate: RocksDB would reserve a whole memtable's worth of log (and 4 MiB of
    // manifest) up front, space a small or shared file system does not have (tmpfs takes
    // it at once), and a full disk would then fail writes that fit. The C API has no setter
    // for allow_fallocate, only the options string.
    let base = rocksdb_options_create()
    options = rocksdb_options_create()
    var error: UnsafeMutablePointer<CChar>?
    rocksdb_get_options_from_string(base, "allow_fallocate=false", options, &error)
    rocksdb_options_destroy(base)
    _ = KVError.take(&error)  // a RocksDB without the option simply preallocates
    if let size = opts.writeBufferSize { rocksdb_options_set_write_buffer_size(options, size) }
    rocksdb_options_set_create_if_missing(options, opts.createIfMissing ? 1 : 0)
    rocksdb_options_set_error_if_exists(options, opts.errorIfExists ? 1 : 0)
    rocksdb_options_set_paranoid_checks(options, 1)
    // Small footprints: these stores hold maps and metadata, not bulk data.
    rocksdb_options_set_max_open_files(options, 256)
    rocksdb_options_set_keep_log_file_num(options, 2)
    syncWrite = rocksdb_writeoptions_create()
    rocksdb_writeoptions_set_sync(syncWrite, 1)
    asyncWrite = rocksdb_writeoptions_create()
    read = rocksdb_readoptions_create()
    rocksdb_readoptions_set_verify_checksums(read, 1)
    db = rocksdb_open(options, path, &error)
    if let message = KVError.take(&error) {
      // Every property is set, so deinit runs and frees the options.
      throw .open(path, message)
    }
  }

  deinit {
    close()
    rocksdb_options_destroy(options)
    rocksdb_writeoptions_destroy(syncWrite)
    rocksdb_writeoptions_destroy(asyncWrite)
    rocksdb_readoptions_destroy(read)
  }

  public func close() {
    lock.withLock {
      if let db { rocksdb_close(db) }
      db = nil
    }
  }

  func rawHandle() throws(KVError) -> OpaquePointer { try handle() }

  private func handle() throws(KVError) -> OpaquePointer {
    guard let db = lock.withLock({ db }) else { throw .closed(path) }
    return db
  }

  public func get(_ key: [UInt8]) throws(KVError) -> [UInt8]? {
    try get(key, using: read)
  }

  func get(_ key: [UInt8], using read: OpaquePointer) throws(KVError) -> [UInt8]? {
    let db = try handle()
    var length = 0
    var error: UnsafeMutablePointer<CChar>?
    let value = key.withUnsafeBufferPointer { k in
      k.withMemoryRebound(to: CChar.self) {
        rocksdb_get(db, read, $0.baseAddress, $0.count, &length, &error)
      }
    }
    if let message = KVError.take(&error) { throw .io(path, message) }
    guard let value else { return nil }
    defer { rocksdb_free(value) }
    return [UInt8](UnsafeRawBufferPointer(start: value, count: length))
  }

  /// Applies every operation of `transaction` atomically.
  public func apply(_ transaction: KVTransaction, sync: Bool) throws(KVError) {
    guard !transaction.isEmpty else { return }
    let db = try handle()
    let batch = rocksdb_writebatch_create()
    defer { rocksdb_writebatch_destroy(batch) }
    for operation in transaction.operations {
      switch operation {
      case .put(let key, let value):
        key.withUnsafeBufferPointer { k in
          value.withUnsafeBufferPointer { v in
            k.withMemoryRebound(to: CChar.self) { kc in
              v.withMemoryRebound(to: CChar.self) { vc in
                rocksdb_writebatch_put(batch, kc.baseAddress, kc.count, vc.baseAddress, vc.count)
              }
            }
          }
        }
      case .delete(let key):
        key.withUnsafeBufferPointer { k in
          k.withMemoryRebound(to: CChar.self) {
            rocksdb_writebatch_delete(batch, $0.baseAddress, $0.count)
          }
        }
      case .deleteRange(let start, let end):
        start.withUnsafeBufferPointer { s in
          end.withUnsafeBufferPointer { e in
            s.withMemoryRebound(to: CChar.self) { sc in
              e.withMemoryRebound(to: CChar.self) { ec in
                rocksdb_writebatch_delete_range(
                  batch, sc.baseAddress, sc.count, ec.baseAddress, ec.count)
              }
            }
          }
        }
      }
    }
    var error: UnsafeMutablePointer<CChar>?
    rocksdb_write(db, sync ? syncWrite : asyncWrite, batch, &error)
    if let message = KVError.take(&error) { throw .io(path, message) }
  }

  /// Every key and value whose key starts with `prefix`, in key order, at most `limit` of them.
  public func scan(prefix: [UInt8], limit: Int = Int.max) throws(KVError) -> [(
    key: [UInt8], value: [UInt8]
  )] {
    try scan(from: prefix, limit: limit) { $0.starts(with: prefix) }
  }

  /// Entries from `start` on, in key order, while `accept(key)` holds.
  public func scan(
    from start: [UInt8], limit: Int = Int.max, while accept: ([UInt8]) -> Bool
  ) throws(KVError) -> [(key: [UInt8], value: [UInt8])] {
    try scan(from: start, limit: limit, using: read, while: accept)
  }

  func scan(
    from start: [UInt8], limit: Int, using read: OpaquePointer, while accept: ([UInt8]) -> Bool
  ) throws(KVError) -> [(key: [UInt8], value: [UInt8])] {
    let db = try handle()
    let iterator = rocksdb_create_iterator(db, read)
    defer { rocksdb_iter_destroy(iterator) }
    start.withUnsafeBufferPointer { s in
      s.withMemoryRebound(to: CChar.self) { rocksdb_iter_seek(iterator, $0.baseAddress, $0.count) }
    }
    var result: [(key: [UInt8], value: [UInt8])] = []
    while rocksdb_iter_valid(iterator) != 0 && result.count < limit {
      var keyLength = 0
      var valueLength = 0
      let k = rocksdb_iter_key(iterator, &keyLength)!
      let key = [UInt8](UnsafeRawBufferPointer(start: k, count: keyLength))
      guard accept(key) else { break }
      let v = rocksdb_iter_value(iterator, &valueLength)
      let value = v.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: valueLength)) } ?? []
      result.append((key, value))
      rocksdb_iter_next(iterator)
    }
    var error: UnsafeMutablePointer<CChar>?
    rocksdb_iter_get_error(iterator, &error)
    if let message = KVError.take(&error) { throw .io(path, message) }
    return result
  }
}

/// A point-in-time view of a database: later writes do not show through it.
// immutable; reads through a RocksDB snapshot are thread-safe
public final class RocksDBSnapshot: @unchecked Sendable {
  private let db: RocksDB
  private let snapshot: OpaquePointer
  private let read: OpaquePointer
  private let raw: OpaquePointer

  public init(of db: RocksDB) throws(KVError) {
    self.db = db
    raw = try db.rawHandle()
    snapshot = rocksdb_create_snapshot(raw)
    read = rocksdb_readoptions_create()
    rocksdb_readoptions_set_snapshot(read, snapshot)
  }

  deinit {
    // A snapshot outliving a closed database is simply dropped.
    if (try? db.rawHandle()) != nil { rocksdb_release_snapshot(raw, snapshot) }
    rocksdb_readoptions_destroy(read)
  }

  public func get(_ key: [UInt8]) throws(KVError) -> [UInt8]? { try db.get(key, using: read) }

  public func scan(
    from start: [UInt8], limit: Int = Int.max, while accept: ([UInt8]) -> Bool
  ) throws(KVError) -> [(key: [UInt8], value: [UInt8])] {
    try db.scan(from: start, limit: limit, using: read, while: accept)
  }
}

/// Operations applied together or not at all.
public struct KVTransaction: Sendable {
  public enum Operation: Sendable, Equatable {
    case put([UInt8], [UInt8])
    case delete([UInt8])
    /// Keys in [start, end).
    case deleteRange([UInt8], [UInt8])
  }

  public private(set) var operations: [Operation] = []

  public init() {}

  public var isEmpty: Bool { operations.isEmpty }

  public mutating func put(_ key: [UInt8], _ value: [UInt8]) { operations.append(.put(key, value)) }
  public mutating func delete(_ key: [UInt8]) { operations.append(.delete(key)) }
  public mutating func deleteRange(from start: [UInt8], to end: [UInt8]) {
    operations.append(.deleteRange(start, end))
  }
  public mutating func append(_ other: KVTransaction) { operations += other.operations }
}

public enum KVError: Error, Equatable, CustomStringConvertible {
  case open(String, String)
  case io(String, String)
  case closed(String)

  public var description: String {
    switch self {
    case .open(let path, let why): return "cannot open store \(path): \(why)"
    case .io(let path, let why): return "store \(path): \(why)"
    case .closed(let path): return "store \(path) is closed"
    }
  }

  /// Takes (and frees) a RocksDB error string.
  static func take(_ error: inout UnsafeMutablePointer<CChar>?) -> String? {
    guard let pointer = error else { return nil }
    defer {
      rocksdb_free(pointer)
      error = nil
    }
    return String(cString: pointer)
  }
}
