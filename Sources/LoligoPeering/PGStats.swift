import LoligoPlacement

/// What the primary of a PG reports about it (Ceph's `pg_stat_t`, the parts this model has).
/// Object counts come from the store; the daemon adds them.
public struct PGStat: Sendable, Equatable {
  public var pgid: PGID
  /// Ceph's state names joined by `+` (`active+clean`, `active+recovering+degraded`, ...).
  public var state: String
  public var up: [Int32]
  public var acting: [Int32]
  public var upPrimary: Int32
  public var actingPrimary: Int32
  public var interval: UInt32
  public var lastUpdate: EVersion
  public var logSize: Int
  public var lastEpochClean: UInt32
  /// Copies missing on the primary and acting members, object by object.
  public var missingCopies: Int
  /// Copies that do not exist at all for each object: pool size minus the acting set.
  public var absentCopiesPerObject: Int
  /// Backfill targets and how far each has been copied.
  public var backfill: [Int32: BackfillBound]
  public var unfound: Int
  public var recoveredObjects: Int
  public var recoveredBytes: Int
  /// OSDs a `down` PG waits for.
  public var blockedBy: [Int32]
}

extension PeeringCore {
  /// The PGs this OSD is acting primary of.
  public func stats() -> [PGStat] {
    pgs.values.filter { $0.isPrimary }.sorted {
      ($0.pgid.pool, $0.pgid.seed) < ($1.pgid.pool, $1.pgid.seed)
    }
    .map { $0.stat(env) }
  }

  /// One PG's whole state as `pg query` shows it, or nil when this OSD does not hold it.
  public func query(_ pgid: PGID) -> [String: String]? {
    pgs[pgid]?.queryFields(env)
  }
}

extension PGState {
  func stat(_ env: PeeringEnvironment) -> PGStat {
    var missingCopies = missing.count
    var backfill: [Int32: BackfillBound] = [:]
    for (osd, member) in members {
      if member.isBackfillTarget {
        backfill[osd] = member.backfillAcked
      } else {
        missingCopies += member.missing.count
      }
    }
    var blocked: [Int32] = []
    if case .down(let osds) = phase { blocked = osds }
    return PGStat(
      pgid: pgid, state: stateName(env), up: up, acting: acting, upPrimary: upPrimary,
      actingPrimary: primary, interval: interval, lastUpdate: info.lastUpdate,
      logSize: log.count, lastEpochClean: info.lastEpochClean, missingCopies: missingCopies,
      absentCopiesPerObject: max(0, size - acting.count), backfill: backfill,
      unfound: unfound.count, recoveredObjects: recoveredObjects,
      recoveredBytes: recoveredBytes, blockedBy: blocked)
  }

  /// Ceph's state string, its parts in Ceph's order.
  func stateName(_ env: PeeringEnvironment) -> String {
    switch phase {
    case .flushing, .getInfo, .waitUpThru, .activating, .waitActingChange:
      return "peering"
    case .down: return "down"
    case .incomplete: return "incomplete"
    case .stray, .replicaWaiting, .replicaActive: return "stray"
    case .active: break
    }
    var parts: [String] = []
    let serving = acting.count >= minSize
    if serving { parts.append("active") }
    if clean { parts.append("clean") }
    let lacking =
      !missing.isEmpty || members.values.contains { !$0.isBackfillTarget && !$0.missing.isEmpty }
    if lacking {
      parts.append(recovering.isEmpty ? "recovery_wait" : "recovering")
      // Waiting for a copy to have room: one the map marks full, or one that lately had none.
      let full = members.contains {
        !$0.value.isBackfillTarget && !$0.value.missing.isEmpty && env.isFull($0.key)
      }
      if full || isTooFull(env) { parts.append("recovery_toofull") }
    }
    if !unfound.isEmpty { parts.append("recovery_unfound") }
    if acting.count < size { parts.append("undersized") }
    if lacking || acting.count < size { parts.append("degraded") }
    if acting != up { parts.append("remapped") }
    if members.values.contains(where: { $0.isBackfillTarget && $0.backfillAcked != .complete }) {
      switch backfill {
      case .running, .finishing: parts.append("backfilling")
      case .tooFull: parts.append("backfill_toofull")
      default: parts.append("backfill_wait")
      }
    }
    if !serving { parts.append("peered") }
    return parts.joined(separator: "+")
  }

  func queryFields(_ env: PeeringEnvironment) -> [String: String] {
    var fields: [String: String] = [
      "pgid": "\(pgid)", "state": isPrimary ? stateName(env) : "\(phase)",
      "interval": "\(interval)", "up": "\(up)", "acting": "\(acting)", "primary": "\(primary)",
      "last_update": "\(info.lastUpdate)", "log_tail": "\(info.logTail)",
      "log_size": "\(log.count)", "last_epoch_started": "\(info.lastEpochStarted)",
      "last_epoch_clean": "\(info.lastEpochClean)", "missing": "\(missing.count)",
      "last_backfill": "\(info.lastBackfill)",
    ]
    if case .down(let osds) = phase { fields["blocked_by"] = "\(osds)" }
    // A request logged twice would be a resend applied again.
    let requests = log.entries.map(\.reqid)
    fields["duplicate_requests"] = "\(requests.count - Set(requests).count)"
    if isPrimary {
      fields["unfound"] = "\(unfound.count)"
      fields["recovering"] = "\(recovering.count)"
      for (osd, member) in members.sorted(by: { $0.key < $1.key }) {
        fields["peer.\(osd)"] =
          member.isBackfillTarget
          ? "backfill target, copied to \(member.backfillAcked)"
          : "missing \(member.missing.count)"
      }
    }
    return fields
  }
}

extension PeeringCore {
  /// The log entry of `version` in a PG here, if the log holds it (for tracing).
  public func logEntry(_ pgid: PGID, _ version: EVersion) -> PGLogEntry? {
    pgs[pgid]?.log.entry(version)
  }

  /// PGs this OSD holds or serves.
  public var pgCount: Int { pgs.count }

  /// What a listing of the PG's objects from this OSD's store gets wrong while it has
  /// objects to recover: those that exist but are not here yet, and those here that must go.
  public func listing(_ pgid: PGID) -> (missing: Set<ObjectID>, removed: Set<ObjectID>) {
    guard let pg = pgs[pgid] else { return ([], []) }
    var missing = Set<ObjectID>()
    var removed = Set<ObjectID>()
    for (object, need) in pg.missing.needs {
      if need.isZero { removed.insert(object) } else { missing.insert(object) }
    }
    return (missing, removed)
  }
}
