import Foundation

/// The cluster map clients and OSDs place data with: epoch, fsid, per-OSD state, pools, the
/// CRUSH map and temporary overrides (pg_temp, primary_temp, upmaps). Every epoch is a value;
/// an `OSDMapIncremental` turns epoch e into e + 1.
///
/// The CRUSH map is compiled once into a shared `CrushMapper`, and the reweight vector CRUSH
/// reads is kept up to date by the mutators, so mapping an object costs two hashes, one rule
/// evaluation and the result arrays.
public struct OSDMap: Sendable {
  /// `CEPH_OSD_DEFAULT_PRIMARY_AFFINITY` (and the maximum).
  public static let defaultAffinity: UInt32 = 0x10000
  /// Upper bound on `maxOSD` accepted from input (Ceph has none; this bounds allocations).
  public static let maximumOSDs: Int32 = 1 << 20

  public var fsid: UUID
  public var epoch: UInt32
  public var created: CephTime
  public var modified: CephTime
  public var flags: UInt32
  /// Highest pool id ever allocated (new pools get `poolMax + 1`).
  public var poolMax: Int64
  public private(set) var pools: [Int64: Pool]
  public private(set) var osds: [OSDEntry]
  public private(set) var crush: CrushMap
  public private(set) var mapper: CrushMapper
  /// Forced acting sets, keyed by (folded) PG.
  public var pgTemp: [PGID: [Int32]]
  /// Forced primaries, keyed by (folded) PG.
  public var primaryTemp: [PGID: Int32]
  /// Explicit raw mappings replacing CRUSH's for a PG.
  public var pgUpmap: [PGID: [Int32]]
  /// Item substitutions (from, to) applied to CRUSH's raw mapping of a PG.
  public var pgUpmapItems: [PGID: [OSDPair]]
  /// The reweights handed to CRUSH, one per OSD (cached from `osds`).
  public private(set) var crushWeights: [UInt32]
  /// Used/total at which the monitors mark an OSD full (no new data), backfillfull (no
  /// backfill onto it) and nearfull (a warning): Ceph's `full_ratio`, `backfillfull_ratio`,
  /// `nearfull_ratio`. 0 is unset, as in a map Ceph's osdmaptool makes: no OSD is marked.
  public var fullRatio: Double = 0
  public var backfillfullRatio: Double = 0
  public var nearfullRatio: Double = 0

  /// A (from, to) pair of `pg_upmap_items`.
  public struct OSDPair: Sendable, Hashable {
    public var from: Int32
    public var to: Int32
    public init(from: Int32, to: Int32) {
      self.from = from
      self.to = to
    }
  }

  public enum MapError: Error, Equatable, Sendable, CustomStringConvertible {
    case noSuchPool(Int64)
    case noSuchPoolName(String)
    case poolExists(Int64)
    case poolNameExists(String)
    case invalidOSD(Int32)
    case tooManyOSDs(Int32)
    case crushNeedsMoreOSDs(crushMaxDevices: Int32, maxOSD: Int32)
    case wrongFSID
    case wrongEpoch(expected: UInt32, got: UInt32)
    case invalidPool(String)

    public var description: String {
      switch self {
      case .noSuchPool(let id): return "there is no pool \(id)"
      case .noSuchPoolName(let name): return "there is no pool named '\(name)'"
      case .poolExists(let id): return "pool \(id) already exists"
      case .poolNameExists(let name): return "a pool named '\(name)' already exists"
      case .invalidOSD(let osd): return "osd.\(osd) does not exist in the map"
      case .tooManyOSDs(let count): return "max_osd \(count) exceeds \(OSDMap.maximumOSDs)"
      case .crushNeedsMoreOSDs(let devices, let maxOSD):
        return "crush map max_devices \(devices) > osdmap max_osd \(maxOSD)"
      case .wrongFSID: return "incremental is for a different cluster (fsid mismatch)"
      case .wrongEpoch(let expected, let got):
        return "incremental epoch \(got) does not follow map epoch (expected \(expected))"
      case .invalidPool(let reason): return "invalid pool: \(reason)"
      }
    }
  }

  /// An empty map (epoch 0, no OSDs, no pools) with `crush` as its CRUSH map.
  public init(fsid: UUID = UUID(), crush: CrushMap = CrushMap(), created: CephTime = .zero) {
    self.fsid = fsid
    self.epoch = 0
    self.created = created
    self.modified = created
    self.flags = 0
    self.poolMax = 0
    self.pools = [:]
    self.osds = []
    self.crush = crush
    self.mapper = CrushMapper(crush)
    self.pgTemp = [:]
    self.primaryTemp = [:]
    self.pgUpmap = [:]
    self.pgUpmapItems = [:]
    self.crushWeights = []
  }

  // MARK: OSDs

  public var maxOSD: Int32 { Int32(osds.count) }

  public func entry(_ osd: Int32) -> OSDEntry? {
    osd >= 0 && Int(osd) < osds.count ? osds[Int(osd)] : nil
  }

  public func exists(_ osd: Int32) -> Bool { entry(osd)?.exists ?? false }
  public func isUp(_ osd: Int32) -> Bool { entry(osd)?.isUp ?? false }
  public func isIn(_ osd: Int32) -> Bool { entry(osd)?.isIn ?? false }

  /// Grows or shrinks the OSD table; new OSDs do not exist and are out.
  public mutating func setMaxOSD(_ count: Int32) throws(MapError) {
    guard count >= 0, count <= Self.maximumOSDs else { throw .tooManyOSDs(count) }
    if Int(count) < osds.count {
      osds.removeLast(osds.count - Int(count))
    } else {
      osds.append(contentsOf: repeatElement(OSDEntry(), count: Int(count) - osds.count))
    }
    refreshWeights()
  }

  /// Replaces one OSD's entry.
  public mutating func setEntry(_ osd: Int32, _ entry: OSDEntry) throws(MapError) {
    guard osd >= 0, Int(osd) < osds.count else { throw .invalidOSD(osd) }
    osds[Int(osd)] = entry
    crushWeights[Int(osd)] = entry.weight
  }

  /// Edits one OSD's entry in place.
  public mutating func updateEntry(_ osd: Int32, _ change: (inout OSDEntry) -> Void)
    throws(MapError)
  {
    guard osd >= 0, Int(osd) < osds.count else { throw .invalidOSD(osd) }
    change(&osds[Int(osd)])
    crushWeights[Int(osd)] = osds[Int(osd)].weight
  }

  /// Marks every OSD as existing, up and fully in (osdmaptool's `--mark-up-in`, without its
  /// side effect of raising zero CRUSH weights to 1).
  public mutating func markAllUpIn() {
    for index in osds.indices {
      osds[index].state.formUnion([.exists, .up])
      osds[index].state.remove(.new)
      osds[index].weight = 0x10000
    }
    refreshWeights()
  }

  private mutating func refreshWeights() {
    crushWeights = osds.map(\.weight)
  }

  // MARK: CRUSH and pools

  /// Installs a new CRUSH map (every device id must be below `maxOSD`).
  public mutating func setCrush(_ map: CrushMap) throws(MapError) {
    guard map.maxDevices <= maxOSD else {
      throw .crushNeedsMoreOSDs(crushMaxDevices: map.maxDevices, maxOSD: maxOSD)
    }
    crush = map
    mapper = CrushMapper(map)
  }

  public func pool(_ id: Int64) -> Pool? { pools[id] }

  public func poolID(named name: String) -> Int64? {
    pools.first { $0.value.name == name }?.key
  }

  /// Adds a pool with id `poolMax + 1` (or `id`, which also raises `poolMax`).
  @discardableResult
  public mutating func addPool(_ pool: Pool, id: Int64? = nil) throws(MapError) -> Int64 {
    guard poolID(named: pool.name) == nil else { throw .poolNameExists(pool.name) }
    try Self.validate(pool)
    let newID = id ?? poolMax + 1
    guard newID >= 0 else { throw .invalidPool("negative pool id \(newID)") }
    guard pools[newID] == nil else { throw .poolExists(newID) }
    pools[newID] = pool
    poolMax = max(poolMax, newID)
    return newID
  }

  /// Replaces or inserts pool `id` without the name check (incrementals).
  public mutating func setPool(_ pool: Pool, id: Int64) throws(MapError) {
    try Self.validate(pool)
    pools[id] = pool
    poolMax = max(poolMax, id)
  }

  public mutating func removePool(_ id: Int64) {
    pools[id] = nil
  }

  static func validate(_ pool: Pool) throws(MapError) {
    guard pool.pgNum > 0 else { throw .invalidPool("pg_num must be positive") }
    guard pool.pgpNum > 0, pool.pgpNum <= pool.pgNum else {
      throw .invalidPool("pgp_num must be in 1...pg_num")
    }
    guard pool.size > 0 else { throw .invalidPool("size must be positive") }
  }
}

/// Ceph's `utime_t`: seconds and nanoseconds since the Unix epoch.
public struct CephTime: Sendable, Hashable, Comparable {
  public var seconds: UInt32
  public var nanoseconds: UInt32

  public init(seconds: UInt32, nanoseconds: UInt32 = 0) {
    self.seconds = seconds
    self.nanoseconds = nanoseconds
  }

  public init(_ date: Date) {
    let interval = max(0, min(date.timeIntervalSince1970, Double(UInt32.max)))
    seconds = UInt32(interval)
    nanoseconds = UInt32(min((interval - Double(seconds)) * 1e9, 999_999_999))
  }

  public static let zero = CephTime(seconds: 0)

  public static func < (lhs: CephTime, rhs: CephTime) -> Bool {
    (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
  }
}

extension OSDMap: Equatable {
  /// Maps are equal when their contents are; the compiled mapper is derived data.
  public static func == (lhs: OSDMap, rhs: OSDMap) -> Bool {
    lhs.fsid == rhs.fsid && lhs.epoch == rhs.epoch && lhs.created == rhs.created
      && lhs.modified == rhs.modified && lhs.flags == rhs.flags && lhs.poolMax == rhs.poolMax
      && lhs.pools == rhs.pools && lhs.osds == rhs.osds && lhs.crush == rhs.crush
      && lhs.pgTemp == rhs.pgTemp && lhs.primaryTemp == rhs.primaryTemp
      && lhs.pgUpmap == rhs.pgUpmap && lhs.pgUpmapItems == rhs.pgUpmapItems
      && lhs.fullRatio == rhs.fullRatio && lhs.backfillfullRatio == rhs.backfillfullRatio
      && lhs.nearfullRatio == rhs.nearfullRatio
  }
}
