import LoligoPlacement

/// Full OSDs: the ratios in the map (`osd set-full-ratio`, `set-backfillfull-ratio`,
/// `set-nearfull-ratio`, Ceph's commands), the per-OSD full states the leader sets from the
/// OSDs' space reports (`osd full-states`, its own proposal, as Ceph's monitors take an OSD's
/// MOSDFull), and the health checks they raise (OSD_NEARFULL, OSD_BACKFILLFULL, OSD_FULL).
extension OSDMapService {
  /// The map field a ratio command sets.
  static func ratioField(_ prefix: String) -> WritableKeyPath<OSDMapIncremental, Double?>? {
    switch prefix {
    case "osd set-full-ratio": return \.newFullRatio
    case "osd set-backfillfull-ratio": return \.newBackfillfullRatio
    case "osd set-nearfull-ratio": return \.newNearfullRatio
    default: return nil
    }
  }

  /// `full`, `backfillfull`, `nearfull` or `none`, as `osd full-states` carries them.
  static func fullStateName(_ state: OSDState) -> String {
    if state.contains(.full) { return "full" }
    if state.contains(.backfillFull) { return "backfillfull" }
    if state.contains(.nearFull) { return "nearfull" }
    return "none"
  }

  static func fullState(named name: String) -> OSDState? {
    switch name {
    case "full": return .full
    case "backfillfull": return .backfillFull
    case "nearfull": return .nearFull
    case "none": return []
    default: return nil
    }
  }

  func setRatio(_ fields: [String: Any], prefix: String, _ pending: inout Pending) throws
    -> CommandResult
  {
    guard let field = Self.ratioField(prefix) else {
      return .error(.invalid, "unknown command '\(prefix)'")
    }
    guard let ratio = fields["ratio"] as? Double, ratio.isFinite, (0...1).contains(ratio) else {
      return .error(.invalid, "\(prefix) needs ratio, a number in 0...1")
    }
    try stage(&pending) { $0[keyPath: field] = ratio }
    return CommandResult(0, "\(prefix.dropFirst("osd set-".count)) \(ratio)")
  }

  /// `osd full-states`: `states` lists `{osd, state}`; each existing OSD named gets exactly
  /// that fullness (OSDs that no longer exist are skipped: the leader proposed from an older
  /// map).
  func setFullStates(_ fields: [String: Any], _ pending: inout Pending) throws -> CommandResult {
    guard let list = fields["states"] as? [[String: Any]] else {
      return .error(.invalid, "osd full-states needs states, a list of {osd, state}")
    }
    var wanted: [Int32: OSDState] = [:]
    for item in list {
      guard let osd = (item["osd"] as? Int).flatMap({ Int32(exactly: $0) }),
        let name = item["state"] as? String, let state = Self.fullState(named: name)
      else { return .error(.invalid, "osd full-states: each entry needs osd and state") }
      wanted[osd] = state
    }
    let view = pending.view
    var changed: [String] = []
    for (osd, want) in wanted.sorted(by: { $0.key < $1.key }) {
      guard let entry = view.entry(osd), entry.exists else { continue }
      let toggle = entry.state.intersection(OSDMap.fullnessStates).symmetricDifference(want)
      guard !toggle.isEmpty else { continue }
      try stage(&pending) { inc in
        var bits = inc.newState[osd, default: []]
        bits.formSymmetricDifference(toggle)
        // An empty entry would toggle up (Ceph's encoding of a plain "mark down").
        inc.newState[osd] = bits.isEmpty ? nil : bits
      }
      changed.append("osd.\(osd) \(Self.fullStateName(want))")
    }
    return CommandResult(0, changed.isEmpty ? "no change" : changed.joined(separator: ", "))
  }

  /// OSD_NEARFULL, OSD_BACKFILLFULL and OSD_FULL (an error), in Ceph's words, with the OSDs
  /// each names; OSD_OUT_OF_ORDER_FULL when the ratios are not increasing.
  static func fullHealth(_ map: OSDMap, failsafeRatio: Double) -> (
    checks: [String: String], detail: [String: [String]], error: Bool
  ) {
    var checks: [String: String] = [:]
    var detail: [String: [String]] = [:]
    let kinds: [(OSDState, String, String, String)] = [
      (.nearFull, "OSD_NEARFULL", "nearfull", "near full"),
      (.backfillFull, "OSD_BACKFILLFULL", "backfillfull", "backfill full"),
      (.full, "OSD_FULL", "full", "full"),
    ]
    for (bit, check, adjective, phrase) in kinds {
      let osds = map.osds.indices.filter { map.osds[$0].exists && map.osds[$0].state.contains(bit) }
      guard !osds.isEmpty else { continue }
      checks[check] = "\(osds.count) \(adjective) osd(s)"
      detail[check] = osds.map { "osd.\($0) is \(phrase)" }
    }
    let ratios = [map.nearfullRatio, map.backfillfullRatio, map.fullRatio, failsafeRatio]
    if map.fullRatio > 0, zip(ratios, ratios.dropFirst()).contains(where: { $0 > $1 }) {
      checks["OSD_OUT_OF_ORDER_FULL"] = "full ratio(s) out of order"
      detail["OSD_OUT_OF_ORDER_FULL"] = [
        "nearfull_ratio (\(map.nearfullRatio)) <= backfillfull_ratio (\(map.backfillfullRatio))"
          + " <= full_ratio (\(map.fullRatio)) <= osd_failsafe_full_ratio (\(failsafeRatio))"
          + " does not hold"
      ]
    }
    return (checks, detail, checks["OSD_FULL"] != nil)
  }
}
