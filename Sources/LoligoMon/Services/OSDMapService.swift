import Foundation
import LoligoConsensus
import LoligoCore
import LoligoPlacement
import NIOCore

/// The OSD map on Paxos: OSD boot → up (and in, the first time or after an automatic out),
/// failure reports → down, down for `mon_osd_down_out_interval` → out, pool create / set /
/// delete, `osd down|out|in`, `osd set|unset` flags (noup, nodown, noout, noin obeyed here). Every
/// committed value that changes the map makes one new epoch, described by one incremental; the
/// store keeps the newest full map, the full map of the oldest epoch kept (the base) and every
/// incremental after it, until the leader trims them (+History).
struct OSDMapService {
  static let prefix = "svc_osdmap"
  static let maxPools = 1024
  static let maxPGsPerPool: UInt32 = 65536

  var map: OSDMap
  /// The full map at `firstIncremental - 1`: the oldest epoch subscribers can still get.
  var base: OSDMap
  /// When each down OSD went down (proposer's wall clock), for the automatic out.
  var downSince: [Int32: Double] = [:]
  /// The oldest incremental kept (the base's epoch + 1).
  var firstIncremental: UInt32
  /// The boot nonce (process instance) of each OSD's last boot: a boot repeating it while the
  /// OSD is up at the same address is a duplicate. In the store, so every monitor decides alike.
  var bootNonces: [Int32: UInt64] = [:]

  // MARK: store

  static func fullKey() -> String { "full" }
  static let baseKey = "base"
  static func incrementalKey(_ epoch: UInt32) -> String {
    "inc/" + MonStoreKeys.version(UInt64(epoch))
  }

  init(map: OSDMap) {
    self.map = map
    base = map
    firstIncremental = map.epoch + 1
  }

  init?(store: any MonStoreReader) throws {
    guard let full = store.get(prefix: Self.prefix, key: Self.fullKey()) else { return nil }
    var buffer = full
    map = try OSDMap(from: &buffer)
    if var stored = store.get(prefix: Self.prefix, key: Self.baseKey) {
      base = try OSDMap(from: &stored)
      firstIncremental = base.epoch + 1
    } else {
      // A store from before the base was kept: the history starts at the newest map.
      base = map
      firstIncremental = map.epoch + 1
    }
    for entry in Self.scan(store, "down/") {
      if let osd = Int32(entry.key.dropFirst(5)), let bits = entry.value.littleEndianUInt64 {
        downSince[osd] = Double(bitPattern: bits)
      }
    }
    for entry in Self.scan(store, "nonce/") {
      if let osd = Int32(entry.key.dropFirst(6)), let nonce = entry.value.littleEndianUInt64 {
        bootNonces[osd] = nonce
      }
    }
  }

  /// The service's keys starting with `start`, read in batches that stop at the first other
  /// key (the incremental history sorts among them and may be long).
  static func scan(_ store: any MonStoreReader, _ start: String) -> [MonStoreEntry] {
    var entries: [MonStoreEntry] = []
    var after = start
    while true {
      let batch = store.scan(prefix: prefix, after: after, limit: 1024)
      let matching = batch.prefix { $0.key.hasPrefix(start) }
      entries += matching
      guard matching.count == batch.count, batch.count == 1024, let last = batch.last else {
        return entries
      }
      after = last.key
    }
  }

  /// Puts for the whole state (mkfs).
  func storeAll(into t: inout MonStoreTransaction) {
    t.ops.append(.put(prefix: Self.prefix, key: Self.fullKey(), value: map.encoded()))
    t.ops.append(.put(prefix: Self.prefix, key: Self.baseKey, value: base.encoded()))
  }

  /// An incremental the incremental history holds, or nil.
  static func incremental(_ epoch: UInt32, store: any MonStoreReader) -> ByteBuffer? {
    store.get(prefix: prefix, key: incrementalKey(epoch))
  }

  // MARK: applying committed commands

  /// Changes gathered while applying one committed value; becomes one epoch.
  struct Pending {
    var incremental: OSDMapIncremental
    var view: OSDMap
    var changed = false
    var downChanges: [Int32: Double?] = [:]
    var nonceChanges: [Int32: UInt64?] = [:]

    /// An OSD's boot nonce with this value's changes.
    func nonce(_ osd: Int32, committed: [Int32: UInt64]) -> UInt64? {
      if let changed = nonceChanges[osd] { return changed }
      return committed[osd]
    }
  }

  func begin(stamp: Double) -> Pending {
    Pending(
      incremental: OSDMapIncremental(
        following: map, modified: CephTime(Date(timeIntervalSince1970: stamp))),
      view: map)
  }

  /// Folds `change` into the pending incremental (all or nothing).
  func stage(_ pending: inout Pending, _ change: (inout OSDMapIncremental) throws -> Void)
    throws
  {
    var candidate = pending.incremental
    try change(&candidate)
    var view = map
    try view.apply(candidate)
    pending.incremental = candidate
    pending.view = view
    pending.changed = true
  }

  func apply(_ fields: [String: Any], prefix: String, stamp: Double, into pending: inout Pending)
    -> CommandResult
  {
    do {
      switch prefix {
      case "osd pool create": return try createPool(fields, &pending)
      case "osd pool delete", "osd pool rm": return try deletePool(fields, &pending)
      case "osd pool set": return try setPool(fields, &pending)
      case "osd boot": return try boot(fields, stamp: stamp, &pending)
      case "osd alive": return try alive(fields, &pending)
      case "osd failure", "osd down":
        return try markDown(fields, prefix: prefix, stamp: stamp, &pending)
      case "osd out", "osd in": return try markOutOrIn(fields, prefix: prefix, &pending)
      case "osd set", "osd unset": return try setFlag(fields, set: prefix == "osd set", &pending)
      case "osd pg-temp": return try setPGTemp(fields, &pending)
      case "osd set-full-ratio", "osd set-backfillfull-ratio", "osd set-nearfull-ratio":
        return try setRatio(fields, prefix: prefix, &pending)
      case "osd full-states": return try setFullStates(fields, &pending)
      default:
        return .error(.invalid, "unknown command '\(prefix)'")
      }
    } catch {
      return .error(.invalid, "\(error)")
    }
  }

  /// Makes the pending epoch current and writes it; nil when nothing changed. Every new epoch
  /// drops the pg_temp entries it made meaningless.
  mutating func commit(_ pending: Pending, into t: inout MonStoreTransaction) -> ByteBuffer? {
    var pending = pending
    if pending.changed {
      do {
        try cleanTemps(&pending)
      } catch {
        // Only a map that cannot take the clean-up; keep its epoch without it.
        Log.shared.error("mon", "pg_temp clean-up failed: \(error)")
      }
    }
    for (osd, since) in pending.downChanges {
      downSince[osd] = since
      if let since {
        t.ops.append(
          .put(
            prefix: Self.prefix, key: "down/\(osd)",
            value: ByteBuffer(littleEndian: since.bitPattern)))
      } else {
        t.ops.append(.delete(prefix: Self.prefix, key: "down/\(osd)"))
      }
    }
    for (osd, nonce) in pending.nonceChanges {
      bootNonces[osd] = nonce
      if let nonce {
        t.ops.append(
          .put(prefix: Self.prefix, key: "nonce/\(osd)", value: ByteBuffer(littleEndian: nonce)))
      } else {
        t.ops.append(.delete(prefix: Self.prefix, key: "nonce/\(osd)"))
      }
    }
    guard pending.changed else { return nil }
    map = pending.view
    let encoded = pending.incremental.encoded()
    t.ops.append(.put(prefix: Self.prefix, key: Self.incrementalKey(map.epoch), value: encoded))
    t.ops.append(.put(prefix: Self.prefix, key: Self.fullKey(), value: map.encoded()))
    return encoded
  }

  /// OSDs down longer than `interval` seconds at `now` and still in: the leader proposes them
  /// out, unless the noout flag (cluster-wide or the OSD's own) says not to.
  func dueForOut(now: Double, interval: Double) -> [Int32] {
    guard map.flags & OSDMapFlags.noOut == 0 else { return [] }
    return downSince.filter { osd, since in
      now - since >= interval && map.exists(osd) && !map.isUp(osd) && map.isIn(osd)
        && map.entry(osd)?.state.contains(.noOut) == false
    }.map(\.key).sorted()
  }

  static func ids(_ fields: [String: Any]) -> [Int32] {
    let raw: [Any] = (fields["ids"] as? [Any]) ?? (fields["id"].map { [$0] } ?? [])
    return raw.compactMap { item -> Int32? in
      if let n = item as? Int { return Int32(exactly: n) }
      if let s = item as? String { return Int32(s.hasPrefix("osd.") ? String(s.dropFirst(4)) : s) }
      return nil
    }
  }

  static func validName(_ name: String) -> Bool {
    !name.isEmpty && name.count <= 128
      && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
  }
}
