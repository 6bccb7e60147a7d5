import LoligoPlacement

/// OSD state commands: `osd boot` (up, and in the first time), `osd failure` and `osd down`,
/// `osd out` and `osd in`.
extension OSDMapService {
  func boot(_ fields: [String: Any], stamp: Double, _ pending: inout Pending) throws
    -> CommandResult
  {
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
    let state = view.entry(osd)?.state ?? []
    if view.flags & OSDMapFlags.noUp != 0 {
      // Not up; but a running instance that restarted is gone, so it goes down.
      if wasUp {
        try stage(&pending) { $0.newState[osd, default: []].formSymmetricDifference(.up) }
        pending.downChanges[osd] = .some(stamp)
      }
      return .error(
        .busy, "noup flag is set: osd.\(osd) not marked up (boot again once it is unset)")
    }
    // Marked in when new or automatically out (Ceph's mon_osd_auto_mark_new_in and
    // mon_osd_auto_mark_auto_out_in), unless noin says not to; a manual out stays out.
    let noIn = view.flags & OSDMapFlags.noIn != 0
    let markIn = !noIn && (!existed || state.contains(.autoOut) || state.contains(.new))
    var hosts = CrushLayout.hosts(of: view.crush)
    let placed = hosts.values.contains { $0.contains(osd) }
    if !placed { hosts[host, default: []].append(osd) }
    let crush =
      placed
      ? nil
      : try CrushLayout.build(hosts: hosts, chooseleafType: chooseleaf, previous: view.crush)
    try stage(&pending) { inc in
      if osd >= view.maxOSD { inc.newMaxOSD = osd + 1 }
      // Up again: the old instance goes down and the new one comes up in this epoch, so
      // up_from is new (the OSD restarted and may have lost what it had not synced).
      if wasUp { inc.newState[osd, default: []].formSymmetricDifference(.up) }
      // New under noin: remember it is new, so the first boot without noin marks it in.
      if !existed && !markIn && !state.contains(.new) {
        inc.newState[osd, default: []].formSymmetricDifference(.new)
      }
      inc.newUp[osd] = .init(publicAddress: addr)
      if markIn { inc.newWeight[osd] = 0x10000 }
      if let crush { inc.crush = crush }
    }
    pending.downChanges[osd] = .some(nil)
    let note = noIn && !existed ? " (noin flag is set: not marked in)" : ""
    return CommandResult(0, "osd.\(osd) up at \(addr)\(note)")
  }

  func markDown(
    _ fields: [String: Any], prefix: String, stamp: Double, _ pending: inout Pending
  ) throws -> CommandResult {
    let view = pending.view
    let ids = Self.ids(fields)
    guard !ids.isEmpty else { return .error(.invalid, "no OSD ids given") }
    if prefix == "osd down", let unknown = ids.first(where: { !view.exists($0) }) {
      return .error(.noEntry, "osd.\(unknown) does not exist")
    }
    let up = ids.filter { view.isUp($0) }
    if view.flags & OSDMapFlags.noDown != 0 && !up.isEmpty {
      let names = up.map { "osd.\($0)" }.joined(separator: ", ")
      // A failure report is kept by its reporter, which reports again; an explicit
      // `osd down` (a user's, or an OSD's own at shutdown) is refused, as in Ceph.
      return prefix == "osd down"
        ? .error(.busy, "nodown flag is set: \(names) not marked down")
        : CommandResult(0, "nodown flag is set: failure of \(names) not acted on")
    }
    var marked: [Int32] = []
    for osd in up {
      try stage(&pending) { $0.newState[osd, default: []].formSymmetricDifference(.up) }
      pending.downChanges[osd] = .some(stamp)
      marked.append(osd)
    }
    return CommandResult(
      0,
      marked.isEmpty
        ? "already down" : "marked down \(marked.map { "osd.\($0)" }.joined(separator: ", "))")
  }

  /// `osd out` and `osd in`; `"auto": true` (the leader's own proposal after
  /// mon_osd_down_out_interval, never a client's) marks out only OSDs still down and in, with
  /// the autoout mark a later boot clears, and nothing while noout is set.
  func markOutOrIn(_ fields: [String: Any], prefix: String, _ pending: inout Pending) throws
    -> CommandResult
  {
    let view = pending.view
    var ids = Self.ids(fields)
    guard !ids.isEmpty else { return .error(.invalid, "no OSD ids given") }
    if let unknown = ids.first(where: { !view.exists($0) }) {
      return .error(.noEntry, "osd.\(unknown) does not exist")
    }
    let automatic = prefix == "osd out" && fields["auto"] as? Bool == true
    if automatic {
      guard view.flags & OSDMapFlags.noOut == 0 else {
        return CommandResult(0, "noout flag is set: not marking out")
      }
      ids = ids.filter { !view.isUp($0) && view.isIn($0) }
      guard !ids.isEmpty else { return CommandResult(0, "nothing to mark out") }
    }
    let weight: UInt32 = prefix == "osd in" ? 0x10000 : 0
    try stage(&pending) { inc in
      for osd in ids {
        inc.newWeight[osd] = weight
        if automatic && view.entry(osd)?.state.contains(.autoOut) == false {
          inc.newState[osd, default: []].formSymmetricDifference(.autoOut)
        }
      }
    }
    return CommandResult(
      0,
      "marked \(prefix == "osd in" ? "in" : "out") \(ids.map { "osd.\($0)" }.joined(separator: ", "))"
    )
  }
}
