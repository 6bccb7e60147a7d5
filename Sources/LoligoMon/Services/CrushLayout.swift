import LoligoConsensus
import LoligoPlacement

/// The CRUSH map the monitors maintain: a `default` root, one host bucket per host that has
/// OSDs, each OSD under its host with weight 1.0, and one replicated rule choosing leaves of
/// type `host` (or `osd` when `osd_crush_chooseleaf_type` is 0, for clusters on one machine —
/// the setting Ceph's vstart uses). Bucket ids stay stable as OSDs and hosts are added, so
/// existing placements move only as much as straw2's weights require.
enum CrushLayout {
  /// Ceph's default type hierarchy.
  static let types: [(Int, String)] = [
    (0, "osd"), (1, "host"), (2, "chassis"), (3, "rack"), (4, "row"), (5, "pdu"), (6, "pod"),
    (7, "room"), (8, "datacenter"), (9, "zone"), (10, "region"), (11, "root"),
  ]

  /// Builds the map for `hosts` (host name → OSD ids), reusing bucket ids from `previous`.
  static func build(hosts: [String: [Int32]], chooseleafType: Int, previous: CrushMap?) throws
    -> CrushMap
  {
    var lines = [
      "tunable choose_local_tries 0", "tunable choose_local_fallback_tries 0",
      "tunable choose_total_tries 50", "tunable chooseleaf_descend_once 1",
      "tunable chooseleaf_vary_r 1", "tunable chooseleaf_stable 1", "tunable straw_calc_version 1",
      "tunable allowed_bucket_algs 54", "",
    ]
    let osds = hosts.values.flatMap { $0 }.sorted()
    for osd in osds { lines.append("device \(osd) osd.\(osd)") }
    lines.append("")
    for (id, name) in types { lines.append("type \(id) \(name)") }
    lines.append("")
    // Stable ids: the root is -1; hosts keep theirs, new hosts get the next free one.
    var used = Set<Int32>([-1])
    var ids: [String: Int32] = [:]
    for name in hosts.keys {
      if let id = previous?.itemID(named: name), id < -1 {
        ids[name] = id
        used.insert(id)
      }
    }
    var next: Int32 = -2
    for name in hosts.keys.sorted() where ids[name] == nil {
      while used.contains(next) { next -= 1 }
      ids[name] = next
      used.insert(next)
    }
    for name in hosts.keys.sorted(by: { ids[$0]! > ids[$1]! }) {
      let members = hosts[name]!.sorted()
      lines.append("host \(name) {")
      lines.append("\tid \(ids[name]!)")
      lines.append("\talg straw2")
      lines.append("\thash 0")
      for osd in members { lines.append("\titem osd.\(osd) weight 1.00000") }
      lines.append("}")
    }
    lines.append("root default {")
    lines.append("\tid -1")
    lines.append("\talg straw2")
    lines.append("\thash 0")
    for name in hosts.keys.sorted(by: { ids[$0]! > ids[$1]! }) {
      lines.append("\titem \(name) weight \(hosts[name]!.count).00000")
    }
    lines.append("}")
    lines.append("")
    let leaf = types.first { $0.0 == chooseleafType }?.1 ?? "host"
    lines += [
      "rule replicated_rule {", "\tid 0", "\ttype replicated", "\tmin_size 1", "\tmax_size 10",
      "\tstep take default", "\tstep chooseleaf firstn 0 type \(leaf)", "\tstep emit", "}",
    ]
    return try CrushTextParser.parse(lines.joined(separator: "\n") + "\n")
  }

  /// Host name → OSDs, read back from a map built by `build`.
  static func hosts(of map: CrushMap) -> [String: [Int32]] {
    var result: [String: [Int32]] = [:]
    for bucket in map.allBuckets where bucket.id < -1 && !map.isShadow(bucket.id) {
      guard let name = map.itemNames[bucket.id] else { continue }
      result[name] = bucket.items.filter { $0 >= 0 }
    }
    return result
  }
}
