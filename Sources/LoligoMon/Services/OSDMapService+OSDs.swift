import LoligoPlacement

/// OSD state commands: `osd boot` (up, and in the first time), `osd failure` and `osd down`,
/// `osd out` and `osd in`.
extension OSDMapService {
  func boot(_ fields: [String: Any], _ pending: inout Pending) throws -> CommandResult {
    let view = pending.view
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
  }

  func markDown(
    _ fields: [String: Any], prefix: String, stamp: Double, _ pending: inout Pending
  ) throws -> CommandResult {
    let view = pending.view
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
  }

  func markOutOrIn(_ fields: [String: Any], prefix: String, _ pending: inout Pending) throws
    -> CommandResult
  {
    let view = pending.view
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
  }
}
