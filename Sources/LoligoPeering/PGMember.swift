import LoligoPlacement

/// The member's side (acting replica, backfill target, stray): answering queries, applying
/// the primary's ordered messages, purges; and routing of messages and commits.
extension PGState {
  /// Answers with what is durable here (a query waits for this PG's transactions in flight).
  mutating func answerQuery(from osd: Int32, interval: UInt32, _ env: inout PeeringEnvironment) {
    if pendingCommits > 0 {
      deferredQueries.append((osd, interval))
      return
    }
    let notify =
      exists
      ? PGNotify(info: info, log: Array(log.entries), missing: missing)
      : PGNotify(info: nil, log: [], missing: MissingSet())
    env.send(osd, pgid, interval: interval, .notify(notify))
  }

  mutating func receive(from osd: Int32, _ message: PGMessage, _ env: inout PeeringEnvironment) {
    guard message.interval == interval else { return }  // another interval's: stale
    switch message.body {
    case .notify(let notify):
      guard let history = env.history(pgid) else { return }
      receiveNotify(from: osd, notify, history: history, &env)
    case .ordered(let seq, let body):
      receiveOrdered(from: osd, seq: seq, body, &env)
    case .applied(let seq, let applied):
      receiveApplied(from: osd, seq: seq, applied, &env)
    case .pulled(let object, let read):
      receivePulled(from: osd, object, read, &env)
    case .reserveGranted:
      guard members[osd] != nil else { return }
      members[osd]!.reserved = true
      recover(&env)
    case .reserveRejected:
      // Holding some slots while waiting for others can deadlock with another PG doing the
      // same (Ceph's rule): give every one back and try again later.
      guard members[osd] != nil, backfill != .running, backfill != .finishing,
        backfill != .done
      else { return }
      releaseBackfillSlots(&env)
      backfill = .idle
      backfillRetryAt = env.now + env.config.retryInterval
    case .purge:
      guard phase == .stray, osd == primary, exists else { return }
      leaveInterval(&env)
      var t = PGTransaction()
      t.append(.remove(pgid))
      submit(t, .removed, &env)
      // The store applies transactions in order, so from here on this OSD holds no copy:
      // should it join the PG again before the removal is durable, it starts empty (its
      // first write recreates the collection after the removal).
      info = PGInfo(pgid: pgid)
      log = PGLog()
      missing = MissingSet()
      uncommitted.removeAll()
      exists = false
    case .query, .pull, .reserve, .reserveRelease:
      break  // handled by the core
    }
  }

  // MARK: the ordered channel, member side

  mutating func receiveOrdered(
    from osd: Int32, seq: UInt64, _ body: PGMessage.OrderedBody, _ env: inout PeeringEnvironment
  ) {
    guard osd == primary, phase == .replicaWaiting || phase == .replicaActive else { return }
    if seq < channel.expected {
      // Seen before: acknowledge again once durable (the ack may have been lost).
      if seq <= channel.committed {
        env.send(osd, pgid, interval: interval, .applied(seq: channel.committed, .activated))
      }
      return
    }
    if seq > channel.expected {
      if channel.held.count < 65_536 { channel.held[seq] = body }
      return
    }
    apply(seq: seq, body, &env)
    channel.expected += 1
    while let next = channel.held.removeValue(forKey: channel.expected) {
      apply(seq: channel.expected, next, &env)
      channel.expected += 1
    }
  }

  mutating func apply(seq: UInt64, _ body: PGMessage.OrderedBody, _ env: inout PeeringEnvironment) {
    var t = PGTransaction()
    let applied: PGMessage.Applied
    switch body {
    case .activate(let activation):
      guard phase == .replicaWaiting || phase == .replicaActive else { return }
      if !activation.info.lastBackfill.isComplete {
        t.append(.removeAllObjects(pgid))
        uncommitted.removeAll()
      }
      let keep = Set(activation.log.map(\.version))
      let removed = log.entries.filter { !keep.contains($0.version) }.map(\.version)
      let added = activation.log.filter { !log.contains($0.version) }
      if !removed.isEmpty { t.append(.removeLog(pgid, removed)) }
      if !added.isEmpty { t.append(.appendLog(pgid, added)) }
      log = PGLog(tail: activation.info.logTail, entries: activation.log)
      for object in missing.needs.keys where activation.missing.need(object) == nil {
        t.append(.clearMissing(pgid, object))
      }
      for (object, need) in activation.missing.needs where missing.need(object) != need {
        t.append(.setMissing(pgid, object, need))
      }
      missing = activation.missing
      let clean = max(info.lastEpochClean, activation.info.lastEpochClean)
      info = activation.info
      info.lastEpochClean = clean
      t.append(.putInfo(info))
      phase = .replicaActive
      applied = .activated
    case .repOp(let entry, let mutation, let trimTo):
      guard phase == .replicaActive, entry.version > log.head else {
        applied = .repOp(entry.version, result: 0)
        break
      }
      log.append(entry)
      info.lastUpdate = entry.version
      var result: Int32 = 0
      if let mutation {
        // (A backfill target takes everything: backfill stops well before a disk is full.)
        if !mutation.deletes, info.lastBackfill.isComplete,
          missing.contains(entry.object)
            || !env.store.hasRoom(for: mutation.data.readableBytes, .replicated)
        {
          // No room for the data (or no copy here to change): the entry is logged and the
          // object recorded missing at its version, recovered once there is room, instead of
          // a store failure or a copy silently behind; the primary hears it from the result.
          missing.add(entry.object, need: entry.version)
          t.append(.setMissing(pgid, entry.object, entry.version))
          result = -28  // ENOSPC
        } else {
          t.append(.mutate(pgid, entry.object, mutation, entry.version))
          noteSubmitted(entry.object, version: mutation.deletes ? nil : entry.version)
          if mutation.deletes, missing.contains(entry.object) {
            missing.remove(entry.object)  // absent is what this copy must now be
            t.append(.clearMissing(pgid, entry.object))
          }
        }
      }
      if missing.isEmpty { info.lastComplete = entry.version }
      t.append(.appendLog(pgid, [entry]))
      let trimmed = log.trim(to: min(trimTo, log.head))
      if !trimmed.isEmpty {
        t.append(.removeLog(pgid, trimmed.map(\.version)))
        info.logTail = log.tail
        t.append(.putInfo(info))
      }
      applied = .repOp(entry.version, result: result)
    case .push(let object, let snapshot, let backfill):
      if !backfill, let snapshot,
        !env.store.hasRoom(for: snapshot.body.readableBytes, .replicated)
      {
        // No room: nothing installed, the object stays missing here. (Backfill stops at
        // backfillfull, well before this.)
        applied = .pushRefused(object)
        break
      }
      if let snapshot {
        t.append(.install(pgid, object, snapshot))
      } else {
        t.append(.removeObject(pgid, object))
      }
      noteSubmitted(object, version: snapshot?.version)
      if missing.contains(object) {
        missing.remove(object)
        t.append(.clearMissing(pgid, object))
        if missing.isEmpty { info.lastComplete = info.lastUpdate }
      }
      if backfill {
        info.lastBackfill = .upTo(object)
      }
      t.append(.putInfo(info))
      applied = .pushed(object)
    case .backfillProgress(let bound):
      info.lastBackfill = bound
      t.append(.putInfo(info))
      applied = .backfillProgress(bound)
      if bound.isComplete, env.remoteBackfillGranted[pgid] == primary {
        env.remoteBackfillGranted[pgid] = nil  // done: the slot is free even if the release is lost
      }
    case .clean(let epoch):
      info.lastEpochClean = max(info.lastEpochClean, epoch)
      t.append(.putInfo(info))
      applied = .clean(epoch)
    }
    // What the commit makes durable (nothing when the data was refused).
    var object: ObjectID?
    switch body {
    case .repOp(let entry, let mutation, _) where mutation != nil && !applied.refusesData:
      object = entry.object
    case .push(let pushed, _, _) where !applied.refusesData: object = pushed
    default: object = nil
    }
    submit(
      t, .applied(seq: seq, applied, primary: primary, interval: interval, object: object), &env)
  }

  // MARK: commits

  mutating func committed(_ action: CommitAction, _ env: inout PeeringEnvironment) {
    pendingCommits -= 1
    switch action {
    case .none, .removed:
      break
    case .write(let version):
      if let write = inFlight[version] {
        noteDurable(write.entry.object)
        inFlight[version]!.localDone = true
        completeWrite(version, &env)
        wake(write.entry.object, &env)
      } else if let entry = log.entry(version) {
        noteDurable(entry.object)
        wake(entry.object, &env)
      }
    case .applied(let seq, let applied, let to, let ofInterval, let object):
      if let object { noteDurable(object) }
      if ofInterval == interval, to == primary {
        channel.committed = max(channel.committed, seq)
        env.send(to, pgid, interval: ofInterval, .applied(seq: seq, applied))
      }
    case .activation(let ofInterval):
      if ofInterval == interval {
        activationDurable = true
        checkActivated(&env)
      }
    case .recovered(let object):
      noteDurable(object)
      wake(object, &env)
      recover(&env)
    }
    if pendingCommits == 0 {
      let queries = deferredQueries
      deferredQueries.removeAll()
      for (osd, ofInterval) in queries { answerQuery(from: osd, interval: ofInterval, &env) }
      if phase == .flushing, let history = env.history(pgid) {
        beginGetInfo(history, &env)
      }
    }
  }
}
