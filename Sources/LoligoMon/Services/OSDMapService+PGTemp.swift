import LoligoPlacement

/// `osd pg-temp PGID [ID...]` (Ceph's command, and MOSDPGTemp from a primary that wants
/// another acting set while it recovers or backfills its up set), and the clean-up of such
/// entries every new epoch does (`OSDMap::clean_temps`).
extension OSDMapService {
  func setPGTemp(_ fields: [String: Any], _ pending: inout Pending) throws -> CommandResult {
    let view = pending.view
    let pgid: PGID
    switch Self.existingPG(fields["pgid"], in: view) {
    case .failure(let refusal): return refusal.result
    case .success(let found): pgid = found
    }
    let size = Int(view.pool(pgid.pool)?.size ?? 0)
    let raw: [Any] = (fields["id"] as? [Any]) ?? (fields["id"].map { [$0] } ?? [])
    guard raw.count <= size else {
      return .error(.invalid, "num of osds (\(raw.count)) > pool size (\(size))")
    }
    var osds: [Int32] = []
    for item in raw {
      guard let osd = Self.osdID(item) else {
        return .error(.invalid, "'\(item)' is not an OSD id")
      }
      guard !osds.contains(osd) else { return .error(.invalid, "osd.\(osd) is given twice") }
      guard view.exists(osd) else { return .error(.noEntry, "osd.\(osd) does not exist") }
      guard view.isUp(osd) else { return .error(.invalid, "osd.\(osd) is down") }
      osds.append(osd)
    }
    let listed = "[\(osds.map(String.init).joined(separator: ","))]"
    if osds == (view.pgTemp[pgid] ?? []) {
      return CommandResult(0, "pg_temp of \(pgid) is \(listed) already")
    }
    try stage(&pending) { $0.newPGTemp[pgid] = osds }
    return osds.isEmpty
      ? CommandResult(0, "removed pg_temp of \(pgid)")
      : CommandResult(0, "set \(pgid) pg_temp mapping to \(listed)")
  }

  /// Drops, in the epoch being made, the pg_temp entries that no longer mean anything: of a
  /// pool that is gone or a PG past pg_num, with no up OSD left, or equal to the PG's up set.
  func cleanTemps(_ pending: inout Pending) throws {
    let next = pending.view
    var stale: [PGID] = []
    for (pg, osds) in next.pgTemp {
      guard let pool = next.pool(pg.pool), pg.seed < pool.pgNum,
        osds.contains(where: { next.isUp($0) })
      else {
        stale.append(pg)
        continue
      }
      if try next.map(pg: pg).up == osds { stale.append(pg) }
    }
    let orphans = next.primaryTemp.keys.filter { next.pool($0.pool) == nil }
    guard !stale.isEmpty || !orphans.isEmpty else { return }
    try stage(&pending) { inc in
      for pg in stale { inc.newPGTemp[pg] = [] }
      for pg in orphans { inc.newPrimaryTemp[pg] = -1 }
    }
  }

  /// Why a PG named by a client cannot be used.
  struct PGRefusal: Error {
    var result: CommandResult
  }

  /// A PG id from a command, checked against the map: well formed, its pool there, its seed
  /// below pg_num.
  static func existingPG(_ value: Any?, in map: OSDMap) -> Result<PGID, PGRefusal> {
    guard let text = value as? String else {
      return .failure(PGRefusal(result: .error(.invalid, "needs a pgid (POOL.SEED, e.g. 1.a)")))
    }
    guard let pgid = PGID(strict: text) else {
      return .failure(
        PGRefusal(result: .error(.invalid, "invalid pgid '\(text)' (POOL.SEED, e.g. 1.a)")))
    }
    guard let pool = map.pool(pgid.pool) else {
      return .failure(
        PGRefusal(result: .error(.noEntry, "pg \(text): pool \(pgid.pool) does not exist")))
    }
    guard pgid.seed < pool.pgNum else {
      return .failure(
        PGRefusal(
          result: .error(
            .noEntry,
            "pg \(text) does not exist: pool \(pgid.pool) has \(pool.pgNum) pgs (0...\(String(pool.pgNum - 1, radix: 16)))"
          )))
    }
    return .success(pgid)
  }

  /// An OSD id as a command gives it: a number or `osd.N`, within the map's bounds.
  static func osdID(_ item: Any) -> Int32? {
    var value: Int?
    if let number = item as? Int { value = number }
    if let text = item as? String {
      value = Int(text.hasPrefix("osd.") ? String(text.dropFirst(4)) : text)
    }
    guard let value, value >= 0, value < Int(OSDMap.maximumOSDs) else { return nil }
    return Int32(value)
  }
}
