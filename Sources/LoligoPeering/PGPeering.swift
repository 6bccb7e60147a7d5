import LoligoPlacement

/// Intervals and the primary's peering: who to ask, whose log is authoritative, what each
/// copy lacks, which acting set to ask for, and activation.
extension PGState {
  /// Drops what belonged to the interval being left: queued and in-flight client ops (the
  /// clients resend them to whoever serves the new interval), recovery and reservations.
  mutating func leaveInterval(_ env: inout PeeringEnvironment) {
    for op in waitingForActive { env.outputs.append(.discard(token: op.token)) }
    for ops in waitingForObject.values {
      for op in ops { env.outputs.append(.discard(token: op.token)) }
    }
    for write in inFlight.values {
      for token in write.tokens { env.outputs.append(.discard(token: token)) }
    }
    waitingForActive.removeAll()
    waitingForObject.removeAll()
    inFlight.removeAll()
    env.recoveryActive -= recoveryCount
    recovering.removeAll()
    backfillInFlight.removeAll()
    releaseBackfillSlots(&env)
    members.removeAll()
    reports.removeAll()
    queried.removeAll()
    strays.removeAll()
    unfound.removeAll()
    unreadableAt.removeAll()
    backfill = .idle
    backfillRetryAt = 0
    pullTooFullUntil = 0
    backfillQueue.removeAll()
    backfillCursor = nil
    backfillListedAll = false
    activationDurable = false
    pgTempAsked = nil
    clean = false
    purgeSent = false
    channel = ReplicaChannel()
  }

  /// Gives back the local backfill slot and every remote one granted.
  mutating func releaseBackfillSlots(_ env: inout PeeringEnvironment) {
    env.releaseLocalBackfillSlot(pgid)
    for osd in members.keys.sorted() where members[osd]!.reserved {
      members[osd]!.reserved = false
      env.send(osd, pgid, interval: interval, .reserveRelease)
    }
  }

  /// Recovery operations of this PG counted in the OSD's `recoveryActive`.
  var recoveryCount: Int { recovering.count + backfillInFlight.count }

  mutating func startInterval(
    first: UInt32, up: [Int32], acting: [Int32], primary: Int32, upPrimary: Int32, size: Int,
    minSize: Int, history: PGIntervalHistory, _ env: inout PeeringEnvironment
  ) {
    leaveInterval(&env)
    interval = first
    self.up = up
    self.acting = acting
    self.primary = primary
    self.upPrimary = upPrimary
    self.size = size
    self.minSize = minSize
    enteredPhase = env.now
    if primary == env.whoami {
      phase = .flushing
      if pendingCommits == 0 { beginGetInfo(history, &env) }
    } else if acting.contains(env.whoami) || up.contains(env.whoami) {
      phase = .replicaWaiting
      channel.primary = primary
    } else {
      phase = .stray
      // Holding a copy it no longer serves: tell the primary, which purges it once clean.
      // The notify is a whole answer (log and missing too), as the primary may be querying
      // this OSD in the same interval and take it as its reply.
      if exists, primary >= 0 {
        lastQuery = env.now
        answerQuery(from: primary, interval: first, &env)
      }
    }
  }

  /// A map that did not change this PG's interval.
  mutating func mapAdvanced(
    previous: OSDMap?, history: PGIntervalHistory, _ env: inout PeeringEnvironment
  ) {
    switch phase {
    case .getInfo, .down, .incomplete:
      // Someone the prior set needs came up or went down: ask again.
      let relevant = Set(priorIntervals(history).flatMap(\.acting)).union(queried)
      if relevant.contains(where: { (previous?.isUp($0) ?? false) != env.isUp($0) }) {
        beginGetInfo(history, &env)
      }
    case .waitUpThru:
      if (env.map?.entry(env.whoami)?.upThru ?? 0) >= interval { activate(&env) }
    case .active:
      recover(&env)
    default:
      break
    }
  }

  /// Maybe-read-write intervals that still matter: those not known to precede a clean epoch.
  func priorIntervals(_ history: PGIntervalHistory) -> [PGInterval] {
    let floor = knownCleanEpoch
    return history.past.filter { $0.maybeWentRW && $0.last >= floor }
  }

  /// The newest epoch at which this PG is known to have been clean (ours or a peer's).
  var knownCleanEpoch: UInt32 {
    reports.values.reduce(info.lastEpochClean) { max($0, $1.notify.info?.lastEpochClean ?? 0) }
  }

  // MARK: GetInfo

  mutating func beginGetInfo(_ history: PGIntervalHistory, _ env: inout PeeringEnvironment) {
    phase = .getInfo
    enteredPhase = env.now
    reports.removeAll()
    var probe = Set(up).union(acting)
    for past in priorIntervals(history) {
      for osd in past.acting where env.isUp(osd) { probe.insert(osd) }
    }
    probe.remove(env.whoami)
    probe = probe.filter { env.isUp($0) }
    queried = probe
    lastQuery = env.now
    for osd in probe.sorted() { env.send(osd, pgid, interval: interval, .query) }
    if probe.isEmpty { evaluate(history, &env) }
  }

  mutating func receiveNotify(
    from osd: Int32, _ notify: PGNotify, history: PGIntervalHistory,
    _ env: inout PeeringEnvironment
  ) {
    guard phase == .getInfo, queried.contains(osd) else {
      // An OSD outside the PG's sets telling us it still holds a copy (Ceph's stray notify):
      // once the PG is clean, that copy goes.
      guard isPrimary, notify.info != nil, !up.contains(osd), !acting.contains(osd) else {
        return
      }
      if !strays.contains(osd) {
        strays.insert(osd)
        purgeSent = false
        updateClean(&env)
      } else if purgeSent {
        env.send(osd, pgid, interval: interval, .purge)  // the purge was lost: again
      }
      return
    }
    reports[osd] = PeerReport(notify: notify)
    if queried.isSubset(of: Set(reports.keys)) { evaluate(history, &env) }
  }

  /// Everything is in: decide whether the PG can go active, with whose log, on which OSDs.
  mutating func evaluate(_ history: PGIntervalHistory, _ env: inout PeeringEnvironment) {
    let me = env.whoami
    let floor = knownCleanEpoch
    // Maps this OSD never saw may hide intervals that served writes; only a clean epoch
    // after them (from anyone's info) makes them irrelevant.
    if history.knownSince > floor {
      phase = .incomplete
      enteredPhase = env.now
      return
    }
    // Every interval that may have served writes needs an OSD of its acting set to answer
    // for it: one with a complete copy (activated in it or later: it holds its writes; or
    // not: then the interval never activated, as activation waits for every acting OSD to
    // persist it), or one holding nothing that has been up since before the interval began
    // (it would hold the PG had the interval activated; one that restarted since may have
    // lost it with a memory store).
    var blockers = Set<Int32>()
    var uncovered = false
    for past in priorIntervals(history) {
      let covered = past.acting.contains { osd in
        if let info = reportedInfo(osd, me) { return info.lastBackfill.isComplete }
        guard osd == me || reports[osd] != nil, let entry = env.map?.entry(osd) else {
          return false
        }
        return entry.isUp && entry.upFrom <= past.first
      }
      if covered { continue }
      let alive = past.acting.filter { env.isUp($0) }
      if alive.isEmpty { blockers.formUnion(past.acting) } else { uncovered = true }
    }
    if !blockers.isEmpty {
      phase = .down(blockedBy: blockers.sorted())
      enteredPhase = env.now
      return
    }
    if uncovered {
      phase = .incomplete
      enteredPhase = env.now
      return
    }
    // The authoritative log: newest activation first, then the newest entry.
    var best: (osd: Int32, info: PGInfo)?
    for osd in [me] + reports.keys.sorted() {
      guard let candidate = reportedInfo(osd, me), candidate.lastBackfill.isComplete,
        !candidate.isEmpty
      else { continue }
      if let current = best {
        let a = (candidate.lastEpochStarted, candidate.lastUpdate)
        let b = (current.info.lastEpochStarted, current.info.lastUpdate)
        if a.0 > b.0 || (a.0 == b.0 && a.1 > b.1) { best = (osd, candidate) }
      } else {
        best = (osd, candidate)
      }
    }
    let authority: PGLog
    if let best, best.osd != me, let report = reports[best.osd] {
      authority = PGLog(tail: best.info.logTail, entries: report.notify.log)
    } else {
      authority = log
    }
    let authorityOSD = best?.osd ?? me
    // What each copy lacks against it.
    var mine = PeerReport(
      notify: PGNotify(info: exists ? info : nil, log: Array(log.entries), missing: missing))
    Self.classify(&mine, against: authority)
    reports[me] = mine
    for osd in reports.keys where osd != me {
      Self.classify(&reports[osd]!, against: authority)
    }
    // The acting set to serve with: the up set where its OSDs can be brought up to date from
    // the log, topped up with others that can while the rest are backfilled.
    let candidates = Set(reports.filter { $0.value.logRecoverable }.keys).filter {
      $0 == me || env.isUp($0)
    }
    var want: [Int32] = []
    if candidates.contains(upPrimary) {
      want.append(upPrimary)
    } else if candidates.contains(authorityOSD) {
      want.append(authorityOSD)
    } else if let any = candidates.min() {
      want.append(any)
    }
    for osd in up where want.count < size && candidates.contains(osd) && !want.contains(osd) {
      want.append(osd)
    }
    for osd in acting where want.count < size && candidates.contains(osd) && !want.contains(osd) {
      want.append(osd)
    }
    for osd in candidates.sorted() where want.count < size && !want.contains(osd) {
      want.append(osd)
    }
    reports[me] = nil
    if want != acting {
      let request = want == up ? [] : want
      phase = .waitActingChange
      enteredPhase = env.now
      pgTempAsked = (request, env.now)
      env.outputs.append(.requestPGTemp(pgid, request))
      return
    }
    self.authority = authority
    self.myReport = mine
    strays.formUnion(
      reports.filter {
        $0.value.notify.info != nil && !up.contains($0.key) && !acting.contains($0.key)
      }
      .keys)
    if (env.map?.entry(me)?.upThru ?? 0) < interval {
      phase = .waitUpThru
      enteredPhase = env.now
      askUpThru(&env)
      return
    }
    activate(&env)
  }

  func reportedInfo(_ osd: Int32, _ me: Int32) -> PGInfo? {
    if osd == me { return exists ? info : nil }
    return reports[osd]?.notify.info
  }

  mutating func askUpThru(_ env: inout PeeringEnvironment) {
    if let asked = env.upThruAsked, asked.epoch >= interval,
      env.now < asked.at + env.config.retryInterval
    {
      return
    }
    env.upThruAsked = (interval, env.now)
    env.outputs.append(.requestUpThru(interval))
  }

  /// Whether `report` can be brought up to date from `authority`'s log, and what it lacks.
  static func classify(_ report: inout PeerReport, against authority: PGLog) {
    let notify = report.notify
    guard let info = notify.info else {
      // Holds nothing: the log can rebuild it only if it reaches back to the PG's start.
      report.logRecoverable = authority.tail.isZero
      report.missing = MissingSet()
      if report.logRecoverable {
        for entry in authority.entries { report.missing.add(entry.object, need: entry.version) }
      }
      return
    }
    guard info.lastBackfill.isComplete, info.lastUpdate >= authority.tail else {
      report.logRecoverable = false
      return
    }
    // The newest entry it shares with the authority; what it has after that diverged.
    var common = info.lastUpdate
    var divergent: [PGLogEntry] = []
    if !(common == authority.tail || common.isZero || authority.contains(common)) {
      let theirs = PGLog(tail: info.logTail, entries: notify.log)
      var found = false
      for entry in theirs.entries.reversed() {
        if authority.contains(entry.version) || entry.version == authority.tail {
          common = entry.version
          found = true
          break
        }
        guard entry.version > authority.tail else { break }
        divergent.append(entry)
      }
      if !found {
        let tail = theirs.tail
        guard
          tail == authority.tail || authority.contains(tail)
            || (tail.isZero && authority.tail.isZero)
        else {
          report.logRecoverable = false
          return
        }
        common = tail
      }
    }
    var missing = notify.missing
    // A divergent change is undone: the object goes back to its version before the oldest
    // divergent change (or away, when that change created it).
    for entry in divergent.reversed()
    where !divergent.contains(where: {
      $0.object == entry.object && $0.version < entry.version
    }) {
      missing.add(entry.object, need: entry.priorVersion)
    }
    for entry in authority.entries(after: common) {
      missing.add(entry.object, need: entry.version)
    }
    report.missing = missing
    report.logRecoverable = true
  }

  // MARK: activation

  /// Adopts the authoritative log, tells every member what to adopt, and waits for them.
  mutating func activate(_ env: inout PeeringEnvironment) {
    let me = env.whoami
    guard let authority else { return }
    var t = PGTransaction()
    // Our own log becomes the authority's.
    let keep = Set(authority.entries.map(\.version))
    let removed = log.entries.filter { !keep.contains($0.version) }.map(\.version)
    let added = authority.entries.filter { !log.contains($0.version) }
    if !removed.isEmpty { t.append(.removeLog(pgid, removed)) }
    if !added.isEmpty { t.append(.appendLog(pgid, Array(added))) }
    log = authority
    let newMissing = myReport?.missing ?? MissingSet()
    for object in missing.needs.keys where newMissing.need(object) == nil {
      t.append(.clearMissing(pgid, object))
    }
    for (object, need) in newMissing.needs where missing.need(object) != need {
      t.append(.setMissing(pgid, object, need))
    }
    missing = newMissing
    info.lastUpdate = log.head
    info.logTail = log.tail
    info.lastComplete = missing.isEmpty ? log.head : info.lastComplete
    info.lastEpochStarted = interval
    info.lastBackfill = .complete
    info.lastEpochClean = max(info.lastEpochClean, knownCleanEpoch)
    if info.epochCreated == 0 { info.epochCreated = interval }
    t.append(.putInfo(info))
    submit(t, .activation(interval: interval), &env)
    // Members: the acting replicas adopt the log; backfill targets start from nothing.
    members.removeAll()
    let entries = Array(log.entries)
    for osd in acting where osd != me {
      var member = MemberState()
      member.missing = reports[osd]?.missing ?? MissingSet()
      members[osd] = member
      var theirs = info
      theirs.lastComplete = member.missing.isEmpty ? log.head : log.tail
      sendOrdered(
        osd, .activate(PGActivate(info: theirs, log: entries, missing: member.missing)), &env)
    }
    for osd in up where osd != me && !acting.contains(osd) {
      var member = MemberState()
      member.isBackfillTarget = true
      member.backfillSent = .none
      member.backfillAcked = .none
      members[osd] = member
      var theirs = info
      theirs.lastBackfill = .none
      theirs.lastComplete = log.tail
      sendOrdered(
        osd, .activate(PGActivate(info: theirs, log: entries, missing: MissingSet())), &env)
    }
    phase = .activating
    enteredPhase = env.now
  }

  /// Activation is durable here and on every member: serve.
  mutating func checkActivated(_ env: inout PeeringEnvironment) {
    guard phase == .activating, activationDurable, members.values.allSatisfy(\.activated) else {
      return
    }
    phase = .active
    enteredPhase = env.now
    let waiting = waitingForActive
    waitingForActive.removeAll()
    for op in waiting { handleClientOp(op, &env) }
    recover(&env)
  }

  /// Clean: every acting OSD holds everything, the acting set is the up set and full.
  mutating func updateClean(_ env: inout PeeringEnvironment) {
    let nowClean =
      phase == .active && acting.count == size && acting == up && missing.isEmpty
      && unfound.isEmpty && members.values.allSatisfy { !$0.isBackfillTarget && $0.missing.isEmpty }
    clean = nowClean
    guard nowClean else { return }
    if info.lastEpochClean < interval {
      info.lastEpochClean = env.epoch
      persistInfo(&env)
      // Every member learns it too: whichever of them leads next prunes older intervals.
      for osd in members.keys.sorted() { sendOrdered(osd, .clean(info.lastEpochClean), &env) }
    }
    // Copies outside the acting set go only once every member knows the PG was clean (else
    // a member leading next would look for them to vouch for intervals before it).
    if !purgeSent, members.values.allSatisfy({ $0.cleanAcked >= info.lastEpochClean }) {
      purgeSent = true
      for osd in strays.sorted() { env.send(osd, pgid, interval: interval, .purge) }
    }
  }
}
