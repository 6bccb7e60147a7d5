import LoligoPlacement

/// Client ops on the primary: when they may run, logging and replicating writes, answering.
extension PGState {
  mutating func handleClientOp(_ op: ClientOp, _ env: inout PeeringEnvironment) {
    guard isPrimary else {
      env.outputs.append(.discard(token: op.token))
      return
    }
    // Served only once active with min_size OSDs; until then ops wait (Ceph's
    // waiting_for_peered).
    guard servesIO else {
      waitingForActive.append(op)
      return
    }
    let object = op.object
    switch op.kind {
    case .list:
      // At once, as Ceph's: what this copy has yet to recover is listed from its missing set
      // (`PeeringCore.listing`), so a listing never waits for a recovery (which may be waiting
      // for space a delete of the listed objects would free).
      env.outputs.append(.execute(token: op.token))
    case .read:
      if missing.contains(object) {
        waitingForObject[object, default: []].append(op)
        recoverFirst(object, &env)
        return
      }
      // Earlier writes to the object are durable here first (no read of a half-applied one).
      if uncommitted[object] != nil {
        waitingForObject[object, default: []].append(op)
        return
      }
      env.outputs.append(.execute(token: op.token))
    case .write(let mutation):
      if let version = log.version(of: op.reqid) {
        // A resend of a logged write: answer it once it is (or as it already is) complete.
        if inFlight[version] != nil {
          inFlight[version]!.tokens.append(op.token)
        } else if lacksCopies(object) {
          // Logged is not stored: the copies that applied it may all be gone or damaged (the
          // object unfound), so, as Ceph's do_op, the answer waits until the object is
          // recovered here and pushed to every copy lacking it. Else a write no one
          // acknowledged would be acknowledged with its data on no readable copy.
          waitingForObject[object, default: []].append(op)
          recoverFirst(object, &env)
        } else {
          env.outputs.append(.reply(token: op.token, result: 0))
        }
        return
      }
      // A full OSD takes no new data (Ceph's full flag), nor does this one past its failsafe
      // ratio: refused before anything is logged or stored, so no copy can diverge, and
      // before waiting for a recovery that needs room too. Deletes still run: they free
      // space. (A member that had no room logs the write without its data, and is recovered.)
      if !mutation.deletes, refusesData(mutation.data.readableBytes, env) {
        env.outputs.append(.reply(token: op.token, result: -28))  // ENOSPC
        return
      }
      // A change waits for the copies lacking the object to get it; a delete need not (it
      // leaves every copy without the object, and clears what they lack).
      if !mutation.deletes, lacksCopies(object) {
        waitingForObject[object, default: []].append(op)
        recoverFirst(object, &env)
        return
      }
      if backfillInFlight[object] != nil {
        waitingForObject[object, default: []].append(op)
        return
      }
      if mutation.deletes && !holds(object, env) {
        env.outputs.append(.reply(token: op.token, result: -2))  // ENOENT
        return
      }
      write(op, mutation, &env)
    }
  }

  /// Whether a client write of `bytes` must be refused for lack of space: by the map, or
  /// here. Not for a member that lately had no room: the space may be back already, and the
  /// map says so soon enough if not.
  func refusesData(_ bytes: Int, _ env: PeeringEnvironment) -> Bool {
    acting.contains(where: { env.isFull($0) }) || !env.store.hasRoom(for: bytes, .clientWrite)
  }

  /// Some copy had no room for data lately: its recovery waits (Ceph's recovery_toofull).
  func isTooFull(_ env: PeeringEnvironment) -> Bool {
    env.now < pullTooFullUntil || members.values.contains { env.now < $0.tooFullUntil }
  }

  /// Whether the object exists as the primary sees it (a copy missing here exists when the
  /// log says so).
  func holds(_ object: ObjectID, _ env: PeeringEnvironment) -> Bool {
    if let need = missing.need(object) { return !need.isZero }
    return currentVersion(object, env) != nil
  }

  /// Entries trimmed at once beyond the target (so a trim, and the info it changes, is not a
  /// store write on every op).
  static func trimBatch(_ keep: Int) -> Int { max(8, keep / 8) }

  /// Whether this copy, or a member's (not a backfill target's) not yet pushed, lacks the
  /// object: a write to it, or the answer to a resent one, waits for its recovery.
  func lacksCopies(_ object: ObjectID) -> Bool {
    missing.contains(object)
      || members.contains(where: {
        !$0.value.isBackfillTarget && $0.value.missing.contains(object)
          && !pushSent(object, to: $0.key)
      })
  }

  func pushSent(_ object: ObjectID, to osd: Int32) -> Bool {
    if case .pushing(let targets) = recovering[object] { return targets.contains(osd) }
    return false
  }

  /// Logs and applies a write here and sends it to every member.
  mutating func write(_ op: ClientOp, _ mutation: PGMutation, _ env: inout PeeringEnvironment) {
    let object = op.object
    let version = EVersion(epoch: env.epoch, version: log.head.version + 1)
    let prior = missing.need(object) ?? currentVersion(object, env) ?? .zero
    let entry = PGLogEntry(
      kind: mutation.deletes ? .delete : .modify, object: object, version: version,
      priorVersion: prior < version ? prior : .zero, reqid: op.reqid)
    log.append(entry)
    info.lastUpdate = version
    var t = PGTransaction()
    t.append(.mutate(pgid, object, mutation, version))
    t.append(.appendLog(pgid, [entry]))
    if mutation.deletes, missing.contains(object) {
      // Deleted here while missing: absent is what every copy must now be.
      missing.remove(object)
      priority.remove(object)
      unfound.remove(object)
      unreadableAt[object] = nil
      lacking = lacking.filter { $0.object != object }
      t.append(.clearMissing(pgid, object))
    }
    if missing.isEmpty { info.lastComplete = version }
    // Trimmed in batches, and the info written only then: a write's own log entry is enough
    // to rebuild `lastUpdate` at load (`PGState.init(stored:)`).
    let keep = logTarget(env.config)
    if log.count > keep + Self.trimBatch(keep) {
      let trimmed = log.trim(keeping: keep)
      t.append(.removeLog(pgid, trimmed.map(\.version)))
      info.logTail = log.tail
      t.append(.putInfo(info))
    }
    noteSubmitted(object, version: mutation.deletes ? nil : version)
    submit(t, .write(version), &env)
    for osd in members.keys.sorted() {
      // A member lacking the object drops it from what it lacks once it applies the delete.
      if mutation.deletes { members[osd]!.missing.remove(object) }
      let member = members[osd]!
      let carries = !member.isBackfillTarget || member.backfillSent.covers(object)
      sendOrdered(
        osd, .repOp(entry: entry, mutation: carries ? mutation : nil, trimTo: log.tail), &env)
      // A backfill target gets only the log entry for an object it has not been sent yet;
      // one inside the batch already listed (created since) must join the batch.
      if !carries, let cursor = backfillCursor, object <= cursor, !backfillQueue.contains(object) {
        let at = backfillQueue.firstIndex { $0 > object } ?? backfillQueue.endIndex
        backfillQueue.insert(object, at: at)
      }
    }
    inFlight[version] = InFlightWrite(
      entry: entry, tokens: [op.token], pending: Set(members.keys))
  }

  /// Answers a write once it is durable here and on every member. A member that had no room
  /// for the data logged it and lacks the object until recovered, as if it had failed during
  /// the write: the write is acknowledged once `min_size` acting copies hold it (Ceph's rule
  /// for a PG that lost copies), else it waits a while for the recovery of those members
  /// (`expireShortWrites`).
  mutating func completeWrite(_ version: EVersion, _ env: inout PeeringEnvironment) {
    guard let write = inFlight[version], write.localDone, write.pending.isEmpty else { return }
    let holders = acting.filter { !write.refusedBy.contains($0) }.count
    guard holders >= minSize else {
      if write.shortSince == nil { inFlight[version]!.shortSince = env.now }
      return
    }
    inFlight[version] = nil
    for token in write.tokens { env.outputs.append(.reply(token: token, result: 0)) }
  }

  /// Writes fewer than `min_size` copies still hold a retry interval after every member
  /// answered (the others had no room, and recovery found none either) are not acknowledged:
  /// ENOSPC, rather than a client waiting until space is freed. Logged everywhere, such a
  /// write may still reach every copy once there is room, as one whose answer was lost.
  mutating func expireShortWrites(_ env: inout PeeringEnvironment) {
    for version in inFlight.keys.sorted() {
      guard let since = inFlight[version]!.shortSince,
        env.now >= since + env.config.retryInterval
      else { continue }
      for token in inFlight[version]!.tokens {
        env.outputs.append(.reply(token: token, result: -28))  // ENOSPC
      }
      inFlight[version] = nil
    }
  }

  /// Retries the ops waiting on `object` (it was recovered, pushed or made durable).
  mutating func wake(_ object: ObjectID, _ env: inout PeeringEnvironment) {
    if let ops = waitingForObject.removeValue(forKey: object) {
      for op in ops { handleClientOp(op, &env) }
    }
  }
}
