import LoligoPlacement

/// The deterministic peering, replication and recovery core of one OSD: every PG this OSD
/// holds or serves, as Ceph's `PeeringState` and `PrimaryLogPG` keep them, without I/O. The
/// daemon (or the simulation) feeds inputs through `step` and carries out the outputs.
///
/// Contract for the daemon:
/// 1. Build it over the OSD's store (`PGStoreReader`), `step(.start)` once, then feed every OSD
///    map in epoch order (`.maps`), every PG message from another OSD, every client op for
///    which this OSD is the PG's acting primary, every store commit, and a `.tick` now and then.
///    `now` is a monotonic clock in nanoseconds.
/// 2. Carry out outputs in order. `.store` transactions apply atomically and in submission
///    order; report each commit (`.committed(token)`) once it is durable, in that order.
///    Messages may be sent at once (the core never sends what depends on an uncommitted
///    transaction before its commit).
/// 3. After a crash, build a new core over the same store: what must survive is on disk.
///
/// The model, and where it is simpler than Ceph's (each place says why it stays safe):
/// - Past intervals come from the OSD's own map history (`IntervalTracker`), with `up_thru` to
///   tell intervals that may have served writes; an OSD's info counts for an interval when it
///   is complete (not mid-backfill): either it was activated in that interval or later (and so
///   holds its writes), or it was not, which proves the interval never activated (activation
///   waits for every acting OSD to persist it).
/// - One query round collects every candidate's info, log and missing set (Ceph's GetInfo,
///   GetLog and GetMissing in one): logs are bounded by `osd_max_pg_log_entries`.
/// - Primary → member traffic is an ordered, acknowledged channel per interval, so members
///   apply writes, pushes and activation in order exactly once under loss, duplication and
///   reordering; everything else is idempotent and retried.
/// - Backfill targets start from an empty PG and are filled in `ObjectID` order, which is
///   Ceph's hash order; Ceph compares what both sides hold and copies only differences, here
///   every object is sent: simpler, and nothing on a target is trusted before it is copied.
/// - Writes to an object a member lacks wait until the push is sent; reads wait for the
///   primary's own copy and for its earlier writes to be durable.
public struct PeeringCore: Sendable {
  var env: PeeringEnvironment
  var pgs: [PGID: PGState] = [:]
  /// Messages of intervals this OSD's maps have not reached yet.
  var held: [(from: Int32, message: PGMessage)] = []
  var started = false

  public init(whoami: Int32, config: PeeringConfig = PeeringConfig(), store: any PGStoreReader) {
    env = PeeringEnvironment(whoami: whoami, config: config, store: store)
  }

  public var whoami: Int32 { env.whoami }

  /// Whether the PG is active and clean here as primary with nothing in flight: no write
  /// waiting for a member or the store, no copy being recovered, so every acting copy holds
  /// the same committed state (what a deep scrub compares).
  public func isQuiet(_ pgid: PGID) -> Bool {
    guard let pg = pgs[pgid], pg.phase == .active, pg.clean else { return false }
    return pg.inFlight.isEmpty && pg.uncommitted.isEmpty && pg.recovering.isEmpty
      && pg.backfillInFlight.isEmpty && pg.members.values.allSatisfy { $0.unacked.isEmpty }
  }

  /// The acting set of a PG this OSD leads, if active.
  public func activeActing(_ pgid: PGID) -> [Int32]? {
    guard let pg = pgs[pgid], pg.phase == .active else { return nil }
    return pg.acting
  }
  public var epoch: UInt32 { env.epoch }
  public var config: PeeringConfig { env.config }

  /// Processes one input; returns what to do, in order.
  public mutating func step(_ input: PeeringInput, now: UInt64) -> [PeeringOutput] {
    env.now = max(env.now, now)
    switch input {
    case .start: start()
    case .maps(let maps): if started { advance(maps) }
    case .message(let from, let message): if started { receive(from, message) }
    case .clientOp(var op):
      op.arrived = env.now
      if started, pgs[op.pgid] != nil {
        pgs[op.pgid]!.handleClientOp(op, &env)
      } else {
        env.outputs.append(.discard(token: op.token))
      }
    case .committed(let token): committed(token)
    case .tick: if started { tick() }
    case .repair(let pgid, let bad):
      if started, pgs[pgid] != nil { pgs[pgid]!.repair(bad, &env) }
    case .unreadable(var op):
      op.arrived = env.now
      if started, pgs[op.pgid] != nil, pgs[op.pgid]!.servesIO {
        pgs[op.pgid]!.markUnreadable(op.object, &env)
        pgs[op.pgid]!.handleClientOp(op, &env)
      } else {
        env.outputs.append(.discard(token: op.token))
      }
    }
    var outputs: [PeeringOutput] = []
    swap(&outputs, &env.outputs)
    return outputs
  }

  mutating func start() {
    guard !started else { return }
    started = true
    for pgid in env.store.storedPGs() {
      guard let stored = env.store.load(pgid) else { continue }
      pgs[pgid] = PGState(pgid: pgid, stored: stored)
    }
  }

  // MARK: maps

  mutating func advance(_ maps: [OSDMap]) {
    let before = env.map
    var changed = Set<PGID>()
    for map in maps where map.epoch > env.epoch {
      changed.formUnion(env.tracker.advance(to: map))
      env.map = map
    }
    guard let map = env.map, map.epoch != before?.epoch else { return }
    // PGs of deleted pools go.
    for pgid in pgs.keys.sorted() where map.pool(pgid.pool) == nil {
      pgs[pgid]!.leaveInterval(&env)
      if pgs[pgid]!.exists {
        var t = PGTransaction()
        t.append(.remove(pgid))
        pgs[pgid]!.submit(t, .removed, &env)
      } else {
        pgs[pgid] = nil
      }
    }
    // Remote backfill slots of PGs whose interval changed are free again.
    for pgid in changed { env.remoteBackfillGranted[pgid] = nil }
    for pgid in changed.sorted() {
      guard let history = env.tracker.history(pgid), let pool = map.pool(pgid.pool) else {
        continue
      }
      let current = history.current
      let involved = current.up.contains(whoami) || current.acting.contains(whoami)
      if pgs[pgid] == nil {
        guard involved else { continue }
        pgs[pgid] = PGState(pgid: pgid, stored: nil)
      }
      pgs[pgid]!.startInterval(
        first: history.currentFirst, up: current.up, acting: current.acting,
        primary: current.primary, upPrimary: current.upPrimary, size: Int(pool.size),
        minSize: Int(pool.minSize), history: history, &env)
      if !involved, pgs[pgid]!.phase == .stray, !pgs[pgid]!.exists {
        pgs[pgid] = nil  // nothing here and nothing to do
      }
    }
    for pgid in pgs.keys.sorted() where !changed.contains(pgid) {
      guard let history = env.tracker.history(pgid) else { continue }
      pgs[pgid]!.mapAdvanced(previous: before, history: history, &env)
    }
    if !held.isEmpty {
      let ready = held.filter { $0.message.epoch <= map.epoch }
      held.removeAll { $0.message.epoch <= map.epoch }
      for (from, message) in ready { receive(from, message) }
    }
    // A PG clean since an epoch forgets the intervals before it.
    for (pgid, pg) in pgs where pg.info.lastEpochClean > 0 {
      env.tracker.prune(pgid, before: pg.info.lastEpochClean)
    }
  }

  // MARK: messages

  mutating func receive(_ from: Int32, _ message: PGMessage) {
    let pgid = message.pgid
    guard from != whoami, from >= 0 else { return }
    if message.epoch > env.epoch {
      // The sender knows a newer map: handle it once ours catches up (bounded).
      if held.count < 65_536 { held.append((from, message)) }
      return
    }
    switch message.body {
    case .query:
      if pgs[pgid] != nil {
        pgs[pgid]!.answerQuery(from: from, interval: message.interval, &env)
      } else {
        env.send(
          from, pgid, interval: message.interval,
          .notify(PGNotify(info: nil, log: [], missing: MissingSet())))
      }
    case .pull(let object):
      let read = pgs[pgid].map { $0.exists ? env.store.read(pgid, object) : .absent } ?? .absent
      env.send(from, pgid, interval: message.interval, .pulled(object, read))
    case .reserve:
      if env.isBackfillFull(whoami) {
        // Backfill never fills an OSD past backfillfull (Ceph's backfill_toofull).
        env.send(from, pgid, interval: message.interval, .reserveRejected)
      } else if env.remoteBackfillGranted[pgid] == from
        || env.remoteBackfillGranted.count < env.config.maxBackfills
      {
        env.remoteBackfillGranted[pgid] = from
        env.send(from, pgid, interval: message.interval, .reserveGranted)
      } else {
        env.send(from, pgid, interval: message.interval, .reserveRejected)
      }
    case .reserveRelease:
      if env.remoteBackfillGranted[pgid] == from { env.remoteBackfillGranted[pgid] = nil }
    default:
      guard pgs[pgid] != nil else { return }
      pgs[pgid]!.receive(from: from, message, &env)
    }
  }

  // MARK: commits and time

  mutating func committed(_ token: UInt64) {
    guard let (pgid, action) = env.commits.removeValue(forKey: token) else { return }
    guard pgs[pgid] != nil else { return }
    if case .removed = action, env.map?.pool(pgid.pool) == nil {
      pgs[pgid] = nil  // its pool is gone
      return
    }
    pgs[pgid]!.committed(action, &env)
    // A purged copy is forgotten unless the PG has been used since (it may have joined again).
    if case .removed = action, let pg = pgs[pgid], pg.phase == .stray, !pg.exists,
      pg.pendingCommits == 0
    {
      pgs[pgid] = nil
    }
  }

  mutating func tick() {
    for pgid in pgs.keys.sorted() { pgs[pgid]!.tick(&env) }
    // Backfills waiting for a local slot take freed ones in arrival order.
    while env.localBackfillHeld.count < env.config.maxBackfills,
      let next = env.localBackfillWaiting.first
    {
      env.localBackfillWaiting.removeFirst()
      if pgs[next] != nil { pgs[next]!.recover(&env) }
      if !env.localBackfillHeld.contains(next) { break }
    }
  }
}
