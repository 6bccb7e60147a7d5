import LoligoPlacement

/// The leader's picture of every PG (Ceph's PGMap, which the mgr keeps there): for each PG the
/// newest report from its acting primary in the leader's map, what each OSD said of its space,
/// and the recovery rate. In memory only, not on Paxos: reports come every second or two, and
/// a new leader starts empty and is filled again within a report interval. Times are the
/// leader's monotonic clock in seconds.
struct PGMap {
  struct Record: Equatable {
    var stat: PGStatEntry
    /// The OSD that sent it, the PG's acting primary in the leader's map then.
    var reporter: Int32
    /// The map epoch the OSD reported at.
    var reportedEpoch: UInt32
    /// When it arrived.
    var received: Double
    /// Reports this leader took for the PG.
    var seq: UInt64
    /// When the reported state last changed.
    var stateSince: Double
  }

  /// A PG as shown: the state with `stale+` where the report no longer speaks for it, or
  /// `unknown` when no report ever came.
  struct View {
    var pgid: PGID
    var state: String
    /// Where the leader's map places it.
    var mapping: PGMapping
    var record: Record?
    /// Unknown for longer than the stale bound (counted as inactive).
    var overdue: Bool
  }

  /// Seconds without a report after which a PG is stale (`mon_pg_stats_timeout`); also how
  /// long a PG may stay unknown before it counts as inactive.
  let staleAfter: Double
  private(set) var records: [PGID: Record] = [:]
  private(set) var osdSpace: [Int32: OSDSpace] = [:]
  /// Since when each pool has had its current pg_num here (its PGs may be unknown until then
  /// plus `staleAfter` without counting as inactive).
  private var poolsSeen: [Int64: (pgNum: UInt32, since: Double)] = [:]
  private var recovery = RecoveryRate()

  init(now: Double, staleAfter: Double, map: OSDMap) {
    self.staleAfter = staleAfter
    observe(map, now: now)
  }

  /// Follows a new map: forgets PGs and pools that are gone, notes new pools and pg_num changes.
  mutating func observe(_ map: OSDMap, now: Double) {
    notePools(map, now: now)
    noteIntervals(map)
    poolsSeen = poolsSeen.filter { map.pool($0.key) != nil }
    records = records.filter { pg, _ in
      guard let pool = map.pool(pg.pool) else { return false }
      return pg.seed < pool.pgNum
    }
    osdSpace = osdSpace.filter { map.exists($0.key) }
  }

  /// Each PG's interval and the epoch it began: a report from before it speaks for an interval
  /// the OSDs have left (they are peering again), whatever state it gave.
  private(set) var intervals: [PGID: (key: PGIntervalKey, since: UInt32)] = [:]

  private mutating func noteIntervals(_ map: OSDMap) {
    var seen = Set<PGID>()
    for (id, pool) in map.pools {
      guard let mappings = try? map.mapAllPGs(pool: id) else { continue }
      for mapping in mappings {
        let key = PGIntervalKey(mapping, pool: pool, map: map)
        seen.insert(mapping.pgid)
        if intervals[mapping.pgid]?.key != key {
          intervals[mapping.pgid] = (key, map.epoch)
        }
      }
    }
    intervals = intervals.filter { seen.contains($0.key) }
  }

  private mutating func notePools(_ map: OSDMap, now: Double) {
    for (id, pool) in map.pools where poolsSeen[id]?.pgNum != pool.pgNum {
      poolsSeen[id] = (pool.pgNum, now)
    }
  }

  /// Takes a report: each PG whose acting primary in `map` is the reporting OSD replaces that
  /// PG's record; the others are skipped (a report from an OSD whose map is older or newer).
  /// Refused whole when the OSD is not up in `map`. Returns how many PGs were taken.
  mutating func ingest(_ report: PGStatsReport, map: OSDMap, now: Double) -> Result<
    Int, PGStatsReport.Invalid
  > {
    guard map.isUp(report.osd) else {
      return .failure(
        .init(description: "osd.\(report.osd) is not up in osdmap epoch \(map.epoch)"))
    }
    notePools(map, now: now)
    var taken = 0
    var objects: Int64 = 0
    var bytes: Int64 = 0
    for stat in report.pgs {
      guard let pool = map.pool(stat.pgid.pool), stat.pgid.seed < pool.pgNum,
        let mapping = try? map.map(pg: stat.pgid), mapping.actingPrimary == report.osd
      else { continue }
      let previous = records[stat.pgid]
      if let previous, previous.reporter == report.osd {
        // Counters only grow while one primary reports; a new one starts its own.
        objects += max(0, stat.numObjectsRecovered - previous.stat.numObjectsRecovered)
        bytes += max(0, stat.numBytesRecovered - previous.stat.numBytesRecovered)
      }
      let since = previous.flatMap { $0.stat.state == stat.state ? $0.stateSince : nil } ?? now
      records[stat.pgid] = Record(
        stat: stat, reporter: report.osd, reportedEpoch: report.epoch, received: now,
        seq: (previous?.seq ?? 0) + 1, stateSince: since)
      taken += 1
    }
    if let space = report.osdStats { osdSpace[report.osd] = space }
    recovery.add(time: now, objects: objects, bytes: bytes)
    return .success(taken)
  }

  /// Every PG of every pool of `map`, in pool and seed order, as shown at `now`.
  func views(_ map: OSDMap, now: Double) -> [View] {
    var views: [View] = []
    for (id, pool) in map.pools.sorted(by: { $0.key < $1.key }) {
      let since = poolsSeen[id].map { $0.pgNum == pool.pgNum ? $0.since : now } ?? now
      for seed in 0..<pool.pgNum {
        let pgid = PGID(pool: id, seed: seed)
        guard let mapping = try? map.map(pg: pgid) else { continue }
        guard let record = records[pgid] else {
          views.append(
            View(
              pgid: pgid, state: "unknown", mapping: mapping, record: nil,
              overdue: now - since > staleAfter))
          continue
        }
        let stale =
          now - record.received > staleAfter || !map.isUp(record.reporter)
          || mapping.actingPrimary != record.reporter
        let outdated = record.reportedEpoch < (intervals[pgid]?.since ?? 0)
        let state: String
        if stale {
          state =
            PGMapSummary.has(record.stat.state, "stale")
            ? record.stat.state : "stale+" + record.stat.state
        } else {
          state = outdated ? "peering" : record.stat.state
        }
        views.append(
          View(pgid: pgid, state: state, mapping: mapping, record: record, overdue: false))
      }
    }
    return views
  }

  /// The totals `status` and `health` show.
  func summary(_ map: OSDMap, now: Double) -> PGMapSummary {
    PGMapSummary(
      views: views(map, now: now), map: map, recovery: recovery.rate(now: now),
      space: osdSpace.filter { map.isUp($0.key) }.map(\.value))
  }

  /// The smallest last_epoch_clean over every PG of every pool: epochs from it on are still
  /// needed by OSDs working out a PG's past intervals. Nil while a PG has never reported
  /// (nothing may be trimmed then); UInt32.max when there are no PGs at all.
  func minLastEpochClean(_ map: OSDMap) -> UInt32? {
    var lowest = UInt32.max
    for (id, pool) in map.pools {
      for seed in 0..<pool.pgNum {
        guard let record = records[PGID(pool: id, seed: seed)] else { return nil }
        lowest = min(lowest, record.stat.lastEpochClean)
      }
    }
    return lowest
  }
}
