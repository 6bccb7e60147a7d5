/// `loligo status` as text, from the monitors' `status` JSON: the way `ceph -s` lays it out
/// (cluster, services, data with Ceph's `pgs:` lines, io while recovering).
enum StatusText {
  static func render(_ value: Any) -> String {
    let s = value as? [String: Any] ?? [:]
    let health = s["health"] as? [String: Any] ?? [:]
    let checks = (health["checks"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }
    let monmap = s["monmap"] as? [String: Any] ?? [:]
    let mons = (monmap["mons"] as? [[String: Any]] ?? []).count
    let quorum = s["quorum_names"] as? [String] ?? []
    let osdmap = s["osdmap"] as? [String: Any] ?? [:]
    let paxos = s["paxos"] as? [String: Any] ?? [:]
    var text =
      "  cluster:\n    id:     \(s["fsid"] ?? "?")\n    health: \(health["status"] ?? "?")\n"
    for (name, message) in checks { text += "            \(name): \(message)\n" }
    text += "\n  services:\n"
    text +=
      "    mon: \(mons) daemons, quorum \(quorum.joined(separator: ",")) (leader \(s["quorum_leader_name"] ?? "-"), election epoch \(s["election_epoch"] ?? 0))\n"
    text +=
      "    osd: \(osdmap["num_osds"] ?? 0) osds: \(osdmap["num_up_osds"] ?? 0) up, \(osdmap["num_in_osds"] ?? 0) in (osdmap epoch \(osdmap["epoch"] ?? 0))\n"
    text +=
      "    paxos: versions \(paxos["first_committed"] ?? 0)...\(paxos["last_committed"] ?? 0), \(s["config_keys"] ?? 0) config keys\n"
    text += data(s["pgmap"] as? [String: Any] ?? [:])
    return text
  }

  static func int(_ value: Any?) -> Int64 { (value as? Int).map(Int64.init) ?? 0 }

  /// The `data:` section and, while recovering, the `io:` one.
  static func data(_ pg: [String: Any]) -> String {
    var text = "\n  data:\n"
    text += "    pools:   \(int(pg["num_pools"])) pools, \(int(pg["num_pgs"])) pgs\n"
    text +=
      "    objects: \(CephUnits.si(int(pg["num_objects"]))) objects, \(CephUnits.bytes(int(pg["data_bytes"])))\n"
    if int(pg["bytes_total"]) > 0 {
      text +=
        "    usage:   \(CephUnits.bytes(int(pg["bytes_used"]))) used, \(CephUnits.bytes(int(pg["bytes_avail"]))) / \(CephUnits.bytes(int(pg["bytes_total"]))) avail\n"
    }
    var lines: [String] = []
    if let ratio = pg["unknown_pgs_ratio"] as? Double {
      lines.append("\(CephUnits.percent(ratio)) pgs unknown")
    }
    if let ratio = pg["inactive_pgs_ratio"] as? Double {
      lines.append("\(CephUnits.percent(ratio)) pgs not active")
    }
    for what in ["degraded", "misplaced", "unfound"] {
      guard let ratio = pg["\(what)_ratio"] as? Double else { continue }
      lines.append(
        "\(int(pg["\(what)_objects"]))/\(int(pg["\(what)_total"])) objects \(what) (\(CephUnits.percent(ratio)))"
      )
    }
    let states = pg["pgs_by_state"] as? [[String: Any]] ?? []
    let width = states.map { String(int($0["count"])).count }.max() ?? 1
    for state in states {
      let count = String(int(state["count"]))
      lines.append(
        count + String(repeating: " ", count: width - count.count) + " "
          + (state["state_name"] as? String ?? "?"))
    }
    for (index, line) in lines.enumerated() {
      text += (index == 0 ? "    pgs:     " : "             ") + line + "\n"
    }
    if pg["recovering_bytes_per_sec"] != nil || pg["recovering_objects_per_sec"] != nil {
      text += "\n  io:\n"
      text +=
        "    recovery: \(CephUnits.bytes(int(pg["recovering_bytes_per_sec"])))/s, \(CephUnits.si(int(pg["recovering_objects_per_sec"]))) objects/s\n"
    }
    return text
  }
}
