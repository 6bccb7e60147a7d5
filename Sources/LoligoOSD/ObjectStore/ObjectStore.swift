import LoligoPlacement
import NIOCore

/// Where an OSD keeps objects. Collections are placement groups; an object is a name in a
/// namespace. Changes are `StoreTransaction`s, applied atomically and in submission order;
/// `onCommit` runs once the transaction is durable in the store's sense (RAM for memstore,
/// disk for the durable store) — an OSD acknowledges a write only after that.
///
/// Reads see every transaction whose commit has been reported.
public protocol ObjectStore: AnyObject, Sendable {
  /// `memstore`, `durable`: what `osd_objectstore` names.
  var kind: String { get }

  /// Queues `transaction`; `onCommit` is called exactly once — on a store thread, or before
  /// `submit` returns when the store commits synchronously (memstore).
  func submit(
    _ transaction: StoreTransaction,
    onCommit: @escaping @Sendable (Result<Void, StoreError>) -> Void)

  func read(_ collection: PGID, _ object: ObjectID, offset: UInt64, length: UInt64?)
    throws(StoreError)
    -> ByteBuffer
  /// A read with the crc32c (seed -1) of the returned bytes when the store knows it without
  /// computing it (memstore, for whole objects written whole); nil otherwise.
  func readWithCRC(_ collection: PGID, _ object: ObjectID, offset: UInt64, length: UInt64?)
    throws(StoreError) -> (data: ByteBuffer, crc: UInt32?)
  func stat(_ collection: PGID, _ object: ObjectID) throws(StoreError) -> ObjectStat
  func xattr(_ collection: PGID, _ object: ObjectID, _ name: String) throws(StoreError)
    -> ByteBuffer
  /// Every attribute of the object.
  func xattrs(_ collection: PGID, _ object: ObjectID) throws(StoreError) -> [String: ByteBuffer]
  func omap(_ collection: PGID, _ object: ObjectID, keys: [String]) throws(StoreError)
    -> [String: ByteBuffer]
  /// Object names in a collection, in order, after `cursor`, at most `limit`.
  func list(_ collection: PGID, after cursor: ObjectID?, limit: Int) throws(StoreError)
    -> [ObjectID]
  func collections() throws(StoreError) -> [PGID]
  /// How many objects a collection holds and their bytes (for statistics).
  func usage(_ collection: PGID) throws(StoreError) -> (objects: Int, bytes: UInt64)
  func collectionExists(_ collection: PGID) -> Bool
  /// The store's capacity and what is free of it, bytes queued for the store and not yet
  /// written counting as used (Ceph's `statfs`).
  func space() -> StoreSpace

  /// Tests and `injectdataerr` (Ceph's admin command): flips up to 4 bytes of this copy's data
  /// from `offset` where the store keeps them, leaving every checksum as it is, so the next
  /// read of those bytes fails its check (unless checksums are off).
  func injectDataError(_ collection: PGID, _ object: ObjectID, offset: UInt64)
    throws(StoreError) -> StoreDamage
  /// Tests and `injectmdataerr`: damages this copy's metadata (durable: the object's record;
  /// memstore: its version attribute) so that reading it fails the metadata's own check.
  func injectMetadataError(_ collection: PGID, _ object: ObjectID) throws(StoreError)
    -> StoreDamage

  /// Flushes and closes; no call may follow.
  func close()
}

extension ObjectStore {
  public func readWithCRC(_ collection: PGID, _ object: ObjectID, offset: UInt64, length: UInt64?)
    throws(StoreError) -> (data: ByteBuffer, crc: UInt32?)
  {
    (try read(collection, object, offset: offset, length: length), nil)
  }

  /// Submits and waits for the commit (tools, tests and mkfs; never on an event loop).
  public func apply(_ transaction: StoreTransaction) throws(StoreError) {
    let box = CommitWaiter()
    submit(transaction) { box.finish($0) }
    try box.wait().get()
  }
}

/// What an injected error damaged, for the admin command's answer.
public struct StoreDamage: Sendable, Equatable {
  /// `data` or `metadata`.
  public var kind: String
  /// Where in the store, in words: "data file data/1f", "inline data in the object record", ...
  public var location: String
  /// Data: the first byte flipped, as an offset in the object.
  public var offset: UInt64?
  /// Bytes flipped.
  public var length: Int

  public init(kind: String, location: String, offset: UInt64? = nil, length: Int) {
    self.kind = kind
    self.location = location
    self.offset = offset
    self.length = length
  }
}

/// An object store's size and free bytes (Ceph's `store_statfs_t`, the parts used here).
public struct StoreSpace: Sendable, Equatable {
  public var total: UInt64
  public var available: UInt64

  public init(total: UInt64, available: UInt64) {
    self.total = total
    self.available = min(available, total)
  }

  public var used: UInt64 { total - available }

  /// used/total (0 for a store of no size), what the full ratios are compared with.
  public var ratio: Double { total == 0 ? 0 : Double(used) / Double(total) }

  /// The ratio once `bytes` more are stored.
  public func ratio(adding bytes: UInt64) -> Double {
    total == 0 ? 0 : Double(used.addingReportingOverflow(bytes).partialValue) / Double(total)
  }
}

public struct ObjectStat: Sendable, Equatable {
  public var size: UInt64
  /// Modification time, nanoseconds since the epoch.
  public var mtime: UInt64

  public init(size: UInt64, mtime: UInt64) {
    self.size = size
    self.mtime = mtime
  }
}

public enum StoreError: Error, Equatable, CustomStringConvertible {
  case noSuchObject(ObjectID)
  case noSuchCollection(PGID)
  case collectionExists(PGID)
  case noSuchAttribute(String)
  case tooLarge(String)
  case io(String)
  case corrupt(String)
  case invalid(String)
  /// The file system under the store is out of space (ENOSPC from it or from RocksDB).
  case noSpace(String)

  public var description: String {
    switch self {
    case .noSuchObject(let o): return "no such object \(o)"
    case .noSuchCollection(let c): return "no such collection \(c)"
    case .collectionExists(let c): return "collection \(c) exists"
    case .noSuchAttribute(let a): return "no such attribute \(a)"
    case .tooLarge(let what): return "too large: \(what)"
    case .io(let why): return "store I/O error: \(why)"
    case .corrupt(let why): return "store corrupt: \(why)"
    case .invalid(let why): return "invalid: \(why)"
    case .noSpace(let why): return "no space left on the store's device: \(why)"
    }
  }

  /// The errno-style code an OSD returns to clients.
  public var code: Int32 {
    switch self {
    case .noSuchObject, .noSuchCollection, .noSuchAttribute: return -2  // ENOENT
    case .collectionExists: return -17  // EEXIST
    case .tooLarge: return -27  // EFBIG
    case .io, .corrupt: return -5  // EIO
    case .invalid: return -22  // EINVAL
    case .noSpace: return -28  // ENOSPC
    }
  }
}
