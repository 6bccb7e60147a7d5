/// Where a PG lives, at each stage of Ceph's computation.
public struct PGMapping: Sendable, Hashable {
  /// The PG (seed folded to the pool's pg_num).
  public var pgid: PGID
  /// The CRUSH input derived from the PG (`raw_pg_to_pps`).
  public var placementSeed: UInt32
  /// CRUSH's answer, minus OSDs that do not exist (replicated pools) and after upmaps.
  public var raw: [Int32]
  /// `raw` without down OSDs (replicated: shifted left; erasure: holes of `CrushMapper.itemNone`).
  public var up: [Int32]
  public var upPrimary: Int32
  /// Who serves the PG: `up` unless pg_temp overrides it.
  public var acting: [Int32]
  public var actingPrimary: Int32
}

extension OSDMap {
  /// The raw PG of an object (`object_locator_to_pg`): the pool's hash of the locator key (or
  /// name), unfolded. Ceph keeps this full hash as the object's PG seed until it folds it.
  public func rawPG(forObject name: String, locator: ObjectLocator) throws(MapError) -> PGID {
    guard let pool = pools[locator.pool] else { throw .noSuchPool(locator.pool) }
    if let hash = locator.hash { return PGID(pool: locator.pool, seed: hash) }
    return PGID(pool: locator.pool, seed: pool.hashKey(locator.hashInput(forName: name)))
  }

  /// Folds a raw PG to one of the pool's PGs (`raw_pg_to_pg`).
  public func pg(forRaw raw: PGID) throws(MapError) -> PGID {
    guard let pool = pools[raw.pool] else { throw .noSuchPool(raw.pool) }
    return PGID(pool: raw.pool, seed: pool.rawHashToPG(raw.seed))
  }

  /// The PG an object belongs to.
  public func pg(forObject name: String, locator: ObjectLocator) throws(MapError) -> PGID {
    try pg(forRaw: try rawPG(forObject: name, locator: locator))
  }

  /// Full placement of an object: its PG and the PG's raw, up and acting sets.
  public func map(object name: String, locator: ObjectLocator) throws(MapError) -> PGMapping {
    try map(pg: try pg(forObject: name, locator: locator))
  }

  /// Placement of an object in pool `pool` with no key or namespace.
  public func map(object name: String, pool: Int64) throws(MapError) -> PGMapping {
    try map(object: name, locator: ObjectLocator(pool: pool))
  }

  /// Placement of an object in the pool named `poolName`.
  public func map(object name: String, poolNamed poolName: String) throws(MapError)
    -> PGMapping
  {
    guard let id = poolID(named: poolName) else { throw .noSuchPoolName(poolName) }
    return try map(object: name, pool: id)
  }

  /// `pg_to_up_acting_osds`. A PG seed at or beyond the pool's pg_num maps to nothing, as in
  /// Ceph (fold raw seeds with `pg(forRaw:)` first).
  public func map(pg: PGID) throws(MapError) -> PGMapping {
    guard let pool = pools[pg.pool] else { throw .noSuchPool(pg.pool) }
    let placementSeed = pool.placementSeed(of: pg)
    guard pg.seed < pool.pgNum else {
      return PGMapping(
        pgid: pg, placementSeed: placementSeed, raw: [], up: [], upPrimary: -1, acting: [],
        actingPrimary: -1)
    }
    var raw = rawOSDs(pool: pool, pg: pg, placementSeed: placementSeed)
    applyUpmap(pool: pool, pg: pg, raw: &raw)
    var up = upOSDs(pool: pool, raw: raw)
    var upPrimary = Self.firstOSD(up)
    applyPrimaryAffinity(pool: pool, seed: placementSeed, osds: &up, primary: &upPrimary)
    var (acting, actingPrimary) = tempOSDs(pool: pool, pg: pg)
    if acting.isEmpty {
      acting = up
      if actingPrimary == -1 { actingPrimary = upPrimary }
    }
    return PGMapping(
      pgid: pg, placementSeed: placementSeed, raw: raw, up: up, upPrimary: upPrimary,
      acting: acting, actingPrimary: actingPrimary)
  }

  /// Every PG of a pool, in seed order.
  public func mapAllPGs(pool id: Int64) throws(MapError) -> [PGMapping] {
    guard let pool = pools[id] else { throw .noSuchPool(id) }
    var result: [PGMapping] = []
    result.reserveCapacity(Int(pool.pgNum))
    for seed in 0..<pool.pgNum {
      result.append(try map(pg: PGID(pool: id, seed: seed)))
    }
    return result
  }

  /// The CRUSH rule a pool uses, if the rule exists and its mask admits the pool's type and
  /// size (Ceph 16.2 `find_rule`); otherwise the pool maps to nothing.
  public func crushRule(for pool: Pool) -> Int? {
    let id = Int(pool.crushRule)
    guard let rule = crush.rule(id), rule.type == pool.type.rawValue,
      rule.minSize <= pool.size, pool.size <= rule.maxSize
    else { return nil }
    return id
  }

  /// `_pg_to_raw_osds`: CRUSH with the OSD reweights and the pool's weight set, then (for
  /// replicated pools) drop OSDs that do not exist.
  func rawOSDs(pool: Pool, pg: PGID, placementSeed: UInt32) -> [Int32] {
    guard let rule = crushRule(for: pool) else { return [] }
    var osds = mapper.map(
      rule: rule, x: placementSeed, resultMax: Int(pool.size), weights: crushWeights,
      chooseArgs: pg.pool)
    if pool.canShiftOSDs {
      osds.removeAll { !exists($0) }
    } else {
      for index in osds.indices where !exists(osds[index]) { osds[index] = CrushMapper.itemNone }
    }
    return osds
  }

  /// `_apply_upmap`: an explicit pg_upmap replaces the raw set unless it names an OSD that is
  /// out; pg_upmap_items then substitute single OSDs (skipping targets already present or out).
  func applyUpmap(pool: Pool, pg: PGID, raw: inout [Int32]) {
    let folded = PGID(pool: pg.pool, seed: pool.rawHashToPG(pg.seed))
    if let explicit = pgUpmap[folded] {
      let rejected = explicit.contains { osd in
        osd != CrushMapper.itemNone && osd >= 0 && osd < maxOSD && osds[Int(osd)].weight == 0
      }
      if !rejected { raw = explicit }
    }
    guard let items = pgUpmapItems[folded] else { return }
    for pair in items {
      var present = false
      var position: Int? = nil
      for (index, osd) in raw.enumerated() {
        if osd == pair.to {
          present = true
          break
        }
        let targetOut =
          pair.to != CrushMapper.itemNone && pair.to >= 0 && pair.to < maxOSD
          && osds[Int(pair.to)].weight == 0
        if osd == pair.from && position == nil && !targetOut { position = index }
      }
      if !present, let position { raw[position] = pair.to }
    }
  }

  /// `_raw_to_up_osds`.
  func upOSDs(pool: Pool, raw: [Int32]) -> [Int32] {
    if pool.canShiftOSDs { return raw.filter { isUp($0) } }
    return raw.map { isUp($0) ? $0 : CrushMapper.itemNone }
  }

  static func firstOSD(_ osds: [Int32]) -> Int32 {
    osds.first { $0 != CrushMapper.itemNone } ?? -1
  }

  /// `_apply_primary_affinity`: with non-default affinities, an OSD whose
  /// `hash2(seed, osd) >> 16` reaches its affinity passes the primary role on (it remains the
  /// fallback); replicated pools move the new primary to the front.
  func applyPrimaryAffinity(pool: Pool, seed: UInt32, osds set: inout [Int32], primary: inout Int32)
  {
    guard
      set.contains(where: { osd in
        osd != CrushMapper.itemNone
          && (entry(osd)?.primaryAffinity ?? Self.defaultAffinity)
            != Self.defaultAffinity
      })
    else { return }
    var chosen: Int? = nil
    for (index, osd) in set.enumerated() where osd != CrushMapper.itemNone {
      let affinity = entry(osd)?.primaryAffinity ?? Self.defaultAffinity
      if affinity < Self.defaultAffinity
        && CrushHash.hash2(seed, UInt32(bitPattern: osd)) >> 16 >= affinity
      {
        if chosen == nil { chosen = index }
      } else {
        chosen = index
        break
      }
    }
    guard let position = chosen else { return }
    primary = set[position]
    if pool.canShiftOSDs && position > 0 {
      set.remove(at: position)
      set.insert(primary, at: 0)
    }
  }

  /// `_get_temp_osds`: pg_temp (minus down OSDs) and primary_temp for the folded PG.
  func tempOSDs(pool: Pool, pg: PGID) -> (osds: [Int32], primary: Int32) {
    let folded = PGID(pool: pg.pool, seed: pool.rawHashToPG(pg.seed))
    var temp: [Int32] = []
    for osd in pgTemp[folded] ?? [] {
      if isUp(osd) {
        temp.append(osd)
      } else if !pool.canShiftOSDs {
        temp.append(CrushMapper.itemNone)
      }
    }
    if let forced = primaryTemp[folded] { return (temp, forced) }
    return (temp, Self.firstOSD(temp))
  }
}
