import LoligoTrace
import NIOCore

/// Ceph's variant of Paxos as a state machine: one value in flight at a time, recovery (collect
/// / last) after every election, begin / accept / commit, leases that let peons serve reads,
/// and trimming. The leader is whoever the elector made leader; `epoch` is that election's.
///
/// Durable state (see `MonStoreKeys`): committed versions `first_committed ... last_committed`,
/// the promise `accepted_pn`, the last generated `last_pn`, and the accepted-but-uncommitted
/// value at `last_committed + 1` with the pn it was accepted under (`pending_v`,
/// `pending_pn`). Everything else is rebuilt by the next election's recovery.
struct Paxos {
  enum State: Equatable {
    case recovering
    case active
    /// A new value is out for acceptance.
    case updating
    /// A value learned during recovery is being re-proposed (Ceph's updating-previous).
    case updatingPrevious
  }

  /// The accepted-but-uncommitted value (always at `lastCommitted + 1`).
  struct Pending: Equatable {
    var version: UInt64
    var pn: UInt64
    var value: ByteBuffer
  }

  enum Signal: Equatable {
    /// Something needs a fresh start from probing (timeouts, a peer too far ahead or behind).
    case bootstrap
  }

  let config: MonitorConfig
  var rank: Int { config.rank }

  var state: State = .recovering
  var firstCommitted: UInt64 = 0
  var lastCommitted: UInt64 = 0
  var lastPN: UInt64 = 0
  var acceptedPN: UInt64 = 0
  var pending: Pending?

  // Role for the current election epoch.
  var isLeader = false
  var epoch: UInt64 = 0
  var quorum = RankSet()
  var leader = -1

  // Leader, recovery.
  var lastFrom = RankSet()
  var peerLastCommitted: [Int: UInt64] = [:]
  var uncommitted: Pending?
  var collectDeadline: UInt64?
  /// Leader: when to resend the open collect or begin to members that have not answered.
  var retransmitAt: UInt64?

  // Leader, update.
  var newValue: ByteBuffer?
  var accepted = RankSet()
  var acceptDeadline: UInt64?
  /// A commit the peons have not been told about yet; sent at the end of the step unless a
  /// begin (which implies it) went out instead.
  var commitNoticePending = false

  // Leases.
  /// Until when reads are allowed (leader: its own lease; peon: the leader's grant).
  var leaseExpiry: UInt64?
  var leaseRenewAt: UInt64?
  var leaseAckDeadline: UInt64?
  var ackedLease = RankSet()
  /// Peon: no word from the leader by then calls an election.
  var leaseTimeoutAt: UInt64?

  /// Trimming never removes versions committed in the current step (set at each step's
  /// start): services have applied everything from earlier steps, but a crash part-way
  /// through this step's outputs must still find this step's versions to replay.
  var trimCeiling: UInt64 = 0

  init(config: MonitorConfig) {
    self.config = config
  }

  var isAlone: Bool { quorum.count == 1 }

  /// Loads durable state (start-up, and after a full sync rewrote the store).
  mutating func load(_ fx: inout MonEffects) {
    firstCommitted = fx.getUInt64(MonStoreKeys.paxos, MonStoreKeys.firstCommitted)
    lastCommitted = fx.getUInt64(MonStoreKeys.paxos, MonStoreKeys.lastCommitted)
    lastPN = fx.getUInt64(MonStoreKeys.paxos, MonStoreKeys.lastPN)
    acceptedPN = fx.getUInt64(MonStoreKeys.paxos, MonStoreKeys.acceptedPN)
    pending = nil
    let pendingVersion = fx.getUInt64(MonStoreKeys.paxos, MonStoreKeys.pendingVersion)
    if pendingVersion == lastCommitted + 1,
      let value = fx.get(MonStoreKeys.paxos, MonStoreKeys.version(pendingVersion))
    {
      pending = Pending(
        version: pendingVersion,
        pn: fx.getUInt64(MonStoreKeys.paxos, MonStoreKeys.pendingPN), value: value)
    }
  }

  /// Forgets the round in progress (new election or bootstrap). Durable state stays.
  mutating func restart() {
    state = .recovering
    isLeader = false
    leader = -1
    quorum = RankSet()
    lastFrom = RankSet()
    peerLastCommitted = [:]
    uncommitted = nil
    newValue = nil
    accepted = RankSet()
    commitNoticePending = false
    collectDeadline = nil
    acceptDeadline = nil
    retransmitAt = nil
    leaseExpiry = nil
    leaseRenewAt = nil
    leaseAckDeadline = nil
    ackedLease = RankSet()
    leaseTimeoutAt = nil
  }

  /// A globally unique, increasing proposal number: the next hundred above `floor`, plus our
  /// rank, so two monitors never pick the same one.
  mutating func newProposalNumber(above floor: UInt64, _ fx: inout MonEffects) -> UInt64 {
    lastPN = max(lastPN, floor)
    lastPN = (lastPN / 100 + 1) * 100 + UInt64(rank)
    fx.put(MonStoreKeys.paxos, MonStoreKeys.lastPN, lastPN)
    return lastPN
  }

  // MARK: local commits

  /// Commits `version` (which must be `lastCommitted + 1`) with `value` on this monitor and
  /// hands it to the services. `stored` says the value bytes are already under its key.
  mutating func commitLocally(
    _ version: UInt64, _ value: ByteBuffer, stored: Bool, _ fx: inout MonEffects
  ) {
    precondition(version == lastCommitted + 1)
    if !stored {
      fx.put(MonStoreKeys.paxos, MonStoreKeys.version(version), value)
    }
    lastCommitted = version
    MonTrace.paxosCommit(rank: rank, version: version, leader: isLeader)
    fx.put(MonStoreKeys.paxos, MonStoreKeys.lastCommitted, version)
    if firstCommitted == 0 {
      firstCommitted = version
      fx.put(MonStoreKeys.paxos, MonStoreKeys.firstCommitted, version)
    }
    if let current = pending, current.version <= version {
      pending = nil
    }
    if let candidate = uncommitted, candidate.version <= version {
      uncommitted = nil  // decided already; re-proposing it would be wrong
    }
    trimIfNeeded(&fx)
    fx.committed(
      CommittedValue(
        version: version, value: value,
        proposals: ProposalBatch.decode(value, limits: config.decodeLimits), isReplay: false))
  }

  /// Ceph trims through a proposal so every store trims alike; values are opaque here, so each
  /// monitor trims its own log by the same rule in the commit's transaction: once more than
  /// `paxos_min + paxos_trim_min` versions are kept, drop the oldest (at most
  /// `paxos_trim_max`), keeping `paxos_min`.
  private mutating func trimIfNeeded(_ fx: inout MonEffects) {
    guard firstCommitted > 0,
      lastCommitted - firstCommitted > config.paxosMin + config.paxosTrimMin
    else { return }
    let end = min(
      lastCommitted - config.paxosMin, firstCommitted + config.paxosTrimMax, trimCeiling)
    guard end > firstCommitted else { return }
    for version in firstCommitted..<end {
      fx.delete(MonStoreKeys.paxos, MonStoreKeys.version(version))
    }
    firstCommitted = end
    fx.put(MonStoreKeys.paxos, MonStoreKeys.firstCommitted, end)
  }

  /// Stores committed values shared by a peer (Ceph's store_state): only a run that continues
  /// our history from `lastCommitted + 1` and stays within the sender's `upTo`.
  mutating func storeShared(_ values: [VersionedValue], upTo: UInt64, _ fx: inout MonEffects) {
    for item in values.sorted(by: { $0.version < $1.version }) {
      if item.version <= lastCommitted { continue }
      guard item.version == lastCommitted + 1, item.version <= upTo else { break }
      commitLocally(item.version, item.value, stored: false, &fx)
    }
  }

  /// Committed values `after + 1 ...` for a peer, bounded by the sync payload limits (one value
  /// always goes). Stops early at a gap (trimmed versions).
  func shareValues(after: UInt64, through last: UInt64, _ fx: MonEffects) -> [VersionedValue] {
    var values: [VersionedValue] = []
    var bytes = 0
    var version = after + 1
    while version <= last {
      guard let value = fx.get(MonStoreKeys.paxos, MonStoreKeys.version(version)) else { break }
      if !values.isEmpty
        && (bytes + value.readableBytes > config.monSyncMaxPayloadSize
          || values.count >= config.monSyncMaxPayloadKeys)
      {
        break
      }
      values.append(VersionedValue(version: version, value: value))
      bytes += value.readableBytes
      version += 1
    }
    return values
  }

  /// Sends committed versions `after + 1 ... lastCommitted` to a peer, in payload-sized
  /// commit messages. False if some were trimmed already (the peer needs a sync).
  func sendCommitted(to peer: Int, after: UInt64, _ fx: inout MonEffects) -> Bool {
    var after = after
    while after < lastCommitted {
      let values = shareValues(after: after, through: lastCommitted, fx)
      guard let top = values.last?.version else { return false }
      fx.send(
        peer,
        .paxosCommit(PaxosCommit(epoch: epoch, pn: acceptedPN, lastCommitted: top, values: values)))
      after = top
    }
    return true
  }

  /// Leader: the open collect or begin again, to the members that have not answered.
  private mutating func retransmit(now: UInt64, _ fx: inout MonEffects) {
    retransmitAt = now + config.monPaxosRetransmitInterval
    switch state {
    case .recovering:
      for peer in quorum where peer != rank && !lastFrom.contains(peer) {
        fx.send(
          peer,
          .paxosCollect(
            PaxosCollect(
              epoch: epoch, pn: acceptedPN, firstCommitted: firstCommitted,
              lastCommitted: lastCommitted)))
      }
    case .updating, .updatingPrevious:
      guard let value = newValue else { return }
      for peer in quorum where peer != rank && !accepted.contains(peer) {
        fx.send(
          peer,
          .paxosBegin(
            PaxosBegin(epoch: epoch, pn: acceptedPN, lastCommitted: lastCommitted, value: value)))
      }
    case .active:
      retransmitAt = nil
    }
  }

  // MARK: timers

  var nextDeadline: UInt64? {
    [collectDeadline, acceptDeadline, retransmitAt, leaseRenewAt, leaseAckDeadline, leaseTimeoutAt]
      .compactMap { $0 }.min()
  }

  mutating func tick(now: UInt64, _ fx: inout MonEffects) -> Signal? {
    if isLeader {
      // Ceph calls a new election when a collect or begin round, or lease acks, time out.
      if let deadline = collectDeadline, now >= deadline { return .bootstrap }
      if let deadline = acceptDeadline, now >= deadline { return .bootstrap }
      if let deadline = leaseAckDeadline, now >= deadline { return .bootstrap }
      if let at = retransmitAt, now >= at {
        retransmit(now: now, &fx)
      }
      if let renew = leaseRenewAt, now >= renew, state == .active {
        extendLease(now: now, &fx)
      }
    } else if let timeout = leaseTimeoutAt, now >= timeout {
      return .bootstrap  // the leader went quiet
    }
    return nil
  }

  /// Whether reads of the committed state may be served now.
  func isReadable(now: UInt64) -> Bool {
    guard lastCommitted > 0, state != .recovering else { return false }
    if isAlone && isLeader { return true }
    guard let leaseExpiry else { return false }
    return now < leaseExpiry
  }
}
