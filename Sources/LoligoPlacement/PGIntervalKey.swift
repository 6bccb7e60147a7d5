/// What makes a PG's interval, from one map (Ceph's `is_new_interval`): its up and acting sets,
/// both primaries, the pool's size and min_size, and the incarnation (`up_from`) of each acting
/// OSD, since an OSD that restarted may have lost what it had not made durable. When the key
/// changes, the OSDs peer again and drop the ops in flight; clients resend them.
public struct PGIntervalKey: Equatable, Sendable {
  public var up: [Int32]
  public var acting: [Int32]
  public var upPrimary: Int32
  public var primary: Int32
  public var size: UInt8
  public var minSize: UInt8
  public var actingUpFrom: [UInt32]

  public init(_ mapping: PGMapping, pool: Pool, map: OSDMap) {
    up = mapping.up
    acting = mapping.acting
    upPrimary = mapping.upPrimary
    primary = mapping.actingPrimary
    size = pool.size
    minSize = pool.minSize
    actingUpFrom = mapping.acting.map { map.entry($0)?.upFrom ?? 0 }
  }

  /// The key of `pgid` in `map`, nil when its pool is gone.
  public init?(_ pgid: PGID, in map: OSDMap) {
    guard let pool = map.pool(pgid.pool), let mapping = try? map.map(pg: pgid) else {
      return nil
    }
    self.init(mapping, pool: pool, map: map)
  }
}
