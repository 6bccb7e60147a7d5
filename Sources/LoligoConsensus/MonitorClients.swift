import NIOCore

/// Client proposals: accepted at any monitor, forwarded by peons to the leader, queued and
/// batched by the leader into the next value, answered by the monitor the client used once it
/// applies the committed value (or refused with a definite or unknown outcome).
extension MonitorCore {
  /// Proposals remembered by the leader to drop repeated forwards (the messenger may deliver
  /// a message twice after a reconnect).
  static let recentlyProposedLimit = 8192

  mutating func handleClient(_ request: ClientRequest, _ fx: inout MonEffects) {
    let key = RequestKey(clientId: request.clientId, tid: request.tid)
    func refuse(_ error: ClientError, _ fx: inout MonEffects) {
      fx.emit(
        .reply(ClientReply(clientId: request.clientId, tid: request.tid, result: .failed(error))))
    }
    guard request.payload.readableBytes <= config.monMaxProposalSize else {
      return refuse(.tooLarge, &fx)
    }
    guard role == .leader || role == .peon else { return refuse(.notInQuorum, &fx) }
    guard outstanding[key] == nil else { return }  // a repeat of a request still in progress
    guard outstanding.count < config.monMaxOutstandingRequests else { return refuse(.busy, &fx) }
    if role == .leader {
      let proposal = MonProposal(
        origin: rank, clientId: request.clientId, tid: request.tid, payload: request.payload)
      guard enqueue(proposal) else { return refuse(.busy, &fx) }
    } else {
      fx.send(
        paxos.leader,
        .clientForward(
          ClientForward(
            epoch: elector.epoch, clientId: request.clientId, tid: request.tid,
            payload: request.payload)))
    }
    let expiry = now + config.monClientRequestTimeout
    outstanding[key] = expiry
    outstandingExpiry.append((key, expiry))
  }

  mutating func handleForward(from: Int, _ m: ClientForward, _ fx: inout MonEffects) {
    guard role == .leader, m.epoch == elector.epoch, paxos.quorum.contains(from) else {
      // Not (or no longer) the leader it was meant for: the origin refuses its client.
      fx.send(
        from,
        .clientForwardReply(
          ClientForwardReply(clientId: m.clientId, tid: m.tid, error: .notInQuorum)))
      return
    }
    let key = ProposalKey(origin: from, clientId: m.clientId, tid: m.tid)
    guard !queuedKeys.contains(key), !recentlyProposed.contains(key) else { return }
    guard m.payload.readableBytes <= config.monMaxProposalSize,
      enqueue(MonProposal(origin: from, clientId: m.clientId, tid: m.tid, payload: m.payload))
    else {
      fx.send(
        from,
        .clientForwardReply(ClientForwardReply(clientId: m.clientId, tid: m.tid, error: .busy)))
      return
    }
  }

  mutating func handleForwardReply(from: Int, _ m: ClientForwardReply, _ fx: inout MonEffects) {
    let key = RequestKey(clientId: m.clientId, tid: m.tid)
    guard outstanding.removeValue(forKey: key) != nil else { return }
    fx.emit(.reply(ClientReply(clientId: m.clientId, tid: m.tid, result: .failed(m.error))))
  }

  /// Queues a proposal at the leader within the queue bounds.
  private mutating func enqueue(_ proposal: MonProposal) -> Bool {
    let pendingCount = queue.count - queueHead
    guard pendingCount < config.monMaxPendingProposals,
      queuedBytes + proposal.payload.readableBytes <= config.monMaxPendingBytes
    else { return false }
    if pendingCount == 0 && proposeAt == nil {
      proposeAt = now + config.paxosProposeInterval
    }
    queue.append(proposal)
    queuedBytes += proposal.payload.readableBytes
    queuedKeys.insert(
      ProposalKey(origin: proposal.origin, clientId: proposal.clientId, tid: proposal.tid))
    return true
  }

  /// Leader: propose everything queued (up to the value bounds) once paxos is idle and the
  /// batching window, if any, has passed.
  mutating func maybePropose(_ fx: inout MonEffects) {
    guard role == .leader, paxos.canBegin, queueHead < queue.count else { return }
    if let at = proposeAt, now < at { return }
    var batch: [MonProposal] = []
    var bytes = 0
    while queueHead < queue.count && batch.count < config.paxosMaxBatchProposals {
      let next = queue[queueHead]
      if !batch.isEmpty && bytes + next.payload.readableBytes > config.paxosMaxValueSize { break }
      batch.append(next)
      bytes += next.payload.readableBytes
      queueHead += 1
      let key = ProposalKey(origin: next.origin, clientId: next.clientId, tid: next.tid)
      queuedKeys.remove(key)
      rememberProposed(key)
    }
    queuedBytes -= bytes
    compactQueue()
    proposeAt = nil
    paxos.begin(ProposalBatch(proposals: batch).encoded(), now: now, &fx)
  }

  private mutating func rememberProposed(_ key: ProposalKey) {
    recentlyProposed.insert(key)
    recentlyProposedOrder.append(key)
    if recentlyProposedOrder.count > Self.recentlyProposedLimit * 2 {
      let drop = recentlyProposedOrder.count - Self.recentlyProposedLimit
      for old in recentlyProposedOrder[..<drop] { recentlyProposed.remove(old) }
      recentlyProposedOrder.removeFirst(drop)
    }
  }

  private mutating func compactQueue() {
    if queueHead == queue.count {
      queue.removeAll(keepingCapacity: true)
      queueHead = 0
    } else if queueHead > 1024 && queueHead * 2 > queue.count {
      queue.removeFirst(queueHead)
      queueHead = 0
    }
  }

  /// Replies to this monitor's own clients whose proposals just committed.
  mutating func answerCommitted(_ commits: [CommittedValue], _ fx: inout MonEffects) {
    guard !outstanding.isEmpty else { return }
    for commit in commits {
      for proposal in commit.proposals where proposal.origin == rank {
        let key = RequestKey(clientId: proposal.clientId, tid: proposal.tid)
        if outstanding.removeValue(forKey: key) != nil {
          fx.emit(
            .reply(
              ClientReply(
                clientId: proposal.clientId, tid: proposal.tid,
                result: .committed(version: commit.version))))
        }
      }
    }
  }

  /// Leaving a quorum: every waiting client learns its outcome is unknown, and the leader's
  /// queue (which peons will answer for themselves) is dropped.
  mutating func interruptRequests(_ fx: inout MonEffects) {
    for key in outstanding.keys.sorted(by: { ($0.clientId, $0.tid) < ($1.clientId, $1.tid) }) {
      fx.emit(
        .reply(ClientReply(clientId: key.clientId, tid: key.tid, result: .failed(.interrupted))))
    }
    outstanding.removeAll()
    outstandingExpiry.removeAll()
    outstandingExpiryHead = 0
    queue.removeAll()
    queueHead = 0
    queuedBytes = 0
    queuedKeys.removeAll()
    // Repeats are filtered within one term; a client retrying after an interruption must
    // be able to get its request proposed again.
    recentlyProposed.removeAll()
    recentlyProposedOrder.removeAll()
    proposeAt = nil
  }

  mutating func expireRequests(_ fx: inout MonEffects) {
    while outstandingExpiryHead < outstandingExpiry.count,
      outstandingExpiry[outstandingExpiryHead].at <= now
    {
      let entry = outstandingExpiry[outstandingExpiryHead]
      outstandingExpiryHead += 1
      if outstanding[entry.key] == entry.at {
        outstanding[entry.key] = nil
        fx.emit(
          .reply(
            ClientReply(
              clientId: entry.key.clientId, tid: entry.key.tid, result: .failed(.timedOut))))
      }
    }
    if outstandingExpiryHead > 1024 && outstandingExpiryHead * 2 > outstandingExpiry.count {
      outstandingExpiry.removeFirst(outstandingExpiryHead)
      outstandingExpiryHead = 0
    }
  }
}
