import LoligoConsensus
import LoligoMon
import NIOCore
import XCTest

/// Targeted scenarios on the simulated cluster: each arranges one situation by hand (message
/// filters, crashes, partitions) and checks what must happen, with the simulation's safety
/// checks running throughout.
final class ScenarioTests: XCTestCase {
  let second = MonitorConfig.second
  let ms = MonitorConfig.millisecond

  func cluster(_ monitors: Int, seed: UInt64 = 1) -> SimCluster {
    var scenario = SimScenario()
    scenario.monitors = monitors
    let cluster = SimCluster(seed: seed, scenario: scenario)
    cluster.recordOutputs = true
    return cluster
  }

  func assertSafe(_ cluster: SimCluster, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(
      cluster.checker.violations, [], cluster.traceLines.suffix(60).joined(separator: "\n"),
      file: file, line: line)
  }

  func committedValues(_ cluster: SimCluster, _ node: Int) -> [CommittedValue] {
    cluster.outputsSeen[node].compactMap {
      if case .committed(let value) = $0 { return value }
      return nil
    }
  }

  func version(of client: UInt64, in cluster: SimCluster) -> UInt64? {
    for (version, value) in cluster.checker.committed {
      var copy = value
      let proposals = (try? ProposalBatch(from: &copy, limits: .default).proposals) ?? []
      if proposals.contains(where: { $0.clientId == client }) { return version }
    }
    return nil
  }

  /// Runs until every monitor is leader or peon of one epoch with everyone in the quorum.
  func settle(_ cluster: SimCluster, within: UInt64 = 60 * MonitorConfig.second) {
    var waited: UInt64 = 0
    while waited < within {
      cluster.runFor(100 * ms)
      waited += 100 * ms
      let statuses = (0..<cluster.nodes.count).compactMap { cluster.status($0) }
      if statuses.count == cluster.nodes.count,
        cluster.nodes.allSatisfy({ $0.core?.isRecovered == true }),
        statuses.allSatisfy({
          ($0.role == .leader || $0.role == .peon)
            && $0.quorum == RankSet.all(cluster.nodes.count)
            && $0.electionEpoch == statuses[0].electionEpoch
        })
      {
        cluster.runFor(50 * ms)
        return
      }
    }
    XCTFail("no quorum of everyone\n" + cluster.traceLines.suffix(40).joined(separator: "\n"))
  }

  // MARK: basics

  func testSingleMonitorCommitsAlone() {
    let c = cluster(1)
    c.startAll()
    c.runFor(10 * ms)
    XCTAssertEqual(c.status(0)?.role, .leader)
    XCTAssertEqual(c.status(0)?.quorum, RankSet([0]))
    let ids = (0..<5).map { _ in c.submitClient(at: 0) }
    c.runFor(10 * ms)
    for id in ids {
      guard case .committed = c.replies[id] else {
        return XCTFail("client \(id): \(String(describing: c.replies[id]))")
      }
    }
    XCTAssertTrue(c.nodes[0].core!.isReadable(now: c.localTime(0)))
    let last = c.status(0)!.lastCommitted
    let epoch = c.status(0)!.electionEpoch
    XCTAssertGreaterThanOrEqual(last, 1)

    c.crash(0)
    c.restart(0)
    c.runFor(10 * ms)
    XCTAssertEqual(c.status(0)?.role, .leader)
    XCTAssertEqual(c.status(0)?.lastCommitted, last, "the history survives the restart")
    XCTAssertGreaterThan(c.status(0)!.electionEpoch, epoch)
    let replays = committedValues(c, 0).filter(\.isReplay)
    XCTAssertEqual(replays.map(\.version), Array(1...last), "start-up replays the retained window")
    let next = c.submitClient(at: 0)
    c.runFor(10 * ms)
    XCTAssertEqual(c.replies[next], .committed(version: last + 1))
    assertSafe(c)
  }

  func testLowestRankLeadsAndPeonsForward() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    XCTAssertEqual(c.status(0)?.role, .leader)
    XCTAssertEqual(c.status(1)?.leader, 0)
    XCTAssertEqual(c.status(2)?.leader, 0)
    XCTAssertEqual(c.status(0)!.electionEpoch % 2, 0, "stable epochs are even")
    let id = c.submitClient(at: 2)
    c.runFor(200 * ms)
    guard case .committed(let version) = c.replies[id] else {
      return XCTFail("the peon answers its client: \(String(describing: c.replies[id]))")
    }
    XCTAssertTrue(
      committedValues(c, 2).contains { $0.version == version },
      "the peon applied it before replying")
    XCTAssertEqual(Set((0..<3).map { c.status($0)!.lastCommitted }).count, 1)
    XCTAssertTrue(c.nodes[1].core!.isReadable(now: c.localTime(1)), "peons hold a lease when idle")
    assertSafe(c)
  }

  func testProposalsArrivingTogetherAreBatched() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    let ids = (0..<40).map { i in c.submitClient(at: i % 3) }
    c.runFor(500 * ms)
    XCTAssertTrue(ids.allSatisfy { if case .committed = c.replies[$0] { true } else { false } })
    let sizes = committedValues(c, 0).map(\.proposals.count)
    XCTAssertGreaterThanOrEqual(sizes.max() ?? 0, 10, "values carry many proposals: \(sizes)")
    XCTAssertLessThan(sizes.count, 40, "fewer values than proposals")
    assertSafe(c)
  }

  func testRefusalsAreDefinite() {
    let c = cluster(3)
    c.restart(0)  // alone: never reaches a quorum
    c.runFor(3 * second)
    let id = c.submitClient(at: 0)
    XCTAssertEqual(c.replies[id], .failed(.notInQuorum))

    let lossy = cluster(3)
    lossy.startAll()
    settle(lossy)
    lossy.dropFilter = { _, _, message in
      if case .clientForward = message { return true }
      return false
    }
    let lost = lossy.submitClient(at: 1)
    lossy.runFor(29 * second)
    XCTAssertNil(lossy.replies[lost])
    lossy.runFor(2 * second)
    XCTAssertEqual(lossy.replies[lost], .failed(.timedOut), "outcome unknown after the timeout")

    let single = cluster(1)
    single.startAll()
    single.runFor(10 * ms)
    var big = ByteBufferAllocator().buffer(capacity: 2 << 20)
    big.writeRepeatingByte(1, count: (1 << 20) + 1)
    single.step(0, .client(ClientRequest(clientId: 999, tid: 1, payload: big)))
    XCTAssertEqual(single.replies[999], .failed(.tooLarge))
  }

  // MARK: recovery of uncommitted values

  /// The leader's begin reaches the peons, their accepts do not reach it, and it crashes: the
  /// value was accepted by everyone else, so the next leader must commit it at that version.
  func testAcceptedButUncommittedValueIsReproposed() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    let base = c.status(0)!.lastCommitted
    c.dropFilter = { from, to, message in
      if case .paxosAccept = message { return to == 0 }
      return false
    }
    let id = c.submitClient(at: 0)
    c.runFor(20 * ms)
    XCTAssertNil(c.replies[id], "not committed: no accepts arrived")
    c.crash(0)
    c.dropFilter = nil
    c.runFor(30 * second)
    XCTAssertEqual(c.status(1)?.role, .leader)
    XCTAssertEqual(
      version(of: id, in: c), base + 1, "the accepted value is committed as v\(base + 1)")
    c.restart(0)
    settle(c)
    XCTAssertEqual(Set((0..<3).map { c.status($0)!.lastCommitted }).count, 1)
    assertSafe(c)
  }

  /// Everyone accepted, the leader committed and replied, then crashed before any commit
  /// message left: the value is committed and must stay so under the next leader.
  func testValueCommittedOnlyAtCrashedLeaderIsKept() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    let base = c.status(0)!.lastCommitted
    c.dropFilter = { from, _, message in
      if case .paxosCommit = message { return from == 0 }
      return false
    }
    let id = c.submitClient(at: 0)
    c.runFor(20 * ms)
    XCTAssertEqual(c.replies[id], .committed(version: base + 1), "committed at the leader")
    XCTAssertEqual(c.status(1)?.lastCommitted, base, "the peons did not hear of it")
    c.crash(0)
    c.dropFilter = nil
    c.runFor(30 * second)
    let next = c.submitClient(at: 1)
    c.runFor(1 * second)
    XCTAssertEqual(c.replies[next], .committed(version: base + 2), "v\(base + 1) was kept")
    XCTAssertEqual(version(of: id, in: c), base + 1)
    c.restart(0)
    settle(c)
    XCTAssertEqual(Set((0..<3).map { c.status($0)!.lastCommitted }).count, 1)
    assertSafe(c)
  }

  /// Only the crashed leader stored the value: the others never saw it, so the new leader may
  /// commit something else at that version, and the old leader must adopt that on return.
  func testUncommittedValueOnlyOnCrashedLeaderIsSuperseded() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    let base = c.status(0)!.lastCommitted
    c.dropFilter = { _, _, message in
      if case .paxosBegin = message { return true }
      return false
    }
    let lost = c.submitClient(at: 0)
    c.runFor(20 * ms)
    c.crash(0)
    XCTAssertNotNil(
      c.nodes[0].store.get(prefix: MonStoreKeys.paxos, key: MonStoreKeys.version(base + 1)))
    c.dropFilter = nil
    c.runFor(30 * second)
    let other = c.submitClient(at: 1)
    c.runFor(1 * second)
    XCTAssertEqual(c.replies[other], .committed(version: base + 1), "a new value takes the version")
    c.restart(0)
    settle(c)
    let zero = committedValues(c, 0).filter { $0.version == base + 1 && !$0.isReplay }
    XCTAssertEqual(zero.count, 1, "the old leader learns the committed v\(base + 1)")
    XCTAssertNil(version(of: lost, in: c), "the value only the crashed leader had is gone")
    assertSafe(c)
  }

  // MARK: catching up

  func testPeonFarBehindDoesAFullSync() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    c.crash(2)
    c.runFor(25 * second)  // the lease timeout, then a quorum of two
    XCTAssertEqual(c.status(0)?.quorum, RankSet([0, 1]))
    for i in 0..<80 {  // well past paxos_min + paxos_trim_min (20 + 10 in the simulation)
      c.submitClient(at: i % 2)
      c.runFor(20 * ms)
    }
    let first = c.status(0)!.firstCommitted
    XCTAssertGreaterThan(first, 1, "the others trimmed")
    c.restart(2)
    settle(c)
    XCTAssertGreaterThan(c.fullSyncs, 0)
    XCTAssertEqual(c.storeReplacements, 1)
    XCTAssertEqual(c.status(2)?.lastCommitted, c.status(0)?.lastCommitted)
    XCTAssertEqual(c.nodes[2].serviceVersion, c.status(0)!.lastCommitted, "service state copied")
    assertSafe(c)
  }

  /// A full sync cut short by a crash leaves the store marked incomplete; after the restart
  /// the monitor must finish a full sync before it takes part in anything.
  func testInterruptedFullSyncResumesAfterRestart() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    c.crash(2)
    c.runFor(25 * second)
    for i in 0..<80 {
      c.submitClient(at: i % 2)
      c.runFor(20 * ms)
    }
    c.dropFilter = { _, to, message in
      if case .syncChunk(let chunk) = message { return to == 2 && chunk.seq >= 1 }
      return false
    }
    c.restart(2)
    c.runFor(3 * second)
    XCTAssertEqual(c.status(2)?.role, .synchronizing)
    XCTAssertNotNil(
      c.nodes[2].store.get(prefix: MonStoreKeys.sync, key: MonStoreKeys.inSync),
      "the store is marked incomplete while the copy runs")
    c.crash(2)
    c.dropFilter = nil
    c.restart(2)
    settle(c)
    XCTAssertNil(c.nodes[2].store.get(prefix: MonStoreKeys.sync, key: MonStoreKeys.inSync))
    XCTAssertEqual(c.storeReplacements, 1, "one full sync completed, after the restart")
    XCTAssertEqual(c.status(2)?.lastCommitted, c.status(0)?.lastCommitted)
    XCTAssertEqual(c.nodes[2].serviceVersion, c.status(0)!.lastCommitted)
    assertSafe(c)
  }

  func testPeonSomewhatBehindDoesARecentSync() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    c.crash(2)
    c.runFor(25 * second)
    XCTAssertEqual(c.status(0)?.quorum, RankSet([0, 1]))
    for i in 0..<12 {  // more than paxos_max_join_drift (5), fewer than are trimmed
      c.submitClient(at: i % 2)
      c.runFor(20 * ms)
    }
    c.restart(2)
    settle(c)
    XCTAssertGreaterThan(c.recentSyncs, 0)
    XCTAssertEqual(c.fullSyncs, 0)
    XCTAssertEqual(c.status(2)?.lastCommitted, c.status(0)?.lastCommitted)
    let live = committedValues(c, 2).filter { !$0.isReplay }.map(\.version)
    XCTAssertEqual(live, Array(live.sorted()), "versions applied in order")
    assertSafe(c)
  }

  // MARK: leases and elections

  func testLeaseExpiryTriggersElection() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    let epoch = c.status(0)!.electionEpoch
    c.submitClient(at: 1)
    c.runFor(1 * second)
    XCTAssertTrue(c.nodes[1].core!.isReadable(now: c.localTime(1)))
    c.dropFilter = { from, to, _ in from == 0 || to == 0 }  // the leader is cut off
    c.runFor(6 * second)
    XCTAssertFalse(c.nodes[1].core!.isReadable(now: c.localTime(1)), "the lease ran out")
    XCTAssertEqual(c.status(1)?.electionEpoch, epoch, "no election before the lease timeout")
    c.runFor(20 * second)
    XCTAssertEqual(c.status(1)?.role, .leader)
    XCTAssertEqual(c.status(2)?.leader, 1)
    XCTAssertGreaterThan(c.status(1)!.electionEpoch, epoch)
    XCTAssertNotEqual(c.status(0)?.role, .leader, "the cut-off leader stepped down")
    c.dropFilter = nil
    settle(c)
    XCTAssertEqual(c.status(0)?.role, .leader, "the lowest rank leads again once back")
    assertSafe(c)
  }

  func testRestartedMonitorRejoinsThroughAnElection() {
    let c = cluster(5)
    c.startAll()
    settle(c)
    let epoch = c.status(0)!.electionEpoch
    c.crash(3)
    c.runFor(2 * second)
    c.restart(3)
    settle(c)
    XCTAssertGreaterThan(c.status(0)!.electionEpoch, epoch)
    XCTAssertEqual(c.status(3)?.role, .peon)
    assertSafe(c)
  }

  /// The rule that keeps one leader per epoch: having acked rank 1 in an epoch, a monitor
  /// asked by rank 0 in that same epoch acks it in the next epoch instead.
  func testAMonitorAcksOncePerEpoch() {
    let store = InMemoryMonStore()
    var core = MonitorCore(config: MonitorConfig(rank: 2, monitorCount: 3), store: store)
    func run(_ input: MonInput) -> [MonOutput] {
      let outputs = core.step(input, now: 1_000)
      for case .store(let transaction) in outputs { store.apply(transaction) }
      return outputs
    }
    _ = run(.start)
    let reply = MonProbeReply(
      quorum: RankSet(), epoch: 0, firstCommitted: 0, lastCommitted: 0, hasEverJoined: false,
      canProvideSync: true)
    _ = run(.message(from: 0, .probeReply(reply)))  // a majority outside any quorum: elect
    XCTAssertEqual(core.status.role, .electing)
    let epoch = core.status.electionEpoch
    let first = run(.message(from: 1, .electionPropose(ElectionPropose(epoch: epoch))))
    XCTAssertTrue(
      first.contains {
        if case .send(1, .electionAck(let ack)) = $0 { return ack.epoch == epoch }
        return false
      })
    let second = run(.message(from: 0, .electionPropose(ElectionPropose(epoch: epoch))))
    let acks = second.compactMap { output -> (Int, UInt64)? in
      if case .send(let to, .electionAck(let ack)) = output { return (to, ack.epoch) }
      return nil
    }
    XCTAssertEqual(acks.count, 1)
    XCTAssertEqual(acks.first?.0, 0)
    XCTAssertEqual(acks.first?.1, epoch + 2, "the better proposer is backed in the next epoch")
    XCTAssertEqual(
      store.getUInt64(prefix: MonStoreKeys.election, key: MonStoreKeys.epoch), epoch + 2,
      "the new epoch is persisted with the ack")
    guard case .store = second.first else { return XCTFail("the epoch is stored before the ack") }
  }

  // MARK: hostile network

  func testOldAndRepeatedMessagesAreHarmless() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    for i in 0..<10 {
      c.submitClient(at: i % 3)
      c.runFor(50 * ms)
    }
    // Every message sent so far, to be delivered again later.
    var old: [(Int, Int, MonMessage)] = []
    for node in 0..<3 {
      for case .send(let to, let message) in c.outputsSeen[node] { old.append((node, to, message)) }
    }
    c.crash(2)
    c.runFor(1 * second)
    c.restart(2)
    settle(c)
    let before = (0..<3).map { c.status($0)! }
    for (from, to, message) in old { c.inject(from: from, to: to, message) }
    c.runFor(2 * second)
    for (from, to, message) in old.reversed() { c.inject(from: from, to: to, message) }
    c.runFor(2 * second)
    settle(c)
    XCTAssertGreaterThanOrEqual(c.status(0)!.lastCommitted, before[0].lastCommitted)
    for i in 0..<3 { c.submitClient(at: i) }
    c.runFor(1 * second)
    XCTAssertEqual(Set((0..<3).map { c.status($0)!.lastCommitted }).count, 1)
    assertSafe(c)
  }

  /// Numbers at the top of their range from a peer are refused or ignored, never a trap.
  func testExtremeNumbersFromAPeerAreHarmless() {
    let c = cluster(3)
    c.startAll()
    settle(c)
    c.submitClient(at: 0)
    c.runFor(200 * ms)
    let before = c.status(0)!.lastCommitted
    for target in 0..<3 {
      let from = (target + 1) % 3
      c.inject(
        from: from, to: target,
        .syncStart(SyncStart(cookie: .max, full: false, lastCommitted: .max)))
      c.inject(
        from: from, to: target,
        .paxosLast(
          PaxosLast(epoch: .max, pn: .max, firstCommitted: .max, lastCommitted: .max)))
      c.runFor(100 * ms)
    }
    settle(c)
    for i in 0..<3 { c.submitClient(at: i) }
    c.runFor(1 * second)
    XCTAssertGreaterThan(c.status(0)!.lastCommitted, before)
    XCTAssertEqual(Set((0..<3).map { c.status($0)!.lastCommitted }).count, 1)
    assertSafe(c)
  }

  func testEveryMessageDuplicated() {
    let c = cluster(5)
    c.network.faults.duplicateRate = 1.0
    c.network.faults.longDelayRate = 0.05
    c.startAll()
    settle(c)
    let ids = (0..<30).map { i -> UInt64 in
      let id = c.submitClient(at: i % 5)
      c.runFor(30 * ms)
      return id
    }
    c.runFor(3 * second)
    let committed = ids.filter { if case .committed = c.replies[$0] { true } else { false } }
    XCTAssertEqual(committed.count, ids.count)
    let versions = ids.compactMap { version(of: $0, in: c) }
    XCTAssertEqual(versions.count, ids.count)
    assertSafe(c)
  }

  // MARK: the checker itself

  func testCheckerCatchesViolations() {
    var checker = SimChecker()
    let leader = MonStatus(
      role: .leader, electionEpoch: 4, leader: 0, quorum: RankSet([0, 1]), firstCommitted: 0,
      lastCommitted: 0)
    checker.status(node: 0, leader)
    var other = leader
    other.leader = 1
    checker.status(node: 1, other)
    XCTAssertEqual(checker.violations.count, 1, "two leaders in one epoch")
    let a = MessageCodecTests.bytes([1])
    let b = MessageCodecTests.bytes([2])
    checker.committed(node: 0, CommittedValue(version: 1, value: a, proposals: [], isReplay: false))
    checker.committed(node: 1, CommittedValue(version: 1, value: b, proposals: [], isReplay: false))
    XCTAssertEqual(checker.violations.count, 2, "a version with two values")
    checker.reply(node: 0, ClientReply(clientId: 5, tid: 1, result: .committed(version: 1)))
    XCTAssertEqual(checker.violations.count, 3, "a committed reply for a version without it")
  }
}
