/// Probing (Ceph's Monitor::handle_probe*): a bootstrapping monitor asks every peer for its
/// quorum and committed range, then syncs if it is too far behind, joins by calling an
/// election if a quorum exists, or calls one once a majority is outside any quorum.
extension MonitorCore {
  mutating func handleProbe(from: Int, _ m: MonProbe, _ fx: inout MonEffects) {
    if (role == .leader || role == .peon) && m.firstCommitted > paxos.lastCommitted + 1 {
      // The prober trimmed past our last commit: we have fallen behind the quorum-to-be and
      // must go back to probing (and so to syncing) rather than keep electing.
      bootstrap(&fx)
    }
    let inQuorum = role == .leader || role == .peon
    fx.send(
      from,
      .probeReply(
        MonProbeReply(
          quorum: inQuorum ? paxos.quorum : RankSet(), epoch: elector.epoch,
          firstCommitted: paxos.firstCommitted, lastCommitted: paxos.lastCommitted,
          hasEverJoined: hasEverJoined, canProvideSync: !mustSync)))
  }

  mutating func handleProbeReply(from: Int, _ m: MonProbeReply, _ fx: inout MonEffects) {
    guard role == .probing else { return }
    guard m.canProvideSync else { return }  // its store is incomplete: it cannot help yet
    if mustSync {
      // Our store is incomplete: only a full copy from a peer at least as far as we once
      // were makes it usable again.
      if m.lastCommitted >= syncFloor {
        startSync(from: from, full: true, &fx)
      }
      return
    }
    if m.firstCommitted > paxos.lastCommitted + 1 {
      startSync(from: from, full: true, &fx)  // it trimmed what we lack
      return
    }
    if m.lastCommitted > paxos.lastCommitted + config.paxosMaxJoinDrift {
      startSync(from: from, full: false, &fx)  // too far behind to catch up in recovery
      return
    }
    if !m.quorum.isEmpty {
      // A quorum exists: calling an election is how a monitor joins one in Ceph.
      startElection(&fx)
      return
    }
    outsideQuorum.insert(from)
    if outsideQuorum.count >= config.quorumSize {
      startElection(&fx)
    }
  }
}
