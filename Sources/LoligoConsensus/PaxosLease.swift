/// Leases: the leader grants peons the right to serve reads of the committed state for
/// `mon_lease`, renews after `mon_lease_renew_interval_factor` of it, and calls an election if
/// acks are missing after `mon_lease_ack_timeout_factor` leases; a peon that hears nothing
/// from the leader for that long calls one too.
///
/// Grants carry a duration measured from receipt, because monitors share no clock. A peon's
/// lease therefore ends later than the leader thinks by the message delay; the new quorum
/// that could commit without it needs at least an ack timeout (two leases) to form, which
/// covers delays up to a lease.
extension Paxos {
  mutating func extendLease(now: UInt64, _ fx: inout MonEffects) {
    precondition(isLeader)
    leaseExpiry = now + config.monLease
    guard !isAlone else { return }
    for peer in quorum where peer != rank {
      fx.send(
        peer,
        .paxosLease(
          PaxosLease(
            epoch: epoch, firstCommitted: firstCommitted, lastCommitted: lastCommitted,
            duration: config.monLease)))
    }
    startLeaseRound(now: now)
  }

  /// Leader: a lease went out; expect acks and schedule the renewal. An ack deadline still
  /// running is kept, as in Ceph, so a silent peon is noticed even across renewals.
  mutating func startLeaseRound(now: UInt64) {
    leaseExpiry = now + config.monLease
    ackedLease = RankSet([rank])
    if leaseAckDeadline == nil {
      leaseAckDeadline = now + config.leaseAckTimeout
    }
    leaseRenewAt = now + config.leaseRenewInterval
  }

  /// Peon.
  mutating func handleLease(_ m: PaxosLease, now: UInt64, _ fx: inout MonEffects) {
    // A lease for another version means we missed a commit: let the lease timeout bring us
    // back through an election rather than serve stale reads.
    guard m.lastCommitted == lastCommitted else { return }
    grantLease(duration: m.duration, now: now, &fx)
  }

  mutating func grantLease(duration: UInt64, now: UInt64, _ fx: inout MonEffects) {
    // A lease sent before the leader's next begin but arriving after we accepted that begin
    // is stale: the new value may commit any moment, so reads wait for its commit.
    if let current = pending, current.version == lastCommitted + 1, current.pn == acceptedPN {
      return
    }
    leaseExpiry = max(leaseExpiry ?? 0, now + duration)
    state = .active
    leaseTimeoutAt = now + config.leaseAckTimeout
    fx.send(
      leader,
      .paxosLeaseAck(
        PaxosLeaseAck(epoch: epoch, firstCommitted: firstCommitted, lastCommitted: lastCommitted)))
  }

  /// Leader.
  mutating func handleLeaseAck(from: Int, _ m: PaxosLeaseAck) {
    guard leaseAckDeadline != nil else { return }  // stray: no lease round open
    ackedLease.insert(from)
    if ackedLease == quorum {
      leaseAckDeadline = nil
    }
  }
}
