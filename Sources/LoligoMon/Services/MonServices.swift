import Foundation
import LoligoConsensus
import LoligoCore
import LoligoMessages
import LoligoPlacement
import NIOCore

/// Everything the monitors keep on Paxos, applied from committed values in version order:
/// the monitor map, the OSD map, the config-key store. Each applied version is persisted with
/// the services' changes in one store transaction (`svc_meta/applied_version`), so after a
/// crash the versions the core replays are skipped exactly when they were already applied.
/// Confined to the monitor's core loop.
final class MonServices {
  static let metaPrefix = "svc_meta"
  static let configKeyPrefix = "svc_config_key"
  /// The prefixes a full sync must copy along with the Paxos versions.
  static let storePrefixes: Set<String> = [metaPrefix, configKeyPrefix, OSDMapService.prefix]
  /// `mon_config_key_max_entry_size`: largest config-key value.
  static let maxConfigValue = 64 << 10
  static let maxConfigKey = 1024

  let fsid: UUID
  /// Where committed state is read back (the OSD map history when trimming).
  private(set) var store: any MonStoreReader
  private(set) var monmap: MonMap
  private(set) var osdmap: OSDMapService
  private(set) var configKeys: [String: ByteBuffer]
  private(set) var appliedVersion: UInt64
  /// `osd_failsafe_full_ratio`, against which health checks the order of the map's ratios.
  var failsafeRatio = 0.97

  /// The first store contents of a new monitor (`--mkfs`): every monitor of a cluster gets the
  /// same, so their services start equal.
  static func mkfs(monmap: MonMap, ratios: FullRatios = FullRatios()) -> MonStoreTransaction {
    var t = MonStoreTransaction()
    var map = OSDMap(
      fsid: monmap.fsid,
      crush: (try? CrushLayout.build(hosts: [:], chooseleafType: 1, previous: nil)) ?? CrushMap())
    map.epoch = 1
    map.fullRatio = ratios.full
    map.backfillfullRatio = ratios.backfillfull
    map.nearfullRatio = ratios.nearfull
    OSDMapService(map: map).storeAll(into: &t)
    var encodedMonmap = ByteBuffer()
    monmap.encode(to: &encodedMonmap)
    t.ops.append(.put(prefix: metaPrefix, key: "monmap", value: encodedMonmap))
    t.ops.append(
      .put(prefix: metaPrefix, key: "applied_version", value: ByteBuffer(littleEndian: UInt64(0))))
    return t
  }

  init(store: any MonStoreReader) throws {
    guard var raw = store.get(prefix: Self.metaPrefix, key: "monmap") else {
      throw DaemonStoreError.missing(
        "no monitor map in the store (was the monitor created with --mkfs?)")
    }
    monmap = try MonMap(from: &raw)
    fsid = monmap.fsid
    self.store = store
    guard let service = try OSDMapService(store: store) else {
      throw DaemonStoreError.missing("no OSD map in the store")
    }
    osdmap = service
    appliedVersion = store.getUInt64(prefix: Self.metaPrefix, key: "applied_version")
    var keys: [String: ByteBuffer] = [:]
    var after: String?
    while true {
      let batch = store.scan(prefix: Self.configKeyPrefix, after: after, limit: 1000)
      for entry in batch { keys[entry.key] = entry.value }
      guard batch.count == 1000 else { break }
      after = batch.last?.key
    }
    configKeys = keys
  }

  struct Applied {
    var transaction = MonStoreTransaction()
    /// Results for proposals, keyed by (client id, tid).
    var results: [ClientKey: CommandResult] = [:]
    /// The new OSD map epoch's incremental, if the map changed.
    var osdmapIncremental: ByteBuffer?
  }

  struct ClientKey: Hashable {
    var clientId: UInt64
    var tid: UInt64
  }

  /// Applies one committed version (skipping what the store says was applied already).
  func apply(_ value: CommittedValue) -> Applied {
    var applied = Applied()
    guard value.version > appliedVersion else { return applied }
    let stamp =
      value.proposals.compactMap { try? MonProposalPayload(decoding: $0.payload).stamp }.max() ?? 0
    var pending = osdmap.begin(stamp: stamp)
    var trimTo: UInt32?
    for proposal in value.proposals {
      let key = ClientKey(clientId: proposal.clientId, tid: proposal.tid)
      guard let payload = try? MonProposalPayload(decoding: proposal.payload) else {
        applied.results[key] = .error(.invalid, "undecodable proposal")
        continue
      }
      let fields = payload.fields
      let prefix = fields["prefix"] as? String ?? ""
      if prefix.hasPrefix("config-key ") {
        applied.results[key] = applyConfigKey(prefix, fields, payload.input, &applied.transaction)
      } else if prefix == "osd trim" {
        // The leader's own: how far the OSD map history may go (after this value's epoch).
        guard let to = (fields["to"] as? Int).flatMap({ UInt32(exactly: $0) }) else {
          applied.results[key] = .error(.invalid, "osd trim needs to, an epoch")
          continue
        }
        trimTo = max(trimTo ?? 0, to)
        applied.results[key] = CommandResult(0, "trim osdmap history to \(to)")
      } else {
        applied.results[key] = osdmap.apply(
          fields, prefix: prefix, stamp: payload.stamp, into: &pending)
      }
    }
    applied.osdmapIncremental = osdmap.commit(pending, into: &applied.transaction)
    if let trimTo { osdmap.trim(to: trimTo, store: store, into: &applied.transaction) }
    appliedVersion = value.version
    applied.transaction.ops.append(
      .put(
        prefix: Self.metaPrefix, key: "applied_version",
        value: ByteBuffer(littleEndian: value.version)))
    return applied
  }

  private func applyConfigKey(
    _ prefix: String, _ fields: [String: Any], _ input: ByteBuffer, _ t: inout MonStoreTransaction
  ) -> CommandResult {
    guard let key = fields["key"] as? String, !key.isEmpty, key.utf8.count <= Self.maxConfigKey
    else {
      return .error(.invalid, "config-key needs a key of 1...\(Self.maxConfigKey) bytes")
    }
    switch prefix {
    case "config-key set", "config-key put":
      let value = (fields["val"] as? String).map { ByteBuffer(string: $0) } ?? input
      guard value.readableBytes <= Self.maxConfigValue else {
        return .error(.range, "value over \(Self.maxConfigValue) bytes")
      }
      configKeys[key] = value
      t.ops.append(.put(prefix: Self.configKeyPrefix, key: key, value: value))
      return CommandResult(0, "set \(key)")
    case "config-key rm", "config-key del":
      configKeys[key] = nil
      t.ops.append(.delete(prefix: Self.configKeyPrefix, key: key))
      return CommandResult(0, "key deleted")
    default:
      return .error(.invalid, "unknown command '\(prefix)'")
    }
  }

  // MARK: reads

  /// Answers a read-only command from the applied state; nil if `prefix` is not a read.
  /// `pgmap` is the leader's PG totals for `status` and `health` (nil elsewhere: every PG
  /// shows as unknown).
  func read(
    _ prefix: String, _ fields: [String: Any], status: MonStatus, pgmap: PGMapSummary? = nil
  ) -> CommandResult? {
    let map = osdmap.map
    switch prefix {
    case "config-key get":
      guard let key = fields["key"] as? String else {
        return .error(.invalid, "config-key get needs a key")
      }
      guard let value = configKeys[key] else {
        return .error(.noEntry, "key '\(key)' doesn't exist")
      }
      return CommandResult(0, "", output: value)
    case "config-key exists":
      guard let key = fields["key"] as? String else { return .error(.invalid, "needs a key") }
      return configKeys[key] == nil
        ? .error(.noEntry, "key '\(key)' doesn't exist") : CommandResult(0, "key '\(key)' exists")
    case "config-key ls", "config-key list":
      return .json(configKeys.keys.sorted())
    case "config-key dump":
      return .json(
        Dictionary(uniqueKeysWithValues: configKeys.map { ($0.key, String(buffer: $0.value)) }))
    case "quorum_status":
      return .json(quorumReport(status))
    case "mon dump":
      return .json(monmapReport())
    case "status", "health":
      let pgs = pgmap ?? PGMap(now: 0, staleAfter: .infinity, map: map).summary(map, now: 0)
      var report: [String: Any] = [
        "fsid": fsid.uuidString.lowercased(), "health": health(status, pgs: pgs),
      ]
      if prefix == "status" {
        report["election_epoch"] = status.electionEpoch
        report["quorum"] = quorumReport(status)["quorum"]
        report["quorum_names"] = quorumReport(status)["quorum_names"]
        report["quorum_leader_name"] = quorumReport(status)["quorum_leader_name"]
        report["monmap"] = monmapReport()
        report["osdmap"] = [
          "epoch": Int(map.epoch), "num_osds": map.osds.filter(\.exists).count,
          "num_up_osds": map.osds.filter(\.isUp).count,
          "num_in_osds": map.osds.filter { $0.exists && $0.isIn }.count,
        ]
        report["pools"] = poolReport()
        report["paxos"] = [
          "first_committed": status.firstCommitted, "last_committed": status.lastCommitted,
        ]
        report["num_pgs"] = map.pools.values.reduce(0) { $0 + Int($1.pgNum) }
        report["pgmap"] = pgs.json
        report["config_keys"] = configKeys.count
      }
      return .json(report)
    case "osd dump":
      return .json(osdDump())
    case "osd tree":
      return .json(osdTree())
    case "osd pool ls":
      return .json(poolReport())
    case "osd getmap":
      return CommandResult(0, "epoch \(map.epoch)", output: map.encoded())
    case "pg map":
      switch OSDMapService.existingPG(fields["pgid"], in: map) {
      case .failure(let refusal): return refusal.result
      case .success(let pgid):
        guard let mapping = try? map.map(pg: pgid) else {
          return .error(.noEntry, "pg \(pgid) does not exist")
        }
        return .json([
          "epoch": Int(map.epoch), "pgid": "\(pgid)", "raw_pgid": "\(pgid)",
          "up": mapping.up.map(Int.init), "acting": mapping.acting.map(Int.init),
          "up_primary": Int(mapping.upPrimary), "acting_primary": Int(mapping.actingPrimary),
        ])
      }
    default:
      return nil
    }
  }

  func quorumReport(_ status: MonStatus) -> [String: Any] {
    let quorum = Array(status.quorum).sorted()
    return [
      "election_epoch": status.electionEpoch,
      "quorum": quorum,
      "quorum_names": quorum.compactMap { monmap.name(ofRank: $0) },
      "quorum_leader_name": status.leader.flatMap { monmap.name(ofRank: $0) } ?? "",
      "leader": status.leader.flatMap { monmap.name(ofRank: $0) } ?? "",
      "monmap": monmapReport(),
    ]
  }

  func monmapReport() -> [String: Any] {
    [
      "fsid": fsid.uuidString.lowercased(), "epoch": Int(monmap.epoch),
      "mons": monmap.monitors.enumerated().map { rank, entry in
        ["rank": rank, "name": entry.name, "addr": entry.addr.hostPort] as [String: Any]
      },
    ]
  }

  func poolReport() -> [[String: Any]] {
    osdmap.map.pools.sorted { $0.key < $1.key }.map { id, pool in
      [
        "pool": Int(id), "pool_name": pool.name, "size": Int(pool.size),
        "min_size": Int(pool.minSize),
        "pg_num": Int(pool.pgNum), "pgp_num": Int(pool.pgpNum), "crush_rule": Int(pool.crushRule),
        "flags_names": pool.flags.names.joined(separator: ","),
      ]
    }
  }

  func osdDump() -> [String: Any] {
    let map = osdmap.map
    var osds: [[String: Any]] = []
    for (index, entry) in map.osds.enumerated() where entry.exists {
      osds.append([
        "osd": index, "up": entry.isUp ? 1 : 0, "in": entry.isIn ? 1 : 0,
        "weight": Double(entry.weight) / 65536, "public_addr": entry.publicAddress,
        "up_from": Int(entry.upFrom), "up_thru": Int(entry.upThru), "down_at": Int(entry.downAt),
        "state": entry.state.names,
      ])
    }
    let flags = OSDMapFlags.names(map.flags)
    return [
      "epoch": Int(map.epoch), "fsid": fsid.uuidString.lowercased(), "max_osd": Int(map.maxOSD),
      "flags": flags.joined(separator: ","), "flags_num": Int(map.flags), "flags_set": flags,
      "pools": poolReport(), "osds": osds,
      "pg_temp": map.pgTemp.sorted { $0.key < $1.key }.map { pg, osds in
        ["pgid": "\(pg)", "osds": osds.map(Int.init)] as [String: Any]
      },
    ]
  }

  func osdTree() -> [String: Any] {
    let map = osdmap.map
    let hosts = CrushLayout.hosts(of: map.crush)
    var nodes: [[String: Any]] = [
      [
        "id": -1, "name": "default", "type": "root",
        "children": hosts.keys.sorted().compactMap { map.crush.itemID(named: $0).map(Int.init) },
      ]
    ]
    for (host, members) in hosts.sorted(by: { $0.key < $1.key }) {
      nodes.append([
        "id": Int(map.crush.itemID(named: host) ?? 0), "name": host, "type": "host",
        "children": members.sorted().map(Int.init),
      ])
      for osd in members.sorted() {
        let entry = map.entry(osd)
        nodes.append([
          "id": Int(osd), "name": "osd.\(osd)", "type": "osd", "crush_weight": 1.0,
          "status": entry?.isUp == true ? "up" : "down",
          "reweight": Double(entry?.weight ?? 0) / 65536,
        ])
      }
    }
    return ["nodes": nodes]
  }

  func health(_ status: MonStatus, pgs: PGMapSummary) -> [String: Any] {
    var checks = pgs.healthChecks
    let full = OSDMapService.fullHealth(osdmap.map, failsafeRatio: failsafeRatio)
    checks.merge(full.checks) { _, new in new }
    let outOfQuorum = monmap.count - Array(status.quorum).count
    if outOfQuorum > 0 {
      checks["MON_DOWN"] = "\(outOfQuorum)/\(monmap.count) mons down"
    }
    let map = osdmap.map
    let down = map.osds.filter { $0.exists && !$0.isUp }.count
    if down > 0 { checks["OSD_DOWN"] = "\(down) osds down" }
    let flags = OSDMapFlags.names(map.flags)
    if !flags.isEmpty {
      checks["OSDMAP_FLAGS"] = "\(flags.joined(separator: ",")) flag(s) set"
    }
    let up = map.osds.filter(\.isUp).count
    let undersized = map.pools.values.filter { Int($0.size) > up }.map(\.name).sorted()
    if !undersized.isEmpty, map.osds.contains(where: \.exists) {
      checks["POOL_UNDERSIZED"] =
        "pools with size above up OSDs: \(undersized.joined(separator: ", "))"
    }
    // A full OSD refuses writes: an error, as in Ceph; the rest are warnings.
    let status = full.error ? "HEALTH_ERR" : checks.isEmpty ? "HEALTH_OK" : "HEALTH_WARN"
    return ["status": status, "checks": checks, "detail": full.detail]
  }

  /// Reloads everything from the store (after a full sync replaced it).
  func reload(from store: any MonStoreReader) throws {
    let fresh = try MonServices(store: store)
    self.store = store
    monmap = fresh.monmap
    osdmap = fresh.osdmap
    configKeys = fresh.configKeys
    appliedVersion = fresh.appliedVersion
  }
}

/// The map's full, backfillfull and nearfull ratios a new cluster starts with (Ceph's
/// mon_osd_full_ratio, mon_osd_backfillfull_ratio, mon_osd_nearfull_ratio).
struct FullRatios {
  var full = 0.95
  var backfillfull = 0.90
  var nearfull = 0.85
}

enum DaemonStoreError: Error, CustomStringConvertible {
  case missing(String)
  var description: String {
    switch self {
    case .missing(let why): return why
    }
  }
}
