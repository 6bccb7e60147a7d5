import LoligoPlacement

/// OSD state commands: `osd boot` (up, and in when new or automatically out), `osd alive`
/// (up_thru), `osd failure` and `osd down`, `osd out` and `osd in`.
extension OSDMapService {
  /// Reads a boot's `nonce` (the OSD's process instance): nil when absent, a failure when it
  /// is not an integer.
  static func bootNonce(_ fields: [String: Any]) -> Result<UInt64?, BootFieldError> {
    guard let raw = fields["nonce"] else { return .success(nil) }
    guard let value = raw as? Int else { return .failure(BootFieldError()) }
    return .success(UInt64(bitPattern: Int64(value)))
  }

  struct BootFieldError: Error {}

  /// A boot answered without a proposal: a duplicate of the boot that made the OSD up (same
  /// address and nonce), or any boot of a down OSD while noup is set. Nil: propose it.
  func preprocessBoot(_ fields: [String: Any]) -> CommandResult? {
    guard let osd = (fields["id"] as? Int).flatMap({ Int32(exactly: $0) }),
      let addr = fields["addr"] as? String, case .success(let nonce) = Self.bootNonce(fields)
    else { return nil }
    if let nonce, map.isUp(osd), map.entry(osd)?.publicAddress == addr,
      bootNonces[osd] == nonce
    {
      return CommandResult(0, "osd.\(osd) already up at \(addr)")
    }
    if map.flags & OSDMapFlags.noUp != 0 && !map.isUp(osd) {
      return .error(
        .busy, "noup flag is set: osd.\(osd) not marked up (boot again once it is unset)")
    }
    return nil
  }

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
    guard case .success(let nonce) = Self.bootNonce(fields) else {
      return .error(.invalid, "osd boot's nonce must be an integer")
    }
    let wasUp = view.isUp(osd)
    let existed = view.exists(osd)
    let state = view.entry(osd)?.state ?? []
    if let nonce, wasUp, view.entry(osd)?.publicAddress == addr,
      pending.nonce(osd, committed: bootNonces) == nonce
    {
      // The same instance asking again (a resent request): it is up already.
      return CommandResult(0, "osd.\(osd) already up at \(addr)")
    }
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
    pending.nonceChanges[osd] = .some(nonce)
    let note = noIn && !existed ? " (noin flag is set: not marked in)" : ""
    return CommandResult(0, "osd.\(osd) up at \(addr)\(note)")
  }

  /// `osd alive` (Ceph's MOSDAlive): the OSD needs the map to say it was up through epoch
  /// `want` (its up_thru) before a PG it leads may go active in a new interval. The new epoch
  /// sets up_thru to itself, as Ceph does; an up_thru already at `want` is left alone.
  func alive(_ fields: [String: Any], _ pending: inout Pending) throws -> CommandResult {
    guard let osd = (fields["id"] as? Int).flatMap({ Int32(exactly: $0) }), osd >= 0 else {
      return .error(.invalid, "osd alive needs an OSD id")
    }
    let next = pending.incremental.epoch
    guard let want = (fields["want"] as? Int).flatMap({ UInt32(exactly: $0) }) else {
      return .error(.invalid, "osd alive needs want, an epoch")
    }
    guard want <= next else {
      return .error(.range, "want \(want) is beyond the next epoch \(next)")
    }
    let view = pending.view
    guard let entry = view.entry(osd), entry.exists else {
      return .error(.noEntry, "osd.\(osd) does not exist")
    }
    guard entry.isUp else { return .error(.invalid, "osd.\(osd) is down") }
    if entry.upThru >= want { return CommandResult(0, "osd.\(osd) up_thru is \(entry.upThru)") }
    try stage(&pending) { $0.newUpThru[osd] = next }
    return CommandResult(0, "osd.\(osd) up_thru is \(next)")
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
