import NIOCore

/// The deterministic consensus core of one monitor: Elector and Paxos composed the way Ceph's
/// Monitor composes them (probe → maybe sync → elect → recover → serve), plus batching of
/// client proposals. No I/O, no clocks, no randomness: the daemon (or the simulation) feeds
/// inputs through `step` and carries out the outputs.
///
/// Contract for the daemon:
/// 1. Create it over the monitor's store (`MonStoreReader`; the key layout is in
///    `MonStoreKeys`), call `step(.start, now:)` once, then feed every peer message
///    (`MonMessage(from:limits: config.decodeLimits)`), every client request and a `.tick` at
///    (or after) `nextDeadline`. `now` is a monotonic clock in nanoseconds.
/// 2. Carry out the outputs in order. `.store` comes first when present; apply it atomically
///    and make it durable before sending any message or reply after it. Apply it (make it
///    visible to reads through the store) before the next `step`.
/// 3. Deliver `.committed` values to the services in order (see `MonOutput.committed`);
///    after `.storeReplaced` reload them from the store. Send `.reply` to the client named.
/// 4. After a crash, build a new core over the same store and `.start` again: everything
///    needed is rebuilt from the store (in-memory state is deliberately not persisted).
///
/// Forwarding: a peon forwards client requests to the leader (as Ceph's MForward) and
/// answers its client itself when it applies the committed value containing the request, so
/// a `.committed` reply means the write is durable on the monitor the client talks to.
///
/// Where this differs from Ceph, and why (details at each place):
/// - Elector: a monitor acks one proposer per epoch (switching to a better one moves to the
///   next epoch) and restarts a timed-out election in a fresh epoch, so at most one leader
///   per epoch holds always, not just usually.
/// - Paxos: the leader resends an unanswered collect or begin every
///   `mon_paxos_retransmit_interval`, and a peon that cannot accept a begin because it missed
///   commits says so (an accept for its own base version) and gets them pushed; Ceph leans on
///   lossless sessions and re-elections instead.
/// - A begin for `v + 1` implies that `v` is committed, so under load the leader sends no
///   separate commit (and commits carry no value bytes, only the pn a peon accepted under);
///   each side writes one transaction per round. Leases ride on the commit when idle and are
///   durations, not timestamps, as monitors share no clock.
/// - Trimming is done by each monitor on its own log (values are opaque here), never of
///   versions committed in the current step.
/// - Sync streams missing versions (recent) or a snapshot of the provider's paxos versions
///   and service prefixes (full, when the requester is behind the provider's first kept
///   version); the requester's promise (`accepted_pn`) is never copied or lost.
/// - One store transaction per step: a crash part-way through the outputs looks like a
///   completed step whose messages were lost.
public struct MonitorCore: Sendable {
  public let config: MonitorConfig
  let store: any MonStoreReader

  var role: MonRole = .starting
  var elector: Elector
  var paxos: Paxos
  var hasEverJoined = false
  /// A full sync was interrupted: the store is incomplete until another one finishes.
  var mustSync = false
  var syncFloor: UInt64 = 0
  var now: UInt64 = 0

  // Probing.
  var outsideQuorum = RankSet()
  var probeDeadline: UInt64?

  // Syncing.
  var syncRequest: SyncRequester?
  var syncProviders: [Int: SyncProvider] = [:]
  var syncCookieCounter: UInt64 = 0

  // Clients.
  var outstanding: [RequestKey: UInt64] = [:]
  var outstandingExpiry: [(key: RequestKey, at: UInt64)] = []
  var outstandingExpiryHead = 0
  var queue: [MonProposal] = []
  var queueHead = 0
  var queuedBytes = 0
  var queuedKeys: Set<ProposalKey> = []
  var recentlyProposed: Set<ProposalKey> = []
  var recentlyProposedOrder: [ProposalKey] = []
  var proposeAt: UInt64?

  // Notifications.
  var lastStatus: MonStatus?
  var lastLease: UInt64?

  public init(config: MonitorConfig, store: any MonStoreReader) {
    self.config = config
    self.store = store
    elector = Elector(
      rank: config.rank, count: config.monitorCount, timeout: config.monElectionTimeout)
    paxos = Paxos(config: config)
  }

  // MARK: public queries

  public var rank: Int { config.rank }

  public var status: MonStatus {
    let inQuorum = role == .leader || role == .peon
    return MonStatus(
      role: role, electionEpoch: elector.epoch, leader: inQuorum ? paxos.leader : nil,
      quorum: inQuorum ? paxos.quorum : RankSet(), firstCommitted: paxos.firstCommitted,
      lastCommitted: paxos.lastCommitted)
  }

  /// Whether this monitor may serve reads of its committed state now (leader or peon with a
  /// valid lease; a quorum of one always).
  public func isReadable(now: UInt64) -> Bool {
    (role == .leader || role == .peon) && paxos.isReadable(now: now)
  }

  /// Leader or peon with recovery done for this epoch (the leader accepts proposals; a peon
  /// has heard from the recovered leader).
  public var isRecovered: Bool {
    (role == .leader || role == .peon) && paxos.state != .recovering
  }

  /// When the core next needs a `.tick` (nil: only inputs wake it).
  public var nextDeadline: UInt64? {
    var deadlines: [UInt64?] = [probeDeadline, paxos.nextDeadline]
    if role == .electing || role == .leader || role == .peon { deadlines.append(elector.deadline) }
    if role == .leader && paxos.canBegin && queueHead < queue.count { deadlines.append(proposeAt) }
    deadlines.append(syncRequest?.nextDeadline)
    deadlines.append(syncProviders.values.map(\.expiresAt).min())
    if outstandingExpiryHead < outstandingExpiry.count {
      deadlines.append(outstandingExpiry[outstandingExpiryHead].at)
    }
    return deadlines.compactMap { $0 }.min()
  }

  // MARK: step

  /// Feeds one input at monotonic time `now` (nanoseconds) and returns what to do, in order:
  /// at most one `.store` transaction (first), then messages, committed values, replies and
  /// notifications. Pure: the same inputs over the same store give the same outputs.
  public mutating func step(_ input: MonInput, now: UInt64) -> [MonOutput] {
    self.now = max(self.now, now)
    paxos.trimCeiling = paxos.lastCommitted + 1
    var fx = MonEffects(store: store)
    switch input {
    case .start:
      if role == .starting { start(&fx) }
    case .tick:
      if role != .starting { tick(&fx) }
    case .message(let from, let message):
      if role != .starting, from >= 0, from < config.monitorCount, from != rank {
        dispatch(from: from, message, &fx)
      }
    case .client(let request):
      if role == .starting {
        fx.emit(
          .reply(
            ClientReply(clientId: request.clientId, tid: request.tid, result: .failed(.notInQuorum))
          ))
      } else {
        handleClient(request, &fx)
      }
    }
    finishStep(&fx)
    return fx.finish()
  }

  private mutating func start(_ fx: inout MonEffects) {
    elector.load(&fx)
    paxos.load(&fx)
    hasEverJoined = fx.getFlag(MonStoreKeys.monitor, MonStoreKeys.joined)
    mustSync = fx.getFlag(MonStoreKeys.sync, MonStoreKeys.inSync)
    syncFloor = fx.getUInt64(MonStoreKeys.sync, MonStoreKeys.syncFloor)
    if !mustSync {
      replayRetained(&fx)
    }
    bootstrap(&fx)
  }

  /// Re-emits the retained committed versions, so services that persist their applied
  /// version catch up on what a crash cut off, and in-memory ones can rebuild the window.
  func replayRetained(_ fx: inout MonEffects) {
    guard paxos.firstCommitted > 0, paxos.lastCommitted >= paxos.firstCommitted else { return }
    for version in paxos.firstCommitted...paxos.lastCommitted {
      guard let value = fx.get(MonStoreKeys.paxos, MonStoreKeys.version(version)) else { continue }
      fx.emit(
        .committed(
          CommittedValue(
            version: version, value: value,
            proposals: ProposalBatch.decode(value, limits: config.decodeLimits), isReplay: true)))
    }
  }

  private mutating func tick(_ fx: inout MonEffects) {
    if let deadline = probeDeadline, now >= deadline, role == .probing {
      bootstrap(&fx)  // no outcome yet: probe again
    }
    switch role {
    case .electing, .leader, .peon:
      if let event = elector.timeout(now: now, hasEverJoined: hasEverJoined, &fx) {
        handleElectorEvent(event, &fx)
      }
    default:
      break
    }
    if role == .leader || role == .peon {
      if paxos.tick(now: now, &fx) == .bootstrap {
        bootstrap(&fx)
      }
    }
    if role == .synchronizing {
      syncRequesterTick(&fx)
    }
    expireSyncProviders()
    expireRequests(&fx)
  }

  private mutating func dispatch(from: Int, _ message: MonMessage, _ fx: inout MonEffects) {
    switch message {
    case .electionPropose, .electionAck, .electionVictory:
      handleElection(from: from, message, &fx)
    case .paxosCollect, .paxosLast, .paxosBegin, .paxosAccept, .paxosCommit, .paxosLease,
      .paxosLeaseAck:
      handlePaxos(from: from, message, &fx)
    case .probe(let m):
      handleProbe(from: from, m, &fx)
    case .probeReply(let m):
      handleProbeReply(from: from, m, &fx)
    case .syncStart(let m):
      handleSyncStart(from: from, m, &fx)
    case .syncGetChunk(let m):
      handleSyncGetChunk(from: from, m, &fx)
    case .syncChunk(let m):
      handleSyncChunk(from: from, m, &fx)
    case .syncAbort(let m):
      handleSyncAbort(from: from, m, &fx)
    case .clientForward(let m):
      handleForward(from: from, m, &fx)
    case .clientForwardReply(let m):
      handleForwardReply(from: from, m, &fx)
    }
  }

  private mutating func finishStep(_ fx: inout MonEffects) {
    maybePropose(&fx)
    paxos.flushCommitNotice(now: now, &fx)
    if !fx.commits.isEmpty {
      answerCommitted(fx.commits, &fx)
    }
    let current = status
    if lastStatus.map({
      $0.role != current.role || $0.electionEpoch != current.electionEpoch
        || $0.leader != current.leader || $0.quorum != current.quorum
    }) ?? true, role != .starting {
      lastStatus = current
      fx.emit(.status(current))
    }
    let lease = (role == .leader || role == .peon) ? paxos.leaseExpiry : nil
    if lease != lastLease {
      lastLease = lease
      fx.emit(.lease(until: lease))
    }
  }

  // MARK: roles

  /// Ceph's bootstrap: leave any quorum or election and probe the peers.
  mutating func bootstrap(_ fx: inout MonEffects) {
    leaveQuorum(&fx)
    elector.cancel()
    syncRequest = nil
    role = .probing
    outsideQuorum = RankSet([rank])
    if config.monitorCount == 1 && !mustSync {
      probeDeadline = nil
      handleElectorEvent(elector.standaloneVictory(&fx), &fx)
      return
    }
    for peer in 0..<config.monitorCount where peer != rank {
      fx.send(
        peer,
        .probe(
          MonProbe(
            firstCommitted: paxos.firstCommitted, lastCommitted: paxos.lastCommitted,
            hasEverJoined: hasEverJoined)))
    }
    probeDeadline = now + config.monProbeTimeout
  }

  /// Stops serving: the round in progress is dropped and clients waiting on this monitor are
  /// told the outcome is unknown.
  private mutating func leaveQuorum(_ fx: inout MonEffects) {
    paxos.restart()
    interruptRequests(&fx)
  }

  mutating func startElection(_ fx: inout MonEffects) {
    leaveQuorum(&fx)
    probeDeadline = nil
    role = .electing
    handleElectorEvent(elector.start(now: now, &fx), &fx)
  }

  mutating func handleElectorEvent(_ event: Elector.Event, _ fx: inout MonEffects) {
    switch event {
    case .joined:
      if role != .electing {
        leaveQuorum(&fx)
        probeDeadline = nil
        role = .electing
      }
    case .won(let quorum):
      leaveQuorum(&fx)
      probeDeadline = nil
      role = .leader
      markJoined(&fx)
      if paxos.leaderInit(epoch: elector.epoch, quorum: quorum, now: now, &fx) == .bootstrap {
        bootstrap(&fx)
      }
    case .lost(let leader, let quorum):
      leaveQuorum(&fx)
      probeDeadline = nil
      role = .peon
      markJoined(&fx)
      paxos.peonInit(epoch: elector.epoch, leader: leader, quorum: quorum, now: now, &fx)
    case .bootstrap:
      bootstrap(&fx)
    }
  }

  private mutating func markJoined(_ fx: inout MonEffects) {
    if !hasEverJoined {
      hasEverJoined = true
      fx.putFlag(MonStoreKeys.monitor, MonStoreKeys.joined, true)
    }
  }

  // MARK: elections and paxos dispatch

  private mutating func handleElection(from: Int, _ message: MonMessage, _ fx: inout MonEffects) {
    // As in Ceph, probing and syncing monitors stay out of elections until they are ready.
    guard role == .electing || role == .leader || role == .peon else { return }
    let currentQuorum = (role == .leader || role == .peon) ? paxos.quorum : RankSet()
    let event: Elector.Event?
    switch message {
    case .electionPropose(let m):
      event = elector.receivePropose(
        from: from, epoch: m.epoch, currentQuorum: currentQuorum, now: now, &fx)
    case .electionAck(let m):
      event = elector.receiveAck(from: from, epoch: m.epoch, now: now, &fx)
    case .electionVictory(let m):
      event = elector.receiveVictory(
        from: from, epoch: m.epoch, quorum: m.quorum, now: now, &fx)
    default:
      event = nil
    }
    if let event {
      handleElectorEvent(event, &fx)
    }
  }

  private mutating func handlePaxos(from: Int, _ message: MonMessage, _ fx: inout MonEffects) {
    guard role == .leader || role == .peon else { return }
    let epoch: UInt64
    switch message {
    case .paxosCollect(let m): epoch = m.epoch
    case .paxosLast(let m): epoch = m.epoch
    case .paxosBegin(let m): epoch = m.epoch
    case .paxosAccept(let m): epoch = m.epoch
    case .paxosCommit(let m): epoch = m.epoch
    case .paxosLease(let m): epoch = m.epoch
    case .paxosLeaseAck(let m): epoch = m.epoch
    default: return
    }
    if epoch > elector.epoch {
      // A quorum formed that we are not part of (we missed its victory): start over.
      bootstrap(&fx)
      return
    }
    guard epoch == elector.epoch, paxos.quorum.contains(from) else { return }
    var signal: Paxos.Signal?
    if role == .peon {
      guard from == paxos.leader else { return }
      switch message {
      case .paxosCollect(let m): signal = paxos.handleCollect(m, now: now, &fx)
      case .paxosBegin(let m): paxos.handleBegin(m, now: now, &fx)
      case .paxosCommit(let m): paxos.handleCommit(m, now: now, &fx)
      case .paxosLease(let m): paxos.handleLease(m, now: now, &fx)
      default: break
      }
    } else {
      switch message {
      case .paxosLast(let m): signal = paxos.handleLast(from: from, m, now: now, &fx)
      case .paxosAccept(let m): paxos.handleAccept(from: from, m, now: now, &fx)
      case .paxosLeaseAck(let m): paxos.handleLeaseAck(from: from, m)
      default: break
      }
    }
    if signal == .bootstrap {
      bootstrap(&fx)
    }
  }
}

/// A client request as named by its client.
struct RequestKey: Hashable {
  var clientId: UInt64
  var tid: UInt64
}

/// A client request as named across monitors (the leader's duplicate filter).
struct ProposalKey: Hashable {
  var origin: Int
  var clientId: UInt64
  var tid: UInt64
}
