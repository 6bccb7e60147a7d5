import LoligoCore
import LoligoPlacement
import NIOCore

/// How far a backfill has copied a PG onto this OSD, Ceph's `last_backfill`: every object up
/// to and including `upTo` (in `ObjectID` order) is current here, nothing after it may be.
public enum BackfillBound: Sendable, Equatable {
  /// Nothing copied yet.
  case none
  case upTo(ObjectID)
  /// The whole PG is here (the normal state).
  case complete

  public var isComplete: Bool { self == .complete }

  /// Whether `object` falls within what has been copied.
  public func covers(_ object: ObjectID) -> Bool {
    switch self {
    case .none: return false
    case .upTo(let last): return object <= last
    case .complete: return true
    }
  }
}

/// What an OSD knows of a PG it holds, Ceph's `pg_info_t` with the parts of `pg_history_t`
/// this model uses. Written in the same store transaction as every change it describes.
public struct PGInfo: Sendable, Equatable {
  public var pgid: PGID
  /// The newest log entry applied (to the log; objects may still be missing).
  public var lastUpdate: EVersion
  /// Every object is current up to this version (equals `lastUpdate` when nothing is
  /// missing here).
  public var lastComplete: EVersion
  /// The log holds every entry after this version.
  public var logTail: EVersion
  /// First epoch of the last interval in which this OSD was activated for the PG (it then held
  /// that interval's authoritative log). Persisted before the activation is acknowledged.
  public var lastEpochStarted: UInt32
  /// An epoch at which the PG was known clean: every acting OSD held every object.
  public var lastEpochClean: UInt32
  /// The epoch this OSD first created the PG.
  public var epochCreated: UInt32
  public var lastBackfill: BackfillBound

  public init(pgid: PGID, epochCreated: UInt32 = 0) {
    self.pgid = pgid
    lastUpdate = .zero
    lastComplete = .zero
    logTail = .zero
    lastEpochStarted = 0
    lastEpochClean = 0
    self.epochCreated = epochCreated
    lastBackfill = .complete
  }

  /// Holds no history at all: a PG created here and never written or activated.
  public var isEmpty: Bool { lastUpdate.isZero && lastEpochStarted == 0 }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(pgid.pool)
      $0.writeLE(pgid.seed)
      lastUpdate.encode(to: &$0)
      lastComplete.encode(to: &$0)
      logTail.encode(to: &$0)
      $0.writeLE(lastEpochStarted)
      $0.writeLE(lastEpochClean)
      $0.writeLE(epochCreated)
      switch lastBackfill {
      case .none: $0.writeLE(UInt8(0))
      case .upTo(let object):
        $0.writeLE(UInt8(1))
        ObjectIDCoding.write(object, to: &$0)
      case .complete: $0.writeLE(UInt8(2))
      }
    }
  }

  public init(from buffer: inout ByteBuffer, limits: PGDecodeLimits) throws {
    self = try buffer.readVersioned("pg_info", supported: 1, limit: limits.maxRecordBytes) {
      inner, _ in
      let pool: Int64 = try inner.readLE(Int64.self, "info pool")
      let seed: UInt32 = try inner.readLE(UInt32.self, "info seed")
      var info = PGInfo(pgid: PGID(pool: pool, seed: seed))
      info.lastUpdate = try EVersion(from: &inner)
      info.lastComplete = try EVersion(from: &inner)
      info.logTail = try EVersion(from: &inner)
      info.lastEpochStarted = try inner.readLE(UInt32.self, "info last_epoch_started")
      info.lastEpochClean = try inner.readLE(UInt32.self, "info last_epoch_clean")
      info.epochCreated = try inner.readLE(UInt32.self, "info epoch_created")
      switch try inner.readLE(UInt8.self, "info last_backfill") {
      case 0: info.lastBackfill = .none
      case 1: info.lastBackfill = .upTo(try ObjectIDCoding.read(from: &inner, limits: limits))
      case 2: info.lastBackfill = .complete
      case let other:
        throw DecodeError.invalid(field: "info last_backfill", reason: "kind \(other)")
      }
      guard info.logTail <= info.lastUpdate, info.lastComplete <= info.lastUpdate else {
        throw DecodeError.invalid(
          field: "pg_info",
          reason: "tail \(info.logTail), complete \(info.lastComplete), update \(info.lastUpdate)")
      }
      return info
    }
  }
}

/// Objects this OSD lacks (or holds at a wrong version) for a PG, Ceph's `pg_missing_t`: the
/// version each must be brought to. A need of `.zero` means the object must not exist (a
/// divergent create to undo).
public struct MissingSet: Sendable, Equatable {
  public private(set) var needs: [ObjectID: EVersion] = [:]

  public init() {}

  public var isEmpty: Bool { needs.isEmpty }
  public var count: Int { needs.count }

  public func need(_ object: ObjectID) -> EVersion? { needs[object] }
  public func contains(_ object: ObjectID) -> Bool { needs[object] != nil }

  public mutating func add(_ object: ObjectID, need: EVersion) { needs[object] = need }
  public mutating func remove(_ object: ObjectID) { needs[object] = nil }

  /// The oldest needed version minus nothing: everything before it is complete here.
  public var oldestNeed: EVersion? { needs.values.filter { !$0.isZero }.min() }

  public var sortedObjects: [ObjectID] { needs.keys.sorted() }

  public func encode(to buffer: inout ByteBuffer) {
    let sorted = needs.sorted { $0.key < $1.key }
    buffer.writeArray(sorted) { buffer, item in
      ObjectIDCoding.write(item.key, to: &buffer)
      item.value.encode(to: &buffer)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: PGDecodeLimits) throws {
    let items = try buffer.readArray(
      limit: limits.maxMissing, minimumElementSize: 8 + EVersion.encodedSize, "missing"
    ) { inner in
      (try ObjectIDCoding.read(from: &inner, limits: limits), try EVersion(from: &inner))
    }
    for (object, need) in items { needs[object] = need }
  }
}

/// Bounds for decoding PG records and messages from peers and disk.
public struct PGDecodeLimits: Sendable {
  public var maxNameBytes: Int
  public var maxRecordBytes: Int
  public var maxLogEntries: Int
  public var maxMissing: Int
  public var maxObjectBytes: Int
  public var maxListEntries: Int
  public var maxMessageFront: Int

  public init(
    maxNameBytes: Int = 4096, maxRecordBytes: Int = 1 << 20, maxLogEntries: Int = 1 << 20,
    maxMissing: Int = 1 << 22, maxObjectBytes: Int = 1 << 30, maxListEntries: Int = 1 << 16,
    maxMessageFront: Int = 256 << 20
  ) {
    self.maxNameBytes = maxNameBytes
    self.maxRecordBytes = maxRecordBytes
    self.maxLogEntries = maxLogEntries
    self.maxMissing = maxMissing
    self.maxObjectBytes = maxObjectBytes
    self.maxListEntries = maxListEntries
    self.maxMessageFront = maxMessageFront
  }

  public static let `default` = PGDecodeLimits()
}
