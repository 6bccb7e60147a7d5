import LoligoPlacement

/// What a PG's handlers share while one input is processed: the OSD's identity, config, store
/// and current map, the outputs gathered so far and the OSD-wide bookkeeping (commit tokens,
/// backfill slots, requests to the monitors).
struct PeeringEnvironment {
  let whoami: Int32
  var config: PeeringConfig
  let store: any PGStoreReader
  var map: OSDMap?
  var tracker = IntervalTracker()
  var now: UInt64 = 0
  var outputs: [PeeringOutput] = []
  var nextToken: UInt64 = 0
  /// Submitted transactions by token: whose, and what their commit completes.
  var commits: [UInt64: (pgid: PGID, action: CommitAction)] = [:]
  /// Local backfill slots (`osd_max_backfills`): PGs holding one, PGs waiting in order.
  var localBackfillHeld: Set<PGID> = []
  var localBackfillWaiting: [PGID] = []
  /// Remote backfill slots granted to primaries, by PG.
  var remoteBackfillGranted: [PGID: Int32] = [:]
  /// The up_thru this OSD asked the monitors for, and when.
  var upThruAsked: (epoch: UInt32, at: UInt64)?
  /// Recovery operations in flight on this OSD (pulls and pushes, all PGs).
  var recoveryActive = 0
  /// No recovery operation starts before this time (`osd_recovery_sleep`).
  var recoveryResumeAt: UInt64 = 0

  var epoch: UInt32 { map?.epoch ?? 0 }

  mutating func send(_ to: Int32, _ pgid: PGID, interval: UInt32, _ body: PGMessage.Body) {
    outputs.append(
      .send(to: to, PGMessage(pgid: pgid, epoch: epoch, interval: interval, body: body)))
  }

  mutating func submit(_ transaction: PGTransaction, for pgid: PGID, _ action: CommitAction) {
    nextToken += 1
    commits[nextToken] = (pgid, action)
    outputs.append(.store(transaction, token: nextToken))
  }

  func isUp(_ osd: Int32) -> Bool { map?.isUp(osd) ?? false }

  func history(_ pgid: PGID) -> PGIntervalHistory? { tracker.history(pgid) }

  /// The monitors marked the OSD full: no new data goes to it.
  func isFull(_ osd: Int32) -> Bool { map?.entry(osd)?.state.contains(.full) ?? false }

  /// The monitors marked the OSD backfillfull (or full): no backfill fills it further.
  func isBackfillFull(_ osd: Int32) -> Bool {
    guard let state = map?.entry(osd)?.state else { return false }
    return state.contains(.backfillFull) || state.contains(.full)
  }

  var noRecover: Bool { (map?.flags ?? 0) & OSDMapFlags.noRecover != 0 }
  var noBackfill: Bool {
    (map?.flags ?? 0) & (OSDMapFlags.noBackfill | OSDMapFlags.noRecover) != 0
  }

  /// Takes a local backfill slot for `pgid` if one is free (or already held); otherwise
  /// queues the PG for the next one.
  mutating func takeLocalBackfillSlot(_ pgid: PGID) -> Bool {
    if localBackfillHeld.contains(pgid) { return true }
    if localBackfillHeld.count < config.maxBackfills {
      localBackfillWaiting.removeAll { $0 == pgid }
      localBackfillHeld.insert(pgid)
      return true
    }
    if !localBackfillWaiting.contains(pgid) { localBackfillWaiting.append(pgid) }
    return false
  }

  mutating func releaseLocalBackfillSlot(_ pgid: PGID) {
    localBackfillHeld.remove(pgid)
    localBackfillWaiting.removeAll { $0 == pgid }
  }
}

/// What the commit of a submitted transaction completes.
enum CommitAction: Sendable {
  /// Nothing beyond the PG's pending-commit count.
  case none
  /// The primary's local copy of a client write.
  case write(EVersion)
  /// A member applied the primary's ordered message `seq`.
  case applied(
    seq: UInt64, PGMessage.Applied, primary: Int32, interval: UInt32, object: ObjectID?)
  /// The primary's own activation of the interval.
  case activation(interval: UInt32)
  /// The primary installed a pulled object.
  case recovered(ObjectID)
  /// The PG was removed from this OSD.
  case removed
}
