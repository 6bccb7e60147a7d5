import LoligoPlacement

/// Recovery (from the log) and backfill (by scanning) on the primary, acknowledgements of the
/// ordered channel, and the periodic retries.
extension PGState {
  /// Starts recovery of `object` ahead of others (a client op waits for it).
  mutating func recoverFirst(_ object: ObjectID, _ env: inout PeeringEnvironment) {
    priority.insert(object)
    recover(&env)
  }

  /// Marks copies a scrub found wrong as missing, at the version the primary's log (or the
  /// object) says is current, and recovers them like any other.
  mutating func repair(_ bad: [Int32: [ObjectID]], _ env: inout PeeringEnvironment) {
    guard phase == .active else { return }
    var t = PGTransaction()
    for (osd, objects) in bad.sorted(by: { $0.key < $1.key }) {
      for object in objects {
        let need = latestEntry(object)?.version ?? env.store.objectVersion(pgid, object) ?? .zero
        if osd == env.whoami {
          missing.add(object, need: need)
          t.append(.setMissing(pgid, object, need))
          // The copies scrub found wrong are not sources.
          for (other, list) in bad where other != osd && list.contains(object) {
            lacking.insert(Lacking(osd: other, object: object))
          }
        } else if members[osd] != nil, !members[osd]!.isBackfillTarget {
          members[osd]!.missing.add(object, need: need)
        }
      }
    }
    if !t.isEmpty { submit(t, .none, &env) }
    recover(&env)
  }

  /// Starts what recovery and backfill may start now, within the OSD's limits.
  mutating func recover(_ env: inout PeeringEnvironment) {
    guard phase == .active else { return }
    defer { updateClean(&env) }
    guard !env.noRecover else { return }
    let me = env.whoami
    // 1. This copy first: undo or delete what must not exist, pull what is missing.
    for (object, need) in missing.needs.sorted(by: { $0.key < $1.key })
    where recovering[object] == nil {
      if let entry = latestEntry(object), entry.version == need,
        entry.kind == .delete
          || need.isZero
      {
        removeLocally(object, &env)
      } else if need.isZero {
        removeLocally(object, &env)
      }
    }
    // Nothing is copied to a copy without room (Ceph's recovery_toofull): pulls wait while
    // this one lately had none, pushes while the member is full or lately had none.
    let pulls =
      env.now < pullTooFullUntil ? [] : missing.sortedObjects.sorted { rank($0) < rank($1) }
    for object in pulls where recovering[object] == nil {
      guard mayStartRecovery(env, urgent: priority.contains(object)) else { break }
      guard let need = missing.need(object) else { continue }
      guard let source = source(for: object, need: need, env) else {
        unfound.insert(object)
        if let bad = unreadableAt[object], Set(acting).isSubset(of: bad) {
          // Every acting copy is damaged: the ops waiting for it get an I/O error, never bytes
          // that fail their checksums (the object stays missing until a good copy turns up).
          for op in waitingForObject.removeValue(forKey: object) ?? [] {
            env.outputs.append(.reply(token: op.token, result: -5))
          }
        }
        continue
      }
      unfound.remove(object)
      env.send(source, pgid, interval: interval, .pull(object))
      recovering[object] = .pulling(source: source, sentAt: env.now)
      startedRecovery(&env)
    }
    // 2. Members' copies, once this one has the object and no change to it is in flight.
    var pushes: [ObjectID: Set<Int32>] = [:]
    for (osd, member) in members
    where !member.isBackfillTarget && env.now >= member.tooFullUntil && !env.isFull(osd) {
      for object in member.missing.needs.keys where !pushSent(object, to: osd) {
        pushes[object, default: []].insert(osd)
      }
    }
    let order = pushes.keys.sorted { rank($0) < rank($1) }
    for object in order where recovering[object] == nil {
      guard !missing.contains(object), uncommitted[object] == nil else { continue }
      guard mayStartRecovery(env, urgent: priority.contains(object)) else { break }
      let read = env.store.read(pgid, object)
      if read == .unreadable {
        // This copy is damaged too: recover it first, push after.
        markUnreadable(object, &env)
        continue
      }
      let snapshot = read.snapshot
      let targets = pushes[object]!
      for osd in targets.sorted() {
        sendOrdered(osd, .push(object, snapshot, backfill: false), &env)
      }
      recovering[object] = .pushing(targets)
      recoveredObjects += targets.count
      recoveredBytes += (snapshot?.body.readableBytes ?? 0) * targets.count
      startedRecovery(&env)
      wake(object, &env)  // writes to it may go now (they follow the push in order)
    }
    // 3. Backfill, once no acting copy lacks anything.
    if missing.isEmpty, members.values.allSatisfy({ $0.isBackfillTarget || $0.missing.isEmpty }) {
      backfillStep(&env)
    }
    _ = me
  }

  /// Recovery order: objects a client waits for first, then by name.
  func rank(_ object: ObjectID) -> (Int, String, String) {
    (priority.contains(object) ? 0 : 1, object.namespace, object.name)
  }

  func mayStartRecovery(_ env: PeeringEnvironment, urgent: Bool) -> Bool {
    guard env.recoveryActive < max(1, env.config.recoveryMaxActive) else { return false }
    return urgent || env.now >= env.recoveryResumeAt
  }

  mutating func startedRecovery(_ env: inout PeeringEnvironment) {
    env.recoveryActive += 1
    env.recoveryResumeAt = env.now + env.config.recoverySleep
  }

  mutating func finishedRecovery(_ env: inout PeeringEnvironment) {
    env.recoveryActive = max(0, env.recoveryActive - 1)
  }

  /// The authoritative log's newest entry for `object`, if the log holds one.
  func latestEntry(_ object: ObjectID) -> PGLogEntry? {
    log.entries.last { $0.object == object }
  }

  /// `need` of a copy whose own version cannot be read: any good copy will do.
  static let anyVersion = EVersion(epoch: .max, version: .max)

  /// This OSD's copy of `object` fails the store's checks: recover it like a missing one (Ceph's
  /// repair on read), at the version the log or the store's metadata says is current.
  mutating func markUnreadable(_ object: ObjectID, _ env: inout PeeringEnvironment) {
    guard !missing.contains(object) else { return }
    let need =
      latestEntry(object).map { $0.kind == .delete ? .zero : $0.version }
      ?? env.store.objectVersion(pgid, object) ?? Self.anyVersion
    missing.add(object, need: need)
    unreadableAt[object, default: []].insert(env.whoami)
    var t = PGTransaction()
    t.append(.setMissing(pgid, object, need))
    submit(t, .none, &env)
    priority.insert(object)
  }

  mutating func removeLocally(_ object: ObjectID, _ env: inout PeeringEnvironment) {
    var t = PGTransaction()
    t.append(.removeObject(pgid, object))
    t.append(.clearMissing(pgid, object))
    missing.remove(object)
    if missing.isEmpty { info.lastComplete = info.lastUpdate }
    t.append(.putInfo(info))
    noteSubmitted(object, version: nil)
    submit(t, .recovered(object), &env)
  }

  /// A peer that holds `object` at the needed version: not lacking it and complete.
  func source(for object: ObjectID, need: EVersion, _ env: PeeringEnvironment) -> Int32? {
    let candidates = reports.filter { osd, report in
      osd != env.whoami && env.isUp(osd) && report.logRecoverable
        && !report.missing.contains(object) && !lacking.contains(Lacking(osd: osd, object: object))
    }
    return candidates.keys.sorted { a, b in
      // Prefer acting members, then the lowest id.
      (acting.contains(a) ? 0 : 1, a) < (acting.contains(b) ? 0 : 1, b)
    }.first
  }

  mutating func receivePulled(
    from osd: Int32, _ object: ObjectID, _ read: ObjectRead, _ env: inout PeeringEnvironment
  ) {
    guard case .pulling(let source, _) = recovering[object], source == osd else { return }
    recovering[object] = nil
    finishedRecovery(&env)
    guard let need = missing.need(object) else {
      recover(&env)
      return
    }
    guard let snapshot = read.snapshot, need == Self.anyVersion || snapshot.version == need
    else {
      // It does not have it after all (or its copy is damaged): try another copy, and give
      // a damaged member copy a good one once this OSD has it.
      lacking.insert(Lacking(osd: osd, object: object))
      if read == .unreadable {
        unreadableAt[object, default: []].insert(osd)
        if members[osd] != nil, !members[osd]!.isBackfillTarget {
          members[osd]!.missing.add(object, need: need)
        }
      }
      recover(&env)
      return
    }
    guard env.store.hasRoom(for: snapshot.body.readableBytes, .replicated) else {
      // No room for it here: it stays missing; pulls wait a while.
      pullTooFullUntil = env.now + env.config.retryInterval
      return
    }
    var t = PGTransaction()
    t.append(.install(pgid, object, snapshot))
    t.append(.clearMissing(pgid, object))
    missing.remove(object)
    priority.remove(object)
    if missing.isEmpty { info.lastComplete = info.lastUpdate }
    t.append(.putInfo(info))
    noteSubmitted(object, version: snapshot.version)
    recoveredObjects += 1
    recoveredBytes += snapshot.body.readableBytes
    submit(t, .recovered(object), &env)
  }

  // MARK: the ordered channel, primary side

  mutating func receiveApplied(
    from osd: Int32, seq: UInt64, _ applied: PGMessage.Applied, _ env: inout PeeringEnvironment
  ) {
    guard members[osd] != nil else { return }
    // No local copy of the array: removing from it below must not copy it.
    let count = members[osd]!.unacked.prefix { $0.seq <= seq }.count
    guard count > 0 else {
      if phase == .activating { checkActivated(&env) }
      return
    }
    let done = members[osd]!.unacked.prefix(count).map { ($0.seq, $0.body) }
    members[osd]!.unacked.removeFirst(count)
    for (itemSeq, body) in done {
      // Acknowledgements are cumulative: how an earlier message went (its own answer was
      // lost, or is overtaken by this one, or this is a repeated acknowledgement) is not
      // known. For data that may have been refused the primary assumes it was: at worst an
      // object is pushed again.
      let outcome = Self.dataOutcome(body, itemSeq == seq ? applied : nil)
      if outcome == .refused {
        members[osd]!.tooFullUntil = env.now + env.config.retryInterval
      }
      switch body {
      case .activate:
        members[osd]!.activated = true
      case .repOp(let entry, _, _):
        if outcome == .refused || outcome == .unknown, !members[osd]!.isBackfillTarget {
          // The member logged the write but (maybe) had no room for its data: it lacks the
          // object until recovered, and does not count as a copy of the write.
          members[osd]!.missing.add(entry.object, need: entry.version)
          inFlight[entry.version]?.refusedBy.insert(osd)
          // Not a source for it either, when it said so (when not known, a pull finds out).
          if outcome == .refused { reports[osd]?.missing.add(entry.object, need: entry.version) }
        }
        inFlight[entry.version]?.pending.remove(osd)
        completeWrite(entry.version, &env)
      case .push(let object, _, false) where outcome == .refused || outcome == .unknown:
        // Not installed there (no room), or not known to be: it still lacks the object and
        // is pushed again, after a while when it had no room.
        if case .pushing(var targets) = recovering[object] {
          targets.remove(osd)
          if targets.isEmpty {
            recovering[object] = nil
            finishedRecovery(&env)
          } else {
            recovering[object] = .pushing(targets)
          }
        }
      case .push(let object, _, let backfill):
        if backfill {
          members[osd]!.backfillAcked = .upTo(object)
          if var targets = backfillInFlight[object] {
            targets.remove(osd)
            if targets.isEmpty {
              backfillInFlight[object] = nil
              finishedRecovery(&env)
              wake(object, &env)
            } else {
              backfillInFlight[object] = targets
            }
          }
        } else {
          members[osd]!.missing.remove(object)
          // It holds the object now: a source for it, whatever it lacked at peering, and a
          // copy of the writes to it it had no room for.
          reports[osd]?.missing.remove(object)
          for (version, write) in inFlight
          where write.entry.object == object && write.refusedBy.contains(osd) {
            inFlight[version]!.refusedBy.remove(osd)
            completeWrite(version, &env)
          }
          if case .pushing(var targets) = recovering[object] {
            targets.remove(osd)
            if targets.isEmpty {
              recovering[object] = nil
              priority.remove(object)
              finishedRecovery(&env)
            } else {
              recovering[object] = .pushing(targets)
            }
          }
        }
      case .backfillProgress(let bound):
        members[osd]!.backfillAcked = bound
      case .clean(let epoch):
        members[osd]!.cleanAcked = max(members[osd]!.cleanAcked, epoch)
      }
    }
    if phase == .activating {
      checkActivated(&env)
    } else {
      recover(&env)
    }
  }

  /// What became of the data an ordered message carried to a member, by the member's answer
  /// to that very message (nil when its answer is not at hand).
  enum DataOutcome { case none, kept, refused, unknown }

  static func dataOutcome(_ body: PGMessage.OrderedBody, _ answer: PGMessage.Applied?)
    -> DataOutcome
  {
    switch body {
    case .repOp(let entry, let mutation, _):
      guard let mutation, !mutation.deletes else { return .none }
      guard case .repOp(entry.version, let result)? = answer else { return .unknown }
      return result == 0 ? .kept : .refused
    case .push(let object, _, false):
      if answer == .pushed(object) { return .kept }
      return answer == .pushRefused(object) ? .refused : .unknown
    default:
      return .none
    }
  }

  // MARK: backfill

  mutating func backfillStep(_ env: inout PeeringEnvironment) {
    let targets = members.filter { $0.value.isBackfillTarget }.keys.sorted()
    guard !targets.isEmpty, !env.noBackfill else { return }
    // A target the monitors marked backfillfull takes no more: wait (backfill_toofull) with
    // every slot given back, and go on once it has room again.
    if targets.contains(where: { env.isBackfillFull($0) }) {
      if backfill != .tooFull {
        releaseBackfillSlots(&env)
        backfill = .tooFull
      }
      return
    }
    if backfill == .tooFull { backfill = .idle }
    switch backfill {
    case .idle, .waitLocal, .tooFull:
      guard env.now >= backfillRetryAt else { return }
      guard env.takeLocalBackfillSlot(pgid) else {
        backfill = .waitLocal
        return
      }
      backfill = .waitRemote(askedAt: env.now)
      for osd in targets { env.send(osd, pgid, interval: interval, .reserve) }
    case .waitRemote(let askedAt):
      if targets.allSatisfy({ members[$0]!.reserved }) {
        backfill = .running
        backfillStep(&env)
      } else if env.now >= askedAt + env.config.retryInterval {
        backfill = .waitRemote(askedAt: env.now)
        for osd in targets where !members[osd]!.reserved {
          env.send(osd, pgid, interval: interval, .reserve)
        }
      }
    case .running:
      while mayStartRecovery(env, urgent: false) {
        if backfillQueue.isEmpty && !backfillListedAll {
          let limit = max(1, env.config.backfillScanMax)
          // The store lists what is durable; objects with a change still in flight count too.
          var listed = Set(env.store.list(pgid, after: backfillCursor, limit: limit))
          for object in uncommitted.keys where backfillCursor.map({ object > $0 }) ?? true {
            listed.insert(object)
          }
          let batch = Array(listed.sorted().prefix(limit))
          if batch.isEmpty {
            // Nothing after the cursor: whatever is written from now on is new to the
            // targets and travels with its data.
            backfillListedAll = true
            for osd in targets { members[osd]!.backfillSent = .complete }
          } else {
            backfillQueue = batch
            backfillCursor = batch.last
          }
        }
        guard let object = backfillQueue.first else { break }
        // The copy sent must include every change made to the object so far.
        guard uncommitted[object] == nil else { break }
        let read = env.store.read(pgid, object)
        if read == .unreadable {
          markUnreadable(object, &env)
          break  // the backfill goes on once this copy is repaired
        }
        backfillQueue.removeFirst()
        let snapshot = read.snapshot
        for osd in targets {
          sendOrdered(osd, .push(object, snapshot, backfill: true), &env)
          members[osd]!.backfillSent = .upTo(object)
        }
        backfillInFlight[object] = Set(targets)
        recoveredObjects += targets.count
        recoveredBytes += (snapshot?.body.readableBytes ?? 0) * targets.count
        startedRecovery(&env)
      }
      if backfillListedAll && backfillQueue.isEmpty && backfillInFlight.isEmpty {
        for osd in targets {
          sendOrdered(osd, .backfillProgress(.complete), &env)
          members[osd]!.backfillSent = .complete
        }
        backfill = .finishing
      }
    case .finishing:
      guard targets.allSatisfy({ members[$0]!.backfillAcked == .complete }) else { return }
      backfill = .done
      releaseBackfillSlots(&env)
      // Every target is complete: serve from the up set again.
      askActingSet([], &env)
    case .done:
      if let asked = pgTempAsked, env.now >= asked.at + env.config.retryInterval {
        askActingSet(asked.osds, &env)
      }
    }
  }

  mutating func askActingSet(_ osds: [Int32], _ env: inout PeeringEnvironment) {
    pgTempAsked = (osds, env.now)
    env.outputs.append(.requestPGTemp(pgid, osds))
  }

  // MARK: time

  mutating func tick(_ env: inout PeeringEnvironment) {
    let retry = env.config.retryInterval
    switch phase {
    case .getInfo where env.now >= lastQuery + retry:
      lastQuery = env.now
      for osd in queried.subtracting(reports.keys).sorted() {
        env.send(osd, pgid, interval: interval, .query)
      }
    case .waitActingChange:
      if let asked = pgTempAsked, env.now >= asked.at + retry {
        askActingSet(asked.osds, &env)
      }
    case .waitUpThru:
      askUpThru(&env)
    case .stray where exists && primary >= 0 && env.now >= lastQuery + 10 * retry:
      // A copy not yet purged reminds the primary now and then (a notify may have been lost).
      lastQuery = env.now
      answerQuery(from: primary, interval: interval, &env)
    default:
      break
    }
    // Unacknowledged ordered messages go again, in order.
    for osd in members.keys.sorted() {
      guard let first = members[osd]!.unacked.first, env.now >= first.sentAt + retry else {
        continue
      }
      for index in members[osd]!.unacked.indices {
        let item = members[osd]!.unacked[index]
        env.send(osd, pgid, interval: interval, .ordered(seq: item.seq, item.body))
        members[osd]!.unacked[index].sentAt = env.now
      }
    }
    expireShortWrites(&env)
    // Pulls that got no answer go again (to another copy if there is one).
    for (object, op) in recovering.sorted(by: { $0.key < $1.key }) {
      guard case .pulling(let source, let sentAt) = op, env.now >= sentAt + retry else { continue }
      if env.isUp(source) {
        env.send(source, pgid, interval: interval, .pull(object))
        recovering[object] = .pulling(source: source, sentAt: env.now)
      } else {
        recovering[object] = nil
        finishedRecovery(&env)
      }
    }
    // Ops that waited too long are dropped (the client has timed out and will resend).
    let expiry = env.config.opQueueTimeout
    if !waitingForActive.isEmpty {
      let expired = waitingForActive.filter { env.now >= $0.arrived + expiry }
      waitingForActive.removeAll { env.now >= $0.arrived + expiry }
      for op in expired { env.outputs.append(.discard(token: op.token)) }
    }
    for (object, ops) in waitingForObject {
      let expired = ops.filter { env.now >= $0.arrived + expiry }
      guard !expired.isEmpty else { continue }
      let kept = ops.filter { env.now < $0.arrived + expiry }
      waitingForObject[object] = kept.isEmpty ? nil : kept
      for op in expired { env.outputs.append(.discard(token: op.token)) }
    }
    if phase == .active {
      if !unfound.isEmpty { lacking.removeAll() }  // copies may have come back
      recover(&env)
    }
  }
}

/// A peer found not to hold an object it was expected to hold.
struct Lacking: Hashable, Sendable {
  var osd: Int32
  var object: ObjectID
}
