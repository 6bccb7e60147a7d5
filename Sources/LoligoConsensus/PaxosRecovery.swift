import NIOCore

/// Recovery (Paxos phase 1) after every election: the leader collects, under a new proposal
/// number, each quorum member's committed range and accepted-but-uncommitted value; committed
/// values flow to whoever lacks them; the uncommitted value with the highest pn is proposed
/// again before anything new.
extension Paxos {
  mutating func leaderInit(epoch: UInt64, quorum: RankSet, now: UInt64, _ fx: inout MonEffects)
    -> Signal?
  {
    restart()
    isLeader = true
    leader = rank
    self.epoch = epoch
    self.quorum = quorum
    return collect(above: 0, now: now, &fx)
  }

  mutating func peonInit(
    epoch: UInt64, leader: Int, quorum: RankSet, now: UInt64, _ fx: inout MonEffects
  ) {
    restart()
    self.epoch = epoch
    self.leader = leader
    self.quorum = quorum
    // In case the leader never gets as far as a lease.
    leaseTimeoutAt = now + config.leaseAckTimeout
  }

  mutating func collect(above oldPN: UInt64, now: UInt64, _ fx: inout MonEffects) -> Signal? {
    state = .recovering
    lastFrom = RankSet([rank])
    peerLastCommitted = [:]
    // Our own accepted-but-uncommitted value competes like anyone's, under the pn it was
    // accepted with (pending_pn), not our current promise.
    uncommitted = pending
    let pn = newProposalNumber(above: max(acceptedPN, oldPN), &fx)
    // The leader is an acceptor too: persist the promise so a restart cannot accept lower.
    acceptedPN = pn
    fx.put(MonStoreKeys.paxos, MonStoreKeys.acceptedPN, pn)
    for peer in quorum where peer != rank {
      fx.send(
        peer,
        .paxosCollect(
          PaxosCollect(
            epoch: epoch, pn: pn, firstCommitted: firstCommitted, lastCommitted: lastCommitted)))
    }
    collectDeadline = now + config.acceptTimeout
    retransmitAt = now + config.monPaxosRetransmitInterval
    if lastFrom == quorum {
      return finishCollect(now: now, &fx)
    }
    return nil
  }

  /// Peon: answer a collect with what we have promised, committed and accepted.
  mutating func handleCollect(_ m: PaxosCollect, now: UInt64, _ fx: inout MonEffects) -> Signal? {
    state = .recovering
    leaseExpiry = nil
    leaseTimeoutAt = now + config.leaseAckTimeout
    if m.firstCommitted > lastCommitted + 1 {
      return .bootstrap  // the leader trimmed what we lack: we need a sync
    }
    if m.pn > acceptedPN {
      acceptedPN = m.pn
      fx.put(MonStoreKeys.paxos, MonStoreKeys.acceptedPN, m.pn)
    }
    var last = PaxosLast(
      epoch: epoch, pn: acceptedPN, firstCommitted: firstCommitted, lastCommitted: lastCommitted)
    if m.lastCommitted < lastCommitted {
      last.values = shareValues(after: m.lastCommitted, through: lastCommitted, fx)
    }
    // Only a value the leader has not decided yet is worth sharing: ours sits at our
    // last_committed + 1, which the leader has decided if it is ahead of us.
    if m.lastCommitted <= lastCommitted, let current = pending,
      current.version == lastCommitted + 1
    {
      last.uncommittedPN = current.pn
      last.uncommittedValue = current.value
    }
    fx.send(leader, .paxosLast(last))
    return nil
  }

  /// Leader: one peon's answer.
  mutating func handleLast(from: Int, _ m: PaxosLast, now: UInt64, _ fx: inout MonEffects)
    -> Signal?
  {
    guard state == .recovering, collectDeadline != nil else { return nil }
    if m.firstCommitted > lastCommitted + 1 {
      return .bootstrap  // that peon trimmed versions we lack: we must sync first
    }
    // (Compared without `+ 1`: a peer's lastCommitted of 2^64 - 1 must not trap.)
    if firstCommitted > 1 && m.lastCommitted < firstCommitted - 1 {
      return .bootstrap  // we trimmed versions that peon lacks: it must sync first
    }
    storeShared(m.values, upTo: m.lastCommitted, &fx)
    if m.pn > acceptedPN {
      // It promised a higher pn to someone else: go again above it.
      return collect(above: m.pn, now: now, &fx)
    }
    guard m.pn == acceptedPN else { return nil }  // an answer to an older collect
    if lastCommitted < m.lastCommitted {
      // Its share was cut at the payload limit: collect again for the rest, so we never
      // begin a version that peon has already committed.
      return collect(above: acceptedPN, now: now, &fx)
    }
    peerLastCommitted[from] = m.lastCommitted
    lastFrom.insert(from)
    // An uncommitted value counts only if it is for the version we are about to decide
    // (the peon is level with us), and the highest pn wins: that is the value a majority may
    // have accepted, so it may have been committed and must not be lost.
    if m.uncommittedPN != 0, let value = m.uncommittedValue, m.lastCommitted == lastCommitted {
      if uncommitted == nil || uncommitted!.version != lastCommitted + 1
        || m.uncommittedPN >= uncommitted!.pn
      {
        uncommitted = Pending(version: lastCommitted + 1, pn: m.uncommittedPN, value: value)
      }
    }
    if lastFrom == quorum {
      return finishCollect(now: now, &fx)
    }
    return nil
  }

  private mutating func finishCollect(now: UInt64, _ fx: inout MonEffects) -> Signal? {
    collectDeadline = nil
    retransmitAt = nil
    // Bring every peon up to our last_committed (in payload-sized messages).
    for (peer, peerLast) in peerLastCommitted.sorted(by: { $0.key < $1.key })
    where peerLast < lastCommitted {
      guard sendCommitted(to: peer, after: peerLast, &fx) else { return .bootstrap }
    }
    peerLastCommitted = [:]
    if let candidate = uncommitted, candidate.version == lastCommitted + 1 {
      state = .updatingPrevious
      begin(candidate.value, now: now, &fx)
    } else {
      uncommitted = nil
      state = .active
      extendLease(now: now, &fx)
    }
    return nil
  }
}
