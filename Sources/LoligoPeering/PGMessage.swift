import LoligoCore
import LoligoPlacement
import NIOCore

/// Messages between OSDs about one PG. Every message names the PG, the sender's map epoch and
/// the first epoch of the interval it belongs to; a receiver drops a message of an interval
/// it has left and holds one of an interval its maps have not reached.
///
/// Primary → member traffic that changes the member (activation, replicated writes, recovery
/// pushes, backfill progress) travels as `ordered` messages with a per-interval sequence
/// number: the member applies them in sequence order exactly once, whatever the network does,
/// and the primary resends what is not acknowledged. Everything else is idempotent.
public struct PGMessage: Sendable, Equatable {
  public var pgid: PGID
  /// The sender's newest map epoch.
  public var epoch: UInt32
  /// First epoch of the interval the message belongs to.
  public var interval: UInt32
  public var body: Body

  public init(pgid: PGID, epoch: UInt32, interval: UInt32, body: Body) {
    self.pgid = pgid
    self.epoch = epoch
    self.interval = interval
    self.body = body
  }

  public enum Body: Sendable, Equatable {
    /// Primary → any OSD that may hold the PG: "send me your info and log".
    case query
    /// The answer: nil info when the OSD holds nothing of the PG.
    case notify(PGNotify)
    /// Primary → member, in order.
    case ordered(seq: UInt64, OrderedBody)
    /// Member → primary: everything up to `seq` applied (and durable); `result` per kind.
    case applied(seq: UInt64, Applied)
    /// Primary → OSD holding the object: send it to me.
    case pull(ObjectID)
    /// The answer to a pull: the object, its absence, or that the sender's copy is unreadable.
    case pulled(ObjectID, ObjectRead)
    /// Primary → backfill target: may I backfill you? (Ceph's remote reservation.)
    case reserve
    case reserveGranted
    case reserveRejected
    /// Primary → backfill target: the backfill is over or abandoned; free the slot.
    case reserveRelease
    /// Primary → an OSD outside the acting and up sets: the PG is clean; delete your copy.
    case purge
  }

  public enum OrderedBody: Sendable, Equatable {
    /// Adopt this log and missing set for the interval (and, for a backfill target, start from
    /// nothing).
    case activate(PGActivate)
    /// A client write: log it, and apply it unless `mutation` is nil (a backfill target that
    /// has not been copied that far yet).
    case repOp(entry: PGLogEntry, mutation: PGMutation?, trimTo: EVersion)
    /// Recovery or backfill: the object as the primary has it (nil: it must not exist).
    case push(ObjectID, ObjectSnapshot?, backfill: Bool)
    /// Backfill has copied everything up to here.
    case backfillProgress(BackfillBound)
    /// The PG is clean as of this epoch: remember it (older intervals no longer matter).
    case clean(UInt32)
  }

  public enum Applied: Sendable, Equatable {
    case activated
    case repOp(EVersion, result: Int32)
    case pushed(ObjectID)
    case backfillProgress(BackfillBound)
    case clean(UInt32)
    /// A recovery push not installed: the member has no room for it (it stays missing there).
    case pushRefused(ObjectID)
  }
}

/// An OSD's answer to a query.
public struct PGNotify: Sendable, Equatable {
  public var info: PGInfo?
  public var log: [PGLogEntry]
  public var missing: MissingSet

  public init(info: PGInfo?, log: [PGLogEntry], missing: MissingSet) {
    self.info = info
    self.log = log
    self.missing = missing
  }
}

/// What a member adopts when the primary activates the interval.
public struct PGActivate: Sendable, Equatable {
  public var info: PGInfo
  public var log: [PGLogEntry]
  public var missing: MissingSet

  public init(info: PGInfo, log: [PGLogEntry], missing: MissingSet) {
    self.info = info
    self.log = log
    self.missing = missing
  }
}

extension PGMessage.Applied {
  /// The member kept no data of the message (no room): it lacks the object now.
  var refusesData: Bool {
    switch self {
    case .repOp(_, let result): return result != 0
    case .pushRefused: return true
    default: return false
    }
  }
}

// MARK: encoding

extension PGMessage {
  /// Encodes the message: the returned buffer is the message's data segment (object and
  /// write payloads), kept apart so large payloads are not copied into the front.
  public func encode(into front: inout ByteBuffer) -> ByteBuffer {
    var data = ByteBuffer()
    front.writeVersioned(version: 1, compat: 1) { b in
      b.writeLE(pgid.pool)
      b.writeLE(pgid.seed)
      b.writeLE(epoch)
      b.writeLE(interval)
      switch body {
      case .query: b.writeLE(UInt8(1))
      case .notify(let notify):
        b.writeLE(UInt8(2))
        b.writeBool(notify.info != nil)
        notify.info?.encode(to: &b)
        Self.writeLog(notify.log, to: &b)
        notify.missing.encode(to: &b)
      case .ordered(let seq, let ordered):
        b.writeLE(UInt8(3))
        b.writeLE(seq)
        switch ordered {
        case .activate(let activate):
          b.writeLE(UInt8(1))
          activate.info.encode(to: &b)
          Self.writeLog(activate.log, to: &b)
          activate.missing.encode(to: &b)
        case .repOp(let entry, let mutation, let trimTo):
          b.writeLE(UInt8(2))
          entry.encode(to: &b)
          trimTo.encode(to: &b)
          b.writeBool(mutation != nil)
          if let mutation {
            b.writeBool(mutation.deletes)
            b.writeBlob(mutation.body)
            b.writeBool(mutation.dataCRC != nil)
            b.writeLE(mutation.dataCRC ?? 0)
            b.writeLE(UInt64(mutation.data.readableBytes))
            data = mutation.data
          }
        case .push(let object, let snapshot, let backfill):
          b.writeLE(UInt8(3))
          ObjectIDCoding.write(object, to: &b)
          b.writeBool(backfill)
          Self.writeSnapshot(snapshot, to: &b, data: &data)
        case .backfillProgress(let bound):
          b.writeLE(UInt8(4))
          Self.writeBound(bound, to: &b)
        case .clean(let epoch):
          b.writeLE(UInt8(5))
          b.writeLE(epoch)
        }
      case .applied(let seq, let applied):
        b.writeLE(UInt8(4))
        b.writeLE(seq)
        switch applied {
        case .activated: b.writeLE(UInt8(1))
        case .repOp(let version, let result):
          b.writeLE(UInt8(2))
          version.encode(to: &b)
          b.writeLE(result)
        case .pushed(let object):
          b.writeLE(UInt8(3))
          ObjectIDCoding.write(object, to: &b)
        case .backfillProgress(let bound):
          b.writeLE(UInt8(4))
          Self.writeBound(bound, to: &b)
        case .clean(let epoch):
          b.writeLE(UInt8(5))
          b.writeLE(epoch)
        case .pushRefused(let object):
          b.writeLE(UInt8(6))
          ObjectIDCoding.write(object, to: &b)
        }
      case .pull(let object):
        b.writeLE(UInt8(5))
        ObjectIDCoding.write(object, to: &b)
      case .pulled(let object, let read):
        b.writeLE(UInt8(6))
        ObjectIDCoding.write(object, to: &b)
        b.writeBool(read == .unreadable)
        Self.writeSnapshot(read.snapshot, to: &b, data: &data)
      case .reserve: b.writeLE(UInt8(7))
      case .reserveGranted: b.writeLE(UInt8(8))
      case .reserveRejected: b.writeLE(UInt8(9))
      case .reserveRelease: b.writeLE(UInt8(10))
      case .purge: b.writeLE(UInt8(11))
      }
    }
    return data
  }

  /// Decodes a message from its front and data segment. Every count and length is bounded;
  /// bytes that do not describe a valid message throw.
  public init(front: inout ByteBuffer, data: ByteBuffer, limits: PGDecodeLimits = .default)
    throws
  {
    var data = data
    self = try front.readVersioned("pg message", supported: 1, limit: limits.maxMessageFront) {
      b, _ in
      let pool: Int64 = try b.readLE(Int64.self, "pgid pool")
      let seed: UInt32 = try b.readLE(UInt32.self, "pgid seed")
      guard pool >= 0 else { throw DecodeError.invalid(field: "pgid", reason: "pool \(pool)") }
      let pgid = PGID(pool: pool, seed: seed)
      let epoch: UInt32 = try b.readLE(UInt32.self, "epoch")
      let interval: UInt32 = try b.readLE(UInt32.self, "interval")
      guard interval <= epoch else {
        throw DecodeError.invalid(field: "interval", reason: "\(interval) after epoch \(epoch)")
      }
      let kind: UInt8 = try b.readLE(UInt8.self, "pg message kind")
      let body: Body
      switch kind {
      case 1: body = .query
      case 2:
        let info = try b.readBool("notify has info") ? try PGInfo(from: &b, limits: limits) : nil
        let log = try Self.readLog(from: &b, limits: limits)
        let missing = try MissingSet(from: &b, limits: limits)
        body = .notify(PGNotify(info: info, log: log, missing: missing))
      case 3:
        let seq: UInt64 = try b.readLE(UInt64.self, "seq")
        let orderedKind: UInt8 = try b.readLE(UInt8.self, "ordered kind")
        switch orderedKind {
        case 1:
          let info = try PGInfo(from: &b, limits: limits)
          let log = try Self.readLog(from: &b, limits: limits)
          let missing = try MissingSet(from: &b, limits: limits)
          body = .ordered(seq: seq, .activate(PGActivate(info: info, log: log, missing: missing)))
        case 2:
          let entry = try PGLogEntry(from: &b, limits: limits)
          let trimTo = try EVersion(from: &b)
          var mutation: PGMutation?
          if try b.readBool("repop has mutation") {
            let deletes = try b.readBool("mutation deletes")
            let operations = try b.readBlob(limit: limits.maxRecordBytes, "mutation body")
            let hasCRC = try b.readBool("mutation has crc")
            let crc: UInt32 = try b.readLE(UInt32.self, "mutation crc")
            let length = try Self.readDataLength(from: &b, data: data, limits: limits)
            mutation = PGMutation(
              body: operations, data: data.readSlice(length: length)!,
              dataCRC: hasCRC ? crc : nil, deletes: deletes)
          }
          body = .ordered(seq: seq, .repOp(entry: entry, mutation: mutation, trimTo: trimTo))
        case 3:
          let object = try ObjectIDCoding.read(from: &b, limits: limits)
          let backfill = try b.readBool("push backfill")
          let snapshot = try Self.readSnapshot(from: &b, data: &data, limits: limits)
          body = .ordered(seq: seq, .push(object, snapshot, backfill: backfill))
        case 4:
          body = .ordered(seq: seq, .backfillProgress(try Self.readBound(from: &b, limits: limits)))
        case 5:
          body = .ordered(seq: seq, .clean(try b.readLE(UInt32.self, "clean epoch")))
        default:
          throw DecodeError.invalid(field: "ordered kind", reason: "\(orderedKind)")
        }
      case 4:
        let seq: UInt64 = try b.readLE(UInt64.self, "seq")
        let appliedKind: UInt8 = try b.readLE(UInt8.self, "applied kind")
        switch appliedKind {
        case 1: body = .applied(seq: seq, .activated)
        case 2:
          let version = try EVersion(from: &b)
          let result: Int32 = try b.readLE(Int32.self, "repop result")
          body = .applied(seq: seq, .repOp(version, result: result))
        case 3:
          body = .applied(seq: seq, .pushed(try ObjectIDCoding.read(from: &b, limits: limits)))
        case 4:
          body = .applied(seq: seq, .backfillProgress(try Self.readBound(from: &b, limits: limits)))
        case 5:
          body = .applied(seq: seq, .clean(try b.readLE(UInt32.self, "clean epoch")))
        case 6:
          body = .applied(
            seq: seq, .pushRefused(try ObjectIDCoding.read(from: &b, limits: limits)))
        default:
          throw DecodeError.invalid(field: "applied kind", reason: "\(appliedKind)")
        }
      case 5: body = .pull(try ObjectIDCoding.read(from: &b, limits: limits))
      case 6:
        let object = try ObjectIDCoding.read(from: &b, limits: limits)
        let unreadable = try b.readBool("unreadable")
        let snapshot = try Self.readSnapshot(from: &b, data: &data, limits: limits)
        switch (unreadable, snapshot) {
        case (true, nil): body = .pulled(object, .unreadable)
        case (false, nil): body = .pulled(object, .absent)
        case (false, let copy?): body = .pulled(object, .present(copy))
        case (true, _?):
          throw DecodeError.invalid(field: "pulled", reason: "unreadable with a copy")
        }
      case 7: body = .reserve
      case 8: body = .reserveGranted
      case 9: body = .reserveRejected
      case 10: body = .reserveRelease
      case 11: body = .purge
      default:
        throw DecodeError.invalid(field: "pg message kind", reason: "\(kind)")
      }
      return PGMessage(pgid: pgid, epoch: epoch, interval: interval, body: body)
    }
  }

  static func writeLog(_ log: [PGLogEntry], to buffer: inout ByteBuffer) {
    buffer.writeArray(log) { buffer, entry in entry.encode(to: &buffer) }
  }

  static func readLog(from buffer: inout ByteBuffer, limits: PGDecodeLimits) throws
    -> [PGLogEntry]
  {
    let entries = try buffer.readArray(
      limit: limits.maxLogEntries, minimumElementSize: PGLogEntry.minimumEncodedSize, "log"
    ) { try PGLogEntry(from: &$0, limits: limits) }
    for (a, b) in zip(entries, entries.dropFirst()) where !(a.version < b.version) {
      throw DecodeError.invalid(field: "log", reason: "\(b.version) does not follow \(a.version)")
    }
    return entries
  }

  static func writeSnapshot(
    _ snapshot: ObjectSnapshot?, to buffer: inout ByteBuffer, data: inout ByteBuffer
  ) {
    buffer.writeBool(snapshot != nil)
    if let snapshot {
      snapshot.version.encode(to: &buffer)
      buffer.writeLE(UInt64(snapshot.body.readableBytes))
      data = snapshot.body
    }
  }

  static func readSnapshot(
    from buffer: inout ByteBuffer, data: inout ByteBuffer, limits: PGDecodeLimits
  ) throws -> ObjectSnapshot? {
    guard try buffer.readBool("has snapshot") else { return nil }
    let version = try EVersion(from: &buffer)
    let length = try readDataLength(from: &buffer, data: data, limits: limits)
    return ObjectSnapshot(version: version, body: data.readSlice(length: length)!)
  }

  /// A length of the data segment, checked against what the segment holds.
  static func readDataLength(
    from buffer: inout ByteBuffer, data: ByteBuffer, limits: PGDecodeLimits
  ) throws -> Int {
    let length: UInt64 = try buffer.readLE(UInt64.self, "data length")
    guard length <= UInt64(limits.maxObjectBytes), Int(length) <= data.readableBytes else {
      throw DecodeError.oversized(
        field: "data", length: Int(clamping: length),
        limit: min(limits.maxObjectBytes, data.readableBytes))
    }
    return Int(length)
  }

  static func writeBound(_ bound: BackfillBound, to buffer: inout ByteBuffer) {
    switch bound {
    case .none: buffer.writeLE(UInt8(0))
    case .upTo(let object):
      buffer.writeLE(UInt8(1))
      ObjectIDCoding.write(object, to: &buffer)
    case .complete: buffer.writeLE(UInt8(2))
    }
  }

  static func readBound(from buffer: inout ByteBuffer, limits: PGDecodeLimits) throws
    -> BackfillBound
  {
    switch try buffer.readLE(UInt8.self, "backfill bound") {
    case 0: return .none
    case 1: return .upTo(try ObjectIDCoding.read(from: &buffer, limits: limits))
    case 2: return .complete
    case let other: throw DecodeError.invalid(field: "backfill bound", reason: "kind \(other)")
    }
  }
}
