/// Ceph's classic election strategy as a state machine: every monitor proposes itself, defers
/// to any lower rank it hears from, and a proposer acked by a majority wins once everyone has
/// answered or the election times out. Epochs are odd while electing and even once won, and
/// are persisted before any message that depends on them.
///
/// One deliberate difference from Ceph keeps "at most one leader per epoch" a theorem rather
/// than a likelihood: a monitor acks at most one proposer per epoch. Ceph lets a monitor that
/// acked rank 2 switch to rank 1 in the same epoch; if rank 2 does not hear of rank 1 it can
/// still count that ack and both can win. Here the switch moves the monitor to the next
/// election epoch and acks rank 1 there, which makes rank 1 restart at that epoch and gathers
/// everyone within one more round. Restarting an election after a timeout likewise takes a
/// fresh epoch. A proposer dropping its own candidacy to defer is not a second ack: it stops
/// counting itself.
struct Elector {
  enum Event: Equatable {
    /// This monitor takes part in an election now (epoch moved or it started one).
    case joined
    case won(quorum: RankSet)
    case lost(leader: Int, quorum: RankSet)
    /// The election timed out and this monitor never was in a quorum: probe again (Ceph's
    /// reset_election for monitors that have not joined yet).
    case bootstrap
  }

  let rank: Int
  let count: Int
  let timeout: UInt64

  private(set) var epoch: UInt64 = 0
  private(set) var electingMe = false
  private(set) var ackedMe = RankSet()
  /// Whom this monitor acked in `epoch` (itself while it stands).
  private(set) var leaderAcked: Int?
  private(set) var deadline: UInt64?

  init(rank: Int, count: Int, timeout: UInt64) {
    self.rank = rank
    self.count = count
    self.timeout = timeout
  }

  /// Loads the persisted epoch. An odd one means this monitor died mid-election, possibly
  /// after acking someone: moving to the next even epoch makes sure it never acks again in
  /// that epoch.
  mutating func load(_ fx: inout MonEffects) {
    epoch = fx.getUInt64(MonStoreKeys.election, MonStoreKeys.epoch)
    if epoch % 2 == 1 {
      bump(to: epoch + 1, &fx)
    }
  }

  private mutating func bump(to newEpoch: UInt64, _ fx: inout MonEffects) {
    precondition(newEpoch >= epoch)
    epoch = newEpoch
    electingMe = false
    ackedMe = RankSet()
    leaderAcked = nil
    fx.put(MonStoreKeys.election, MonStoreKeys.epoch, newEpoch)
  }

  /// Stops the election timer (the monitor left the election for probing or syncing).
  mutating func cancel() {
    deadline = nil
    electingMe = false
    ackedMe = RankSet()
  }

  /// Proposes this monitor. `fresh` forces a new epoch even mid-election (timeouts).
  mutating func start(now: UInt64, fresh: Bool = false, _ fx: inout MonEffects) -> Event {
    if epoch % 2 == 0 {
      bump(to: epoch + 1, &fx)
    } else if fresh || (leaderAcked != nil && leaderAcked != rank) {
      bump(to: epoch + 2, &fx)
    }
    electingMe = true
    ackedMe = RankSet([rank])
    leaderAcked = rank
    deadline = now + timeout
    for peer in 0..<count where peer != rank {
      fx.send(peer, .electionPropose(ElectionPropose(epoch: epoch)))
    }
    if ackedMe.count == count {
      return declareVictory(&fx)
    }
    return .joined
  }

  /// A size-1 monmap wins without messages (Ceph's standalone victory).
  mutating func standaloneVictory(_ fx: inout MonEffects) -> Event {
    precondition(count == 1)
    if epoch % 2 == 0 { bump(to: epoch + 1, &fx) }
    electingMe = true
    ackedMe = RankSet([rank])
    return declareVictory(&fx)
  }

  private mutating func declareVictory(_ fx: inout MonEffects) -> Event {
    precondition(epoch % 2 == 1)
    let quorum = ackedMe
    bump(to: epoch + 1, &fx)
    deadline = nil
    for peer in quorum where peer != rank {
      fx.send(peer, .electionVictory(ElectionVictory(epoch: epoch, quorum: quorum)))
    }
    return .won(quorum: quorum)
  }

  private mutating func deferTo(_ from: Int, now: UInt64, _ fx: inout MonEffects) {
    electingMe = false
    ackedMe = RankSet()
    leaderAcked = from
    fx.send(from, .electionAck(ElectionAck(epoch: epoch)))
    // As in Ceph, give the proposer a second more than its own timeout to announce victory.
    deadline = now + timeout + MonitorConfig.second
  }

  /// `currentQuorum` is the quorum this monitor belongs to (empty when not leader or peon).
  mutating func receivePropose(
    from: Int, epoch proposed: UInt64, currentQuorum: RankSet, now: UInt64,
    _ fx: inout MonEffects
  ) -> Event? {
    guard proposed % 2 == 1 else { return nil }  // proposals are always in electing epochs
    var event: Event?
    if proposed > epoch {
      bump(to: proposed, &fx)
      event = .joined
    } else if proposed < epoch {
      // An old epoch from a monitor outside our quorum while we are stable: it has just
      // started. Call an election so it can join (Ceph does the same).
      if epoch % 2 == 0 && !currentQuorum.contains(from) {
        return start(now: now, &fx)
      }
      return nil
    }
    if rank < from {
      // We would win over them. If we already back someone (necessarily better than them),
      // stay; otherwise stand ourselves.
      if leaderAcked == nil {
        return start(now: now, &fx)
      }
      return event
    }
    switch leaderAcked {
    case nil, rank:
      deferTo(from, now: now, &fx)
    case from:
      fx.send(from, .electionAck(ElectionAck(epoch: epoch)))  // a repeat: ack again
    case let acked? where acked > from:
      // A better proposer than the one we acked in this epoch: we may not ack twice in one
      // epoch, so back it in the next one.
      bump(to: epoch + 2, &fx)
      deferTo(from, now: now, &fx)
    default:
      break  // we back someone better
    }
    return event ?? .joined
  }

  mutating func receiveAck(from: Int, epoch acked: UInt64, now: UInt64, _ fx: inout MonEffects)
    -> Event?
  {
    guard acked % 2 == 1 else { return nil }
    if acked > epoch {
      // We must have restarted and forgotten this election: start it again in that epoch
      // (which we have not acked in), counting the ack we just got.
      bump(to: acked, &fx)
      let event = start(now: now, &fx)  // stays in `acked`: odd, and we acked nobody there
      guard event == .joined else { return event }
      ackedMe.insert(from)
      if ackedMe.count == count { return declareVictory(&fx) }
      return event
    }
    guard acked == epoch, electingMe else { return nil }
    ackedMe.insert(from)
    if ackedMe.count == count {
      return declareVictory(&fx)
    }
    return nil
  }

  mutating func receiveVictory(
    from: Int, epoch won: UInt64, quorum: RankSet, now: UInt64, _ fx: inout MonEffects
  ) -> Event? {
    guard won % 2 == 0, won > epoch else { return nil }  // old or repeated
    if won == epoch + 1 && leaderAcked == from && quorum.contains(rank) && quorum.contains(from) {
      bump(to: won, &fx)
      deadline = nil
      return .lost(leader: from, quorum: quorum)
    }
    // A victory we did not take part in (we restarted, or acked elsewhere): start over
    // above it.
    bump(to: won, &fx)
    return start(now: now, &fx)
  }

  /// The election timer fired.
  mutating func timeout(now: UInt64, hasEverJoined: Bool, _ fx: inout MonEffects) -> Event? {
    guard let deadline, now >= deadline else { return nil }
    self.deadline = nil
    if electingMe && ackedMe.count >= count / 2 + 1 {
      return declareVictory(&fx)
    }
    guard hasEverJoined else {
      return .bootstrap
    }
    return start(now: now, fresh: true, &fx)
  }
}
