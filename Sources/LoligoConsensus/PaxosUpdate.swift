import LoligoTrace
import NIOCore

/// Paxos phase 2: begin / accept / commit, one value in flight at a time.
///
/// As in Ceph, the leader commits only when the whole quorum has accepted (not a bare
/// majority): a peon that accepted has given up its lease, so no peon can serve a read of the
/// state the commit replaces.
///
/// Pipelining within that rule: a begin for `v + 1` tells peons that `v` is committed (the
/// leader begins one value per version under a pn, and only after committing the previous
/// one), so when the leader has the next batch ready it sends the begin alone and the peon
/// commits its accepted `v` and accepts `v + 1` in one store transaction. A separate commit
/// (carrying a lease) goes out only when nothing follows.
extension Paxos {
  var canBegin: Bool { isLeader && state == .active && newValue == nil }

  /// Leader: propose `value` as version `lastCommitted + 1`.
  mutating func begin(_ value: ByteBuffer, now: UInt64, _ fx: inout MonEffects) {
    precondition(isLeader && newValue == nil)
    let version = lastCommitted + 1
    MonTrace.paxosBegin(rank: rank, version: version, pn: acceptedPN, bytes: value.readableBytes)
    if state == .active { state = .updating }
    accepted = RankSet([rank])
    newValue = value
    fx.put(MonStoreKeys.paxos, MonStoreKeys.version(version), value)
    fx.put(MonStoreKeys.paxos, MonStoreKeys.pendingVersion, version)
    fx.put(MonStoreKeys.paxos, MonStoreKeys.pendingPN, acceptedPN)
    pending = Pending(version: version, pn: acceptedPN, value: value)
    // The lease timers belong to the idle state; the accept timeout governs now.
    leaseRenewAt = nil
    leaseAckDeadline = nil
    commitNoticePending = false  // the begin carries it
    if isAlone {
      commitAsLeader(now: now, &fx)
      return
    }
    for peer in quorum where peer != rank {
      fx.send(
        peer,
        .paxosBegin(
          PaxosBegin(epoch: epoch, pn: acceptedPN, lastCommitted: lastCommitted, value: value)))
    }
    acceptDeadline = now + config.acceptTimeout
    retransmitAt = now + config.monPaxosRetransmitInterval
  }

  /// Peon: accept the value unless we promised a higher pn.
  mutating func handleBegin(_ m: PaxosBegin, now: UInt64, _ fx: inout MonEffects) {
    guard m.pn == acceptedPN else { return }  // lower: stale; higher: never promised
    leaseTimeoutAt = now + config.leaseAckTimeout
    commitPendingIfAnnounced(lastCommitted: m.lastCommitted, pn: m.pn, &fx)
    if m.lastCommitted > lastCommitted {
      // We missed commits and cannot accept yet: say where we are (an accept for our own
      // base version, which the leader reads as "send me the commits").
      fx.send(
        leader, .paxosAccept(PaxosAccept(epoch: epoch, pn: m.pn, lastCommitted: lastCommitted)))
      return
    }
    guard m.lastCommitted == lastCommitted else { return }  // a repeat from an earlier round
    let version = lastCommitted + 1
    if pending?.version != version || pending?.pn != m.pn {
      fx.put(MonStoreKeys.paxos, MonStoreKeys.version(version), m.value)
      fx.put(MonStoreKeys.paxos, MonStoreKeys.pendingVersion, version)
      fx.put(MonStoreKeys.paxos, MonStoreKeys.pendingPN, m.pn)
      pending = Pending(version: version, pn: m.pn, value: m.value)
    }
    state = .updating
    leaseExpiry = nil  // the leader may commit as soon as we accept: stop serving reads
    fx.send(
      leader, .paxosAccept(PaxosAccept(epoch: epoch, pn: m.pn, lastCommitted: lastCommitted)))
  }

  /// Leader: one peon accepted.
  mutating func handleAccept(from: Int, _ m: PaxosAccept, now: UInt64, _ fx: inout MonEffects) {
    guard m.pn == acceptedPN, state == .updating || state == .updatingPrevious,
      let value = newValue
    else { return }  // another pn, or nothing in flight
    if m.lastCommitted < lastCommitted {
      // A peon behind us (or a late accept from an earlier round): bring it up to date and
      // offer the value again.
      guard !accepted.contains(from), sendCommitted(to: from, after: m.lastCommitted, &fx) else {
        return
      }
      fx.send(
        from,
        .paxosBegin(
          PaxosBegin(epoch: epoch, pn: acceptedPN, lastCommitted: lastCommitted, value: value)))
      return
    }
    guard m.lastCommitted == lastCommitted else { return }
    accepted.insert(from)
    MonTrace.paxosAccept(rank: rank, from: from, version: lastCommitted + 1)
    if accepted == quorum {
      commitAsLeader(now: now, &fx)
    }
  }

  private mutating func commitAsLeader(now: UInt64, _ fx: inout MonEffects) {
    guard let value = newValue else { return }
    newValue = nil
    acceptDeadline = nil
    retransmitAt = nil
    commitLocally(lastCommitted + 1, value, stored: true, &fx)
    state = .active
    leaseExpiry = now + config.monLease
    if !isAlone {
      commitNoticePending = true
    }
  }

  /// End of a step: tell the peons about a commit no begin carried, with a lease.
  mutating func flushCommitNotice(now: UInt64, _ fx: inout MonEffects) {
    guard commitNoticePending, isLeader else { return }
    commitNoticePending = false
    for peer in quorum where peer != rank {
      fx.send(
        peer,
        .paxosCommit(
          PaxosCommit(
            epoch: epoch, pn: acceptedPN, lastCommitted: lastCommitted,
            leaseDuration: config.monLease)))
    }
    startLeaseRound(now: now)
  }

  /// Peon: committed values and/or "commit what you accepted", maybe with a lease.
  mutating func handleCommit(_ m: PaxosCommit, now: UInt64, _ fx: inout MonEffects) {
    leaseTimeoutAt = now + config.leaseAckTimeout
    storeShared(m.values, upTo: m.lastCommitted, &fx)
    commitPendingIfAnnounced(lastCommitted: m.lastCommitted, pn: m.pn, &fx)
    if m.leaseDuration > 0 && m.lastCommitted == lastCommitted {
      grantLease(duration: m.leaseDuration, now: now, &fx)
    }
  }

  /// If the leader says `lastCommitted` is committed and we accepted exactly that version
  /// under the same pn, our accepted value is the committed one.
  private mutating func commitPendingIfAnnounced(
    lastCommitted announced: UInt64, pn: UInt64, _ fx: inout MonEffects
  ) {
    guard announced == lastCommitted + 1, let current = pending, current.version == announced,
      current.pn == pn
    else { return }
    commitLocally(announced, current.value, stored: true, &fx)
  }
}
