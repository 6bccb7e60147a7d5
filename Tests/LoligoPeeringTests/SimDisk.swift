import LoligoPlacement
import NIOCore

@testable import LoligoPeering

/// One OSD's disk in the simulation: what committed transactions left, and the transactions
/// submitted but not yet durable. A `durable` disk keeps its contents across a crash (plus a
/// prefix of what was in flight, as a real store may have made it durable before saying so);
/// a memory disk loses everything.
final class SimDisk: PGStoreReader, @unchecked Sendable {  // used by the simulation thread only
  struct Object: Equatable {
    var version: EVersion
    var value: UInt64
    /// Its bytes no longer match their checksum (a flipped bit on disk).
    var corrupt = false
  }

  struct PG: Equatable {
    var info: PGInfo?
    var log: [EVersion: PGLogEntry] = [:]
    var missing: [ObjectID: EVersion] = [:]
    var objects: [ObjectID: Object] = [:]
  }

  let durable: Bool
  /// Out of room: the core's data writes are refused (its checks before writing, as a real
  /// store's space would make them; what it applies anyway still lands, as metadata would).
  var noRoom = false
  private(set) var pgs: [PGID: PG] = [:]
  /// Submitted, not yet durable, in order.
  private(set) var pending: [(token: UInt64, transaction: PGTransaction)] = []

  init(durable: Bool) { self.durable = durable }

  func submit(_ transaction: PGTransaction, token: UInt64) {
    pending.append((token, transaction))
  }

  /// Makes the oldest pending transaction durable; returns its token.
  func commitNext() -> UInt64? {
    guard !pending.isEmpty else { return nil }
    let (token, transaction) = pending.removeFirst()
    apply(transaction)
    return token
  }

  /// The OSD died: keep what a store of this kind keeps.
  func crash(keepingPending count: Int) {
    if durable {
      for (_, transaction) in pending.prefix(count) { apply(transaction) }
    } else {
      pgs.removeAll()
    }
    pending.removeAll()
  }

  func apply(_ transaction: PGTransaction) {
    for operation in transaction.operations {
      switch operation {
      case .create(let pgid):
        if pgs[pgid] == nil { pgs[pgid] = PG() }
      case .remove(let pgid):
        pgs[pgid] = nil
      case .removeAllObjects(let pgid):
        pgs[pgid]?.objects.removeAll()
      case .mutate(let pgid, let object, let mutation, let version):
        if mutation.deletes {
          pgs[pgid]?.objects[object] = nil
        } else {
          var body = mutation.body
          let value = body.readInteger(endianness: .little, as: UInt64.self) ?? 0
          pgs[pgid]?.objects[object] = Object(version: version, value: value)
        }
      case .install(let pgid, let object, let snapshot):
        var body = snapshot.body
        let value = body.readInteger(endianness: .little, as: UInt64.self) ?? 0
        pgs[pgid]?.objects[object] = Object(version: snapshot.version, value: value)
      case .removeObject(let pgid, let object):
        pgs[pgid]?.objects[object] = nil
      case .putInfo(let info):
        pgs[info.pgid]?.info = info
      case .appendLog(let pgid, let entries):
        for entry in entries { pgs[pgid]?.log[entry.version] = entry }
      case .removeLog(let pgid, let versions):
        for version in versions { pgs[pgid]?.log[version] = nil }
      case .setMissing(let pgid, let object, let need):
        pgs[pgid]?.missing[object] = need
      case .clearMissing(let pgid, let object):
        pgs[pgid]?.missing[object] = nil
      }
    }
  }

  // MARK: PGStoreReader

  func storedPGs() -> [PGID] { Array(pgs.keys) }

  func load(_ pgid: PGID) -> StoredPG? {
    guard let pg = pgs[pgid], let info = pg.info else { return nil }
    var missing = MissingSet()
    for (object, need) in pg.missing { missing.add(object, need: need) }
    let log = pg.log.values.sorted { $0.version < $1.version }.filter { $0.version > info.logTail }
    return StoredPG(info: info, log: log, missing: missing)
  }

  func objectVersion(_ pgid: PGID, _ object: ObjectID) -> EVersion? {
    pgs[pgid]?.objects[object]?.version
  }

  func read(_ pgid: PGID, _ object: ObjectID) -> ObjectRead {
    guard let stored = pgs[pgid]?.objects[object] else { return .absent }
    if stored.corrupt { return .unreadable }
    return .present(ObjectSnapshot(version: stored.version, body: Self.body(stored.value)))
  }

  func hasRoom(for bytes: Int, _ purpose: StoreRoom) -> Bool { !noRoom }

  /// Damages one committed copy (as a flipped bit would).
  func corrupt(_ pgid: PGID, _ object: ObjectID) {
    pgs[pgid]?.objects[object]?.corrupt = true
  }

  func list(_ pgid: PGID, after cursor: ObjectID?, limit: Int) -> [ObjectID] {
    guard let objects = pgs[pgid]?.objects.keys else { return [] }
    let sorted = objects.filter { cursor == nil || $0 > cursor! }.sorted()
    return Array(sorted.prefix(limit))
  }

  static func body(_ value: UInt64) -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeInteger(value, endianness: .little)
    return buffer
  }
}
