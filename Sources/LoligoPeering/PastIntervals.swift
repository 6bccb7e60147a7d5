import LoligoPlacement

/// One stretch of map epochs during which a PG's up set, acting set, primary, pool size and
/// min_size and the incarnations (`up_from`) of its acting OSDs stayed the same: Ceph's
/// `pg_interval_t`.
public struct PGInterval: Sendable, Equatable {
  public var first: UInt32
  public var last: UInt32
  public var up: [Int32]
  public var acting: [Int32]
  public var primary: Int32
  /// The interval may have served writes: it had `min_size` acting OSDs and its primary's
  /// `up_thru` reached `first` (a primary asks for that before it activates), so any write
  /// acknowledged in it is on every OSD of `acting`.
  public var maybeWentRW: Bool

  public init(
    first: UInt32, last: UInt32, up: [Int32], acting: [Int32], primary: Int32, maybeWentRW: Bool
  ) {
    self.first = first
    self.last = last
    self.up = up
    self.acting = acting
    self.primary = primary
    self.maybeWentRW = maybeWentRW
  }
}

/// The intervals of one PG since the tracker's first map (or the PG's creation): closed ones,
/// oldest first, and the current one.
public struct PGIntervalHistory: Sendable, Equatable {
  /// Closed intervals, oldest first.
  public private(set) var past: [PGInterval] = []
  /// The current interval's first epoch.
  public private(set) var currentFirst: UInt32
  /// Epochs before this one are unknown to this OSD (its first map, or a gap in the maps it
  /// got); 0 when the history starts at the PG's creation.
  public private(set) var knownSince: UInt32
  var key: PGIntervalKey

  init(first: UInt32, key: PGIntervalKey, knownSince: UInt32) {
    currentFirst = first
    self.key = key
    self.knownSince = knownSince
  }

  public var current: (up: [Int32], acting: [Int32], primary: Int32, upPrimary: Int32) {
    (key.up, key.acting, key.primary, key.upPrimary)
  }

  /// Folds in the next map. Returns true when it starts a new interval.
  mutating func advance(to map: OSDMap, previous: OSDMap, key newKey: PGIntervalKey) -> Bool {
    guard newKey != key else { return false }
    // Whether the closing interval may have gone read-write is decided with its last map.
    let primary = key.primary
    let entry = previous.entry(primary)
    let maybeRW =
      key.acting.count >= Int(key.minSize) && primary >= 0
      && (entry?.upThru ?? 0) >= currentFirst && (entry?.upFrom ?? UInt32.max) <= currentFirst
    past.append(
      PGInterval(
        first: currentFirst, last: map.epoch - 1, up: key.up, acting: key.acting,
        primary: primary, maybeWentRW: maybeRW))
    currentFirst = map.epoch
    key = newKey
    return true
  }

  /// Forgets intervals that ended before `epoch` (the PG was clean since).
  mutating func prune(before epoch: UInt32) {
    past.removeAll { $0.last < epoch }
  }

  /// Marks everything before `epoch` unknown (the maps in between were not seen).
  mutating func forget(before epoch: UInt32) {
    past.removeAll()
    knownSince = max(knownSince, epoch)
  }
}

/// The interval history of every PG of every pool, kept from every map this OSD processes, so
/// that an OSD that never held a PG still knows who may hold its acknowledged writes when it
/// becomes its primary (Ceph's past intervals, built from the OSD's map history).
public struct IntervalTracker: Sendable {
  public private(set) var histories: [PGID: PGIntervalHistory] = [:]
  /// The last map processed.
  public private(set) var map: OSDMap?
  /// Epochs before this one were not seen (0: the history starts at the first map).
  public private(set) var knownSince: UInt32 = 0
  /// Epoch each pool was first seen in a map after another map without it.
  public private(set) var poolCreated: [Int64: UInt32] = [:]

  public init() {}

  /// Processes `newMap`. Maps should come one epoch at a time; after a gap the history before
  /// it is marked unknown. Returns the PGs whose interval changed (or that are new).
  public mutating func advance(to newMap: OSDMap) -> Set<PGID> {
    var changed = Set<PGID>()
    let previous = map
    let contiguous = previous.map { newMap.epoch == $0.epoch + 1 } ?? false
    if previous == nil {
      // Epoch 1 is the cluster's first map: nothing came before it.
      knownSince = newMap.epoch == 1 ? 0 : newMap.epoch
    } else if !contiguous {
      knownSince = newMap.epoch
    }
    for (poolID, pool) in newMap.pools {
      if poolCreated[poolID] == nil {
        // Seen appear between two consecutive maps: its whole history is known.
        poolCreated[poolID] = (contiguous && previous?.pool(poolID) == nil) ? newMap.epoch : 0
      }
      guard let mappings = try? newMap.mapAllPGs(pool: poolID) else { continue }
      for mapping in mappings {
        let key = PGIntervalKey(mapping, pool: pool, map: newMap)
        if var history = histories[mapping.pgid], let previous {
          if !contiguous { history.forget(before: newMap.epoch) }
          if history.advance(to: newMap, previous: previous, key: key) || !contiguous {
            changed.insert(mapping.pgid)
          }
          histories[mapping.pgid] = history
        } else {
          let since = poolCreated[poolID] == newMap.epoch ? 0 : knownSince
          histories[mapping.pgid] = PGIntervalHistory(
            first: newMap.epoch, key: key, knownSince: since)
          changed.insert(mapping.pgid)
        }
      }
    }
    for pgid in histories.keys where newMap.pool(pgid.pool) == nil {
      histories[pgid] = nil
      poolCreated[pgid.pool] = nil
    }
    map = newMap
    return changed
  }

  public func history(_ pgid: PGID) -> PGIntervalHistory? { histories[pgid] }

  public mutating func prune(_ pgid: PGID, before epoch: UInt32) {
    histories[pgid]?.prune(before: epoch)
  }
}
