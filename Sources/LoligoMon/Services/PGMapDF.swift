import LoligoPlacement

/// `df` and `osd df`, from the leader's PG map and the OSDs' space reports, with the keys of
/// Ceph's `ceph df -f json` and `ceph osd df -f json` (no device classes: every OSD is one
/// kind here).
enum PGMapDF {
  /// `ceph df`: raw space over the OSDs up, and per pool what is stored, its objects, the raw
  /// bytes that takes, and how much more it can take (`max_avail`).
  static func df(_ pgmap: PGMap, map: OSDMap, now: Double) -> [String: Any] {
    let space = reportedUp(pgmap, map)
    let total = space.values.reduce(Int64(0)) { $0 + $1.kb } * 1024
    let avail = space.values.reduce(Int64(0)) { $0 + $1.kbAvail } * 1024
    let used = space.values.reduce(Int64(0)) { $0 + $1.kbUsed } * 1024
    var stored: [Int64: (bytes: Int64, objects: Int64)] = [:]
    for view in pgmap.views(map, now: now) {
      guard let stat = view.record?.stat else { continue }
      stored[view.pgid.pool, default: (0, 0)].bytes += stat.numBytes
      stored[view.pgid.pool, default: (0, 0)].objects += stat.numObjects
    }
    let raw = rawAvailable(space, map: map)
    let pools: [[String: Any]] = map.pools.sorted { $0.key < $1.key }.map { id, pool in
      let size = Int64(max(1, pool.size))
      let (bytes, objects) = stored[id] ?? (0, 0)
      let maxAvail = raw / size
      let percent = bytes + maxAvail > 0 ? Double(bytes) / Double(bytes + maxAvail) : 0
      return [
        "name": pool.name, "id": Int(id),
        "stats": [
          "stored": bytes, "objects": objects, "bytes_used": bytes * size,
          "kb_used": bytes * size / 1024, "percent_used": percent, "max_avail": maxAvail,
        ] as [String: Any],
      ]
    }
    return [
      "stats": [
        "total_bytes": total, "total_avail_bytes": avail, "total_used_bytes": used,
        "total_used_raw_bytes": used,
        "total_used_raw_ratio": total > 0 ? Double(used) / Double(total) : 0,
        "num_osds": space.count, "num_per_pool_osds": space.count,
      ] as [String: Any],
      "pools": pools,
    ]
  }

  /// `ceph osd df`: each OSD's size, use and PGs, and how far from the average it is.
  static func osdDF(_ pgmap: PGMap, map: OSDMap) -> [String: Any] {
    var pgs: [Int32: Int] = [:]
    for (id, _) in map.pools {
      for mapping in (try? map.mapAllPGs(pool: id)) ?? [] {
        for osd in Set(mapping.up + mapping.acting) where osd >= 0 { pgs[osd, default: 0] += 1 }
      }
    }
    let space = pgmap.osdSpace.filter { map.exists($0.key) }
    let utilization = space.mapValues { $0.kb > 0 ? Double($0.kbUsed) / Double($0.kb) * 100 : 0 }
    let totalKB = space.values.reduce(Int64(0)) { $0 + $1.kb }
    let usedKB = space.values.reduce(Int64(0)) { $0 + $1.kbUsed }
    let average = totalKB > 0 ? Double(usedKB) / Double(totalKB) * 100 : 0
    var nodes: [[String: Any]] = []
    var variances: [Double] = []
    for (index, entry) in map.osds.enumerated() where entry.exists {
      let osd = Int32(index)
      let reported = space[osd] ?? OSDSpace(kb: 0, kbUsed: 0, kbAvail: 0)
      let use = utilization[osd] ?? 0
      let variance = average > 0 ? use / average : 0
      if space[osd] != nil { variances.append(variance) }
      nodes.append([
        "id": index, "name": "osd.\(index)", "type": "osd", "type_id": 0,
        "crush_weight": 1.0, "reweight": Double(entry.weight) / 65536,
        "kb": reported.kb, "kb_used": reported.kbUsed, "kb_used_data": reported.kbUsed,
        "kb_avail": reported.kbAvail, "utilization": use, "var": variance,
        "pgs": pgs[osd] ?? 0, "status": entry.isUp ? "up" : "down",
        "state": OSDMapService.fullStateName(entry.state),
      ])
    }
    let deviation =
      utilization.isEmpty
      ? 0
      : (utilization.values.reduce(0) { $0 + ($1 - average) * ($1 - average) }
        / Double(utilization.count)).squareRoot()
    return [
      "nodes": nodes, "stray": [] as [Any],
      "summary": [
        "total_kb": totalKB, "total_kb_used": usedKB, "total_kb_used_data": usedKB,
        "total_kb_avail": space.values.reduce(Int64(0)) { $0 + $1.kbAvail },
        "average_utilization": average, "min_var": variances.min() ?? 0,
        "max_var": variances.max() ?? 0, "dev": deviation,
      ] as [String: Any],
    ]
  }

  /// The reports of the OSDs up in `map`.
  static func reportedUp(_ pgmap: PGMap, _ map: OSDMap) -> [Int32: OSDSpace] {
    pgmap.osdSpace.filter { map.isUp($0.key) }
  }

  /// Raw bytes the cluster can still take before its first OSD is full, with data spread by
  /// weight (Ceph's `get_rule_avail`): each up and in OSD's room below the full ratio, divided
  /// by its share of the weight; the smallest of them.
  static func rawAvailable(_ space: [Int32: OSDSpace], map: OSDMap) -> Int64 {
    let members = space.filter { map.isIn($0.key) && (map.entry($0.key)?.weight ?? 0) > 0 }
    let totalWeight = members.keys.reduce(0.0) { $0 + Double(map.entry($1)?.weight ?? 0) }
    guard totalWeight > 0 else { return 0 }
    let reserve = map.fullRatio > 0 ? 1 - map.fullRatio : 0
    var smallest = Double.infinity
    for (osd, reported) in members {
      let room = max(0, Double(reported.kbAvail) - reserve * Double(reported.kb)) * 1024
      let share = Double(map.entry(osd)?.weight ?? 0) / totalWeight
      smallest = min(smallest, room / share)
    }
    return smallest.isFinite ? Int64(smallest) : 0
  }
}
