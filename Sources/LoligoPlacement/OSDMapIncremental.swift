import Foundation

/// The change from epoch e to e + 1 (`OSDMap::Incremental`, the parts Loligo uses). Monitors
/// publish these; OSDs and clients apply them in order. Applying checks the fsid and that the
/// epoch is exactly one past the map's.
public struct OSDMapIncremental: Sendable, Equatable {
  public var fsid: UUID
  /// The epoch this incremental produces.
  public var epoch: UInt32
  public var modified: CephTime
  public var newFlags: UInt32?
  public var newMaxOSD: Int32?
  public var newPoolMax: Int64?
  /// Pools created or replaced, by id.
  public var newPools: [Int64: Pool]
  public var oldPools: Set<Int64>
  /// OSDs that booted, with their public and cluster addresses: they become existing and up.
  public var newUp: [Int32: OSDAddresses]
  /// State bits to toggle (XOR), as Ceph encodes `new_state`; toggling `.up` on an up OSD marks
  /// it down.
  public var newState: [Int32: OSDState]
  /// New reweights (0 = out, 0x10000 = in).
  public var newWeight: [Int32: UInt32]
  public var newPrimaryAffinity: [Int32: UInt32]
  public var newUpThru: [Int32: UInt32]
  /// pg_temp changes; an empty list removes the entry.
  public var newPGTemp: [PGID: [Int32]]
  /// primary_temp changes; -1 removes the entry.
  public var newPrimaryTemp: [PGID: Int32]
  public var newPGUpmap: [PGID: [Int32]]
  public var oldPGUpmap: Set<PGID>
  public var newPGUpmapItems: [PGID: [OSDMap.OSDPair]]
  public var oldPGUpmapItems: Set<PGID>
  /// A whole new CRUSH map, applied last.
  public var crush: CrushMap?
  /// New full, backfillfull and nearfull ratios (Ceph's `new_full_ratio` ...).
  public var newFullRatio: Double?
  public var newBackfillfullRatio: Double?
  public var newNearfullRatio: Double?

  public struct OSDAddresses: Sendable, Hashable {
    public var publicAddress: String
    public var clusterAddress: String
    public init(publicAddress: String, clusterAddress: String = "") {
      self.publicAddress = publicAddress
      self.clusterAddress = clusterAddress
    }
  }

  /// An empty incremental producing `epoch` for the cluster `fsid`.
  public init(fsid: UUID, epoch: UInt32, modified: CephTime = .zero) {
    self.fsid = fsid
    self.epoch = epoch
    self.modified = modified
    newPools = [:]
    oldPools = []
    newUp = [:]
    newState = [:]
    newWeight = [:]
    newPrimaryAffinity = [:]
    newUpThru = [:]
    newPGTemp = [:]
    newPrimaryTemp = [:]
    newPGUpmap = [:]
    oldPGUpmap = []
    newPGUpmapItems = [:]
    oldPGUpmapItems = []
  }

  /// The next incremental for `map`.
  public init(following map: OSDMap, modified: CephTime = .zero) {
    self.init(fsid: map.fsid, epoch: map.epoch &+ 1, modified: modified)
  }
}

extension OSDMap {
  /// Applies `incremental` (`OSDMap::apply_incremental`, in Ceph's order: limits and pools,
  /// weights and affinities, state toggles, boots, temps and upmaps, CRUSH last). On error the
  /// map is left unchanged.
  public mutating func apply(_ incremental: OSDMapIncremental) throws(MapError) {
    guard incremental.fsid == fsid else { throw .wrongFSID }
    guard incremental.epoch == epoch &+ 1 else {
      throw .wrongEpoch(expected: epoch &+ 1, got: incremental.epoch)
    }
    var next = self
    next.epoch = incremental.epoch
    next.modified = incremental.modified
    if let poolMax = incremental.newPoolMax { next.poolMax = poolMax }
    if let flags = incremental.newFlags { next.flags = flags }
    if let ratio = incremental.newFullRatio { next.fullRatio = ratio }
    if let ratio = incremental.newBackfillfullRatio { next.backfillfullRatio = ratio }
    if let ratio = incremental.newNearfullRatio { next.nearfullRatio = ratio }
    if let maxOSD = incremental.newMaxOSD { try next.setMaxOSD(maxOSD) }
    for id in incremental.oldPools { next.removePool(id) }
    for (id, pool) in incremental.newPools { try next.setPool(pool, id: id) }
    for (osd, weight) in incremental.newWeight {
      try next.updateEntry(osd) { entry in
        entry.weight = weight
        // Marking in clears the "never in" and "automatically out" marks.
        if weight != 0 { entry.state.subtract([.autoOut, .new]) }
      }
    }
    for (osd, affinity) in incremental.newPrimaryAffinity {
      try next.updateEntry(osd) { $0.primaryAffinity = affinity }
    }
    for (osd, toggled) in incremental.newState {
      let bits = toggled.isEmpty ? OSDState.up : toggled
      try next.updateEntry(osd) { entry in
        if entry.state.contains(.up) && bits.contains(.up) { entry.downAt = incremental.epoch }
        if entry.state.contains(.exists) && bits.contains(.exists) {
          // The OSD is being removed: forget everything about it.
          entry = OSDEntry(state: entry.state)
        }
        entry.state = OSDState(rawValue: entry.state.rawValue ^ bits.rawValue)
      }
    }
    for (osd, addresses) in incremental.newUp {
      try next.updateEntry(osd) { entry in
        entry.state.formUnion([.exists, .up])
        entry.publicAddress = addresses.publicAddress
        entry.clusterAddress = addresses.clusterAddress
        entry.upFrom = incremental.epoch
      }
    }
    for (osd, upThru) in incremental.newUpThru {
      try next.updateEntry(osd) { $0.upThru = upThru }
    }
    for (pg, osds) in incremental.newPGTemp {
      next.pgTemp[pg] = osds.isEmpty ? nil : osds
    }
    for (pg, primary) in incremental.newPrimaryTemp {
      next.primaryTemp[pg] = primary == -1 ? nil : primary
    }
    for (pg, osds) in incremental.newPGUpmap { next.pgUpmap[pg] = osds }
    for pg in incremental.oldPGUpmap { next.pgUpmap[pg] = nil }
    for (pg, items) in incremental.newPGUpmapItems { next.pgUpmapItems[pg] = items }
    for pg in incremental.oldPGUpmapItems { next.pgUpmapItems[pg] = nil }
    if let crush = incremental.crush { try next.setCrush(crush) }
    self = next
  }
}
