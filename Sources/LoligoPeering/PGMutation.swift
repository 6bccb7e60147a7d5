import LoligoPlacement
import NIOCore

/// A client's change to one object, opaque to the peering core: the daemon encodes the
/// operations in `body` and applies them to its store; the core only logs, orders and ships
/// them. `data` is the op's data segment, `dataCRC` its crc32c when known.
public struct PGMutation: Sendable, Equatable {
  public var body: ByteBuffer
  public var data: ByteBuffer
  public var dataCRC: UInt32?
  /// The change removes the object.
  public var deletes: Bool

  public init(
    body: ByteBuffer, data: ByteBuffer = ByteBuffer(), dataCRC: UInt32? = nil, deletes: Bool
  ) {
    self.body = body
    self.data = data
    self.dataCRC = dataCRC
    self.deletes = deletes
  }
}

/// One object's whole state as the daemon reads it for recovery (data, attributes, omap), in
/// the daemon's encoding, with the version it is at.
public struct ObjectSnapshot: Sendable, Equatable {
  public var version: EVersion
  public var body: ByteBuffer

  public init(version: EVersion, body: ByteBuffer) {
    self.version = version
    self.body = body
  }
}

/// An object as the store gives it back.
public enum ObjectRead: Sendable, Equatable {
  case present(ObjectSnapshot)
  case absent
  /// Held, but its bytes or metadata fail the store's checks: never to be served or copied.
  case unreadable

  var snapshot: ObjectSnapshot? {
    if case .present(let snapshot) = self { return snapshot }
    return nil
  }
}

/// What a PG looks like in the store at start-up.
public struct StoredPG: Sendable {
  public var info: PGInfo
  public var log: [PGLogEntry]
  public var missing: MissingSet

  public init(info: PGInfo, log: [PGLogEntry], missing: MissingSet) {
    self.info = info
    self.log = log
    self.missing = missing
  }
}

/// The core's window on the OSD's object store: reads only, synchronous, of what committed
/// transactions left (the core tracks what it has submitted but not seen commit).
public protocol PGStoreReader: Sendable {
  /// PGs with a collection in the store.
  func storedPGs() -> [PGID]
  /// A PG's persisted info, log and missing set; nil when the store has none (or it cannot be
  /// read, which the daemon reports).
  func load(_ pgid: PGID) -> StoredPG?
  /// The version of the object's current copy, nil when absent.
  func objectVersion(_ pgid: PGID, _ object: ObjectID) -> EVersion?
  /// The object's whole state, checked against the store's checksums.
  func read(_ pgid: PGID, _ object: ObjectID) -> ObjectRead
  /// Objects after `cursor` in `ObjectID` order, at most `limit`.
  func list(_ pgid: PGID, after cursor: ObjectID?, limit: Int) -> [ObjectID]
  /// Whether the store can take `bytes` more of data for `purpose` now.
  func hasRoom(for bytes: Int, _ purpose: StoreRoom) -> Bool
}

extension PGStoreReader {
  /// A store that never fills (the simulation's).
  public func hasRoom(for bytes: Int, _ purpose: StoreRoom) -> Bool { true }
}

/// What data the core asks the store's room for. The thresholds are the daemon's.
public enum StoreRoom: Sendable {
  /// A client write this OSD admits as primary: none past the failsafe ratio (Ceph's
  /// `osd_failsafe_full_ratio`), so a full OSD refuses writes before any store is touched.
  case clientWrite
  /// Data another OSD admitted (a replicated write, a recovery copy): it may use the space
  /// past the failsafe ratio, all but a last reserve kept for metadata and deletes.
  case replicated
}

/// Store changes the core asks for, applied atomically and in order by the daemon, which
/// reports the commit with the transaction's token.
public struct PGTransaction: Sendable {
  public enum Operation: Sendable {
    /// Creates the PG's collection (and metadata) if absent.
    case create(PGID)
    /// Removes the PG's collection with everything in it.
    case remove(PGID)
    /// Removes every object of the PG, keeping its metadata (a backfill starts over).
    case removeAllObjects(PGID)
    /// Applies a client change and records the object's new version.
    case mutate(PGID, ObjectID, PGMutation, EVersion)
    /// Replaces the object with a recovered copy.
    case install(PGID, ObjectID, ObjectSnapshot)
    case removeObject(PGID, ObjectID)
    case putInfo(PGInfo)
    case appendLog(PGID, [PGLogEntry])
    case removeLog(PGID, [EVersion])
    case setMissing(PGID, ObjectID, EVersion)
    case clearMissing(PGID, ObjectID)
  }

  public private(set) var operations: [Operation] = []

  public init() {}

  public var isEmpty: Bool { operations.isEmpty }

  public mutating func append(_ operation: Operation) { operations.append(operation) }
}
