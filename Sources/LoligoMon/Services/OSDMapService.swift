import Foundation
import LoligoConsensus
import LoligoCore
import LoligoPlacement
import NIOCore

/// The OSD map on Paxos: OSD boot → up (and in, the first time), failure reports → down, down
/// for `mon_osd_down_out_interval` → out, pool create / set / delete, `osd down|out|in`. Every
/// committed value that changes the map makes one new epoch, described by one incremental; the
/// store keeps the newest full map and the last `keepIncrementals` incrementals.
struct OSDMapService {
  static let prefix = "svc_osdmap"
  static let keepIncrementals: UInt32 = 500
  static let maxPools = 1024
  static let maxPGsPerPool: UInt32 = 65536

  var map: OSDMap
  /// When each down OSD went down (proposer's wall clock), for the automatic out.
  var downSince: [Int32: Double] = [:]
  /// The oldest incremental kept.
  var firstIncremental: UInt32

  // MARK: store

  static func fullKey() -> String { "full" }
  static func incrementalKey(_ epoch: UInt32) -> String {
    "inc/" + MonStoreKeys.version(UInt64(epoch))
  }

  init(map: OSDMap) {
    self.map = map
    firstIncremental = map.epoch + 1
  }

  init?(store: any MonStoreReader) throws {
    guard let full = store.get(prefix: Self.prefix, key: Self.fullKey()) else { return nil }
    var buffer = full
    map = try OSDMap(from: &buffer)
    firstIncremental = UInt32(store.getUInt64(prefix: Self.prefix, key: "first_inc"))
    for entry in store.scan(prefix: Self.prefix, after: "down/", limit: 100_000)
    where entry.key.hasPrefix("down/") {
      if let osd = Int32(entry.key.dropFirst(5)), let bits = entry.value.littleEndianUInt64 {
        downSince[osd] = Double(bitPattern: bits)
      }
    }
  }

  /// Puts for the whole state (mkfs).
  func storeAll(into t: inout MonStoreTransaction) {
    t.ops.append(.put(prefix: Self.prefix, key: Self.fullKey(), value: map.encoded()))
    t.ops.append(
      .put(
        prefix: Self.prefix, key: "first_inc",
        value: ByteBuffer(littleEndian: UInt64(firstIncremental)))
    )
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
  }

  func begin(stamp: Double) -> Pending {
    Pending(
      incremental: OSDMapIncremental(
        following: map, modified: CephTime(Date(timeIntervalSince1970: stamp))),
      view: map)
  }

  /// Folds `change` into the pending incremental (all or nothing).
  private func stage(_ pending: inout Pending, _ change: (inout OSDMapIncremental) throws -> Void)
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
    let view = pending.view
    do {
      switch prefix {
      case "osd pool create":
        guard let name = fields["pool"] as? String, Self.validName(name) else {
          return .error(
            .invalid, "pool name must be 1-128 characters of letters, digits, '-', '_', '.'")
        }
        let pgNum = (fields["pg_num"] as? Int) ?? 32
        let size = (fields["size"] as? Int) ?? 3
        let minSize = (fields["min_size"] as? Int) ?? (size - size / 2)
        if let id = view.poolID(named: name), let existing = view.pool(id) {
          if UInt32(exactly: pgNum) == existing.pgNum && Int(existing.size) == size {
            return CommandResult(0, "pool '\(name)' already exists")
          }
          return .error(.exists, "pool '\(name)' exists with other settings")
        }
        guard (1...Int(Self.maxPGsPerPool)).contains(pgNum) else {
          return .error(.range, "pg_num must be 1...\(Self.maxPGsPerPool)")
        }
        guard (1...10).contains(size), (1...size).contains(minSize) else {
          return .error(.range, "size must be 1...10 and min_size 1...size")
        }
        guard view.pools.count < Self.maxPools else { return .error(.range, "too many pools") }
        let id = view.poolMax + 1
        try stage(&pending) { inc in
          inc.newPoolMax = id
          inc.newPools[id] = Pool(
            name: name, size: UInt8(size), minSize: UInt8(minSize), pgNum: UInt32(pgNum),
            lastChange: inc.epoch)
        }
        return CommandResult(0, "pool '\(name)' created (id \(id))")

      case "osd pool delete", "osd pool rm":
        guard let name = fields["pool"] as? String, let id = view.poolID(named: name) else {
          return CommandResult(0, "pool '\(fields["pool"] ?? "")' does not exist")
        }
        try stage(&pending) { $0.oldPools.insert(id) }
        return CommandResult(0, "pool '\(name)' removed")

      case "osd pool set":
        guard let name = fields["pool"] as? String, let id = view.poolID(named: name),
          var pool = view.pool(id)
        else { return .error(.noEntry, "unknown pool '\(fields["pool"] ?? "")'") }
        guard let variable = fields["var"] as? String, let text = fields["val"] as? String,
          let value = Int(text)
        else { return .error(.invalid, "osd pool set needs var and an integer val") }
        switch variable {
        case "size":
          guard (1...10).contains(value) else { return .error(.range, "size must be 1...10") }
          pool.size = UInt8(value)
          if Int(pool.minSize) > value { pool.minSize = UInt8(value) }
        case "min_size":
          guard (1...Int(pool.size)).contains(value) else {
            return .error(.range, "min_size must be 1...size")
          }
          pool.minSize = UInt8(value)
        case "pg_num":
          guard (1...Int(Self.maxPGsPerPool)).contains(value) else {
            return .error(.range, "pg_num out of range")
          }
          pool.setPGNum(UInt32(value))
        case "pgp_num":
          guard (1...Int(pool.pgNum)).contains(value) else {
            return .error(.range, "pgp_num must be 1...pg_num")
          }
          pool.setPGPNum(UInt32(value))
        default:
          return .error(.invalid, "cannot set '\(variable)' (size, min_size, pg_num, pgp_num)")
        }
        pool.lastChange = pending.incremental.epoch
        try stage(&pending) { $0.newPools[id] = pool }
        return CommandResult(0, "set pool \(id) \(variable) to \(value)")

      case "osd boot":
        guard let osd = (fields["id"] as? Int).flatMap({ Int32(exactly: $0) }), osd >= 0,
          osd < OSDMap.maximumOSDs,
          let addr = fields["addr"] as? String
        else { return .error(.invalid, "osd boot needs id and addr") }
        let host =
          (fields["host"] as? String).flatMap { Self.validName($0) ? $0 : nil } ?? "localhost"
        let chooseleaf = (fields["chooseleaf_type"] as? Int) ?? 1
        let wasUp = view.isUp(osd)
        let existed = view.exists(osd)
        var hosts = CrushLayout.hosts(of: view.crush)
        let placed = hosts.values.contains { $0.contains(osd) }
        if !placed { hosts[host, default: []].append(osd) }
        let crush =
          placed
          ? nil
          : try CrushLayout.build(hosts: hosts, chooseleafType: chooseleaf, previous: view.crush)
        try stage(&pending) { inc in
          if osd >= view.maxOSD { inc.newMaxOSD = osd + 1 }
          if wasUp { inc.newState[osd, default: []].formSymmetricDifference(.up) }
          inc.newUp[osd] = .init(publicAddress: addr)
          if !existed { inc.newWeight[osd] = 0x10000 }
          if let crush { inc.crush = crush }
        }
        pending.downChanges[osd] = .some(nil)
        return CommandResult(0, "osd.\(osd) up at \(addr)")

      case "osd failure", "osd down":
        let ids = Self.ids(fields)
        guard !ids.isEmpty else { return .error(.invalid, "no OSD ids given") }
        var marked: [Int32] = []
        for osd in ids where view.isUp(osd) && pending.view.isUp(osd) {
          try stage(&pending) { $0.newState[osd, default: []].formSymmetricDifference(.up) }
          pending.downChanges[osd] = .some(stamp)
          marked.append(osd)
        }
        if prefix == "osd down", let unknown = ids.first(where: { !view.exists($0) }) {
          return .error(.noEntry, "osd.\(unknown) does not exist")
        }
        return CommandResult(
          0,
          marked.isEmpty
            ? "already down" : "marked down \(marked.map { "osd.\($0)" }.joined(separator: ", "))")

      case "osd out", "osd in":
        let ids = Self.ids(fields)
        guard !ids.isEmpty else { return .error(.invalid, "no OSD ids given") }
        if let unknown = ids.first(where: { !view.exists($0) }) {
          return .error(.noEntry, "osd.\(unknown) does not exist")
        }
        let weight: UInt32 = prefix == "osd in" ? 0x10000 : 0
        try stage(&pending) { inc in for osd in ids { inc.newWeight[osd] = weight } }
        return CommandResult(
          0,
          "marked \(prefix == "osd in" ? "in" : "out") \(ids.map { "osd.\($0)" }.joined(separator: ", "))"
        )

      default:
        return .error(.invalid, "unknown command '\(prefix)'")
      }
    } catch {
      return .error(.invalid, "\(error)")
    }
  }

  /// Makes the pending epoch current and writes it; nil when nothing changed.
  mutating func commit(_ pending: Pending, into t: inout MonStoreTransaction) -> ByteBuffer? {
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
    guard pending.changed else { return nil }
    map = pending.view
    let encoded = pending.incremental.encoded()
    t.ops.append(.put(prefix: Self.prefix, key: Self.incrementalKey(map.epoch), value: encoded))
    t.ops.append(.put(prefix: Self.prefix, key: Self.fullKey(), value: map.encoded()))
    while map.epoch >= firstIncremental && map.epoch - firstIncremental >= Self.keepIncrementals {
      t.ops.append(.delete(prefix: Self.prefix, key: Self.incrementalKey(firstIncremental)))
      firstIncremental += 1
    }
    t.ops.append(
      .put(
        prefix: Self.prefix, key: "first_inc",
        value: ByteBuffer(littleEndian: UInt64(firstIncremental)))
    )
    return encoded
  }

  /// OSDs down longer than `interval` seconds at `now` and still in: the leader proposes them out.
  func dueForOut(now: Double, interval: Double) -> [Int32] {
    downSince.filter { osd, since in
      now - since >= interval && map.exists(osd) && !map.isUp(osd) && map.isIn(osd)
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
