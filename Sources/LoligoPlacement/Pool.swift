/// A pool (`pg_pool_t`, the fields placement needs): how many PGs it has, how objects hash into
/// them, how PG seeds feed CRUSH and which rule with how many replicas.
///
/// Two PG counts matter: `pgNum` splits objects into PGs, `pgpNum` (at most `pgNum`) decides how
/// many distinct CRUSH inputs there are, so PGs can be split before data is moved.
public struct Pool: Sendable, Hashable {
  public enum PoolType: UInt8, Sendable {
    case replicated = 1
    case erasure = 3
  }

  public struct Flags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// `FLAG_HASHPSPOOL`: CRUSH input is `hash2(seed, pool)` so pools do not overlap.
    public static let hashPSPool = Flags(rawValue: 1 << 0)
    public static let full = Flags(rawValue: 1 << 1)
    public static let noDelete = Flags(rawValue: 1 << 13)

    /// Names as Ceph prints them (`flags hashpspool`).
    public var names: [String] {
      var names: [String] = []
      if contains(.hashPSPool) { names.append("hashpspool") }
      if contains(.full) { names.append("full") }
      if contains(.noDelete) { names.append("nodelete") }
      return names
    }
  }

  public var name: String
  public var type: PoolType
  public var size: UInt8
  public var minSize: UInt8
  public var crushRule: Int32
  public var objectHash: CephStringHash
  public private(set) var pgNum: UInt32
  public private(set) var pgpNum: UInt32
  public private(set) var pgNumMask: UInt32
  public private(set) var pgpNumMask: UInt32
  public var flags: Flags
  /// Epoch of the last change to the pool.
  public var lastChange: UInt32

  public init(
    name: String, type: PoolType = .replicated, size: UInt8 = 3, minSize: UInt8? = nil,
    crushRule: Int32 = 0, objectHash: CephStringHash = .rjenkins, pgNum: UInt32,
    pgpNum: UInt32? = nil, flags: Flags = .hashPSPool, lastChange: UInt32 = 0
  ) {
    self.name = name
    self.type = type
    self.size = size
    // Ceph's default min_size: size - size/2 (a majority).
    self.minSize = minSize ?? (size - size / 2)
    self.crushRule = crushRule
    self.objectHash = objectHash
    self.pgNum = 0
    self.pgpNum = 0
    self.pgNumMask = 0
    self.pgpNumMask = 0
    self.flags = flags
    self.lastChange = lastChange
    setPGNum(pgNum)
    setPGPNum(pgpNum ?? pgNum)
  }

  public mutating func setPGNum(_ count: UInt32) {
    pgNum = count
    pgNumMask = StableMod.mask(for: count)
  }

  public mutating func setPGPNum(_ count: UInt32) {
    pgpNum = count
    pgpNumMask = StableMod.mask(for: count)
  }

  /// Replicated pools drop missing OSDs and shift the rest left; erasure pools keep positions.
  public var canShiftOSDs: Bool { type == .replicated }

  /// The raw 32-bit placement hash of an object name under `locator`'s key and namespace.
  public func hashKey(_ bytes: [UInt8]) -> UInt32 { objectHash.hash(bytes) }

  /// Folds a raw hash (or raw PG seed) to one of this pool's `pgNum` PGs.
  public func rawHashToPG(_ hash: UInt32) -> UInt32 {
    StableMod.apply(hash, pgNum, mask: pgNumMask)
  }

  /// The CRUSH input ("placement ps") of a PG: its seed folded to `pgpNum`, then hashed with
  /// the pool id (hashpspool) or, for legacy pools, added to it.
  public func placementSeed(of pg: PGID) -> UInt32 {
    let folded = StableMod.apply(pg.seed, pgpNum, mask: pgpNumMask)
    if flags.contains(.hashPSPool) {
      return CrushHash.hash2(folded, UInt32(truncatingIfNeeded: pg.pool))
    }
    return folded &+ UInt32(truncatingIfNeeded: pg.pool)
  }
}
