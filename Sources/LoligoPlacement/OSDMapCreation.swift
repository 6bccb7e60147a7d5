import Foundation

extension OSDMap {
  /// A new map like `osdmaptool --createsimple N --with-default-pool --pg_bits B --pgp_bits C
  /// --osd_pool_default_size S` followed by `--import-crush MAP`: `osdCount` OSDs that exist
  /// but are down and out (mark them up and in with `markAllUpIn()`), and one replicated pool
  /// `rbd` (id 1, rule 0, rjenkins, hashpspool) with pg_num `N << pgBits` and pgp_num
  /// `N << min(pgpBits, pgBits)`.
  ///
  /// - Parameters:
  ///   - crush: the CRUSH map (its devices must be below `osdCount`).
  ///   - poolName, pgNum, pgpNum: override the pool's name and counts.
  public static func simple(
    fsid: UUID = UUID(), osdCount: Int32, pgBits: Int = 6, pgpBits: Int = 6,
    poolSize: UInt8 = 3, crush: CrushMap, poolName: String = "rbd", poolID: Int64 = 1,
    pgNum: UInt32? = nil, pgpNum: UInt32? = nil, created: CephTime = .zero
  ) throws(MapError) -> OSDMap {
    var map = OSDMap(fsid: fsid, created: created)
    try map.setMaxOSD(osdCount)
    for osd in 0..<osdCount {
      try map.setEntry(osd, OSDEntry(state: [.exists, .new], weight: 0))
    }
    try map.setCrush(crush)
    guard (0...31).contains(pgBits), (0...31).contains(pgpBits) else {
      throw .invalidPool("pg bits must be in 0...31")
    }
    let base = UInt64(max(osdCount, 0))
    let pgs = pgNum ?? UInt32(truncatingIfNeeded: base << UInt64(pgBits))
    let pgps = pgpNum ?? UInt32(truncatingIfNeeded: base << UInt64(min(pgpBits, pgBits)))
    let pool = Pool(name: poolName, size: poolSize, pgNum: pgs, pgpNum: pgps, lastChange: 1)
    try map.addPool(pool, id: poolID)
    map.epoch = 1
    return map
  }
}
