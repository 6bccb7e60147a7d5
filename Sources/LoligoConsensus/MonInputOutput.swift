import NIOCore

/// What the daemon feeds `MonitorCore.step`. Every step also carries `now`, the monotonic
/// clock in nanoseconds (never decreasing; a smaller value is treated as the last one).
public enum MonInput: Sendable {
  /// First input of an incarnation: load durable state from the store and start probing.
  /// Inputs before it are ignored.
  case start
  /// Time passed: fire due timers. Call at `MonitorCore.nextDeadline` (earlier or extra ticks
  /// are harmless).
  case tick
  /// A message from the monitor of rank `from` (as authenticated by the messenger).
  case message(from: Int, MonMessage)
  /// A client proposal that arrived at this monitor.
  case client(ClientRequest)
}

/// What the daemon must do after a step, in list order.
public enum MonOutput: Sendable {
  /// Apply atomically and make durable before acting on any output after it in the list.
  /// A step returns at most one, always first.
  case store(MonStoreTransaction)
  /// Send to the monitor of rank `to` (best effort: the protocol survives loss).
  case send(to: Int, MonMessage)
  /// A committed version to apply to the services. Within one incarnation every version is
  /// emitted exactly once, in order, each following the previous: first the retained window
  /// `first_committed ... last_committed` at start-up (`isReplay`), then every version as it
  /// commits, whether by this monitor's own round, recovery or a sync. The only jump is a
  /// full sync (`storeReplaced`). A service that persists its state with its applied
  /// version skips replays it already has; one that keeps state only in memory rebuilds
  /// from the replays (the window is all a monitor keeps, see `paxos_min`).
  case committed(CommittedValue)
  /// A full sync replaced the store's committed state (paxos versions and the prefixes in
  /// `MonitorConfig.serviceStorePrefixes`) with another monitor's copy: services reload from
  /// the store. Replays of `firstCommitted ... lastCommitted` follow, then new commits.
  case storeReplaced(firstCommitted: UInt64, lastCommitted: UInt64)
  /// The answer to a client request that arrived at this monitor.
  case reply(ClientReply)
  /// Role, quorum, epoch or leader changed.
  case status(MonStatus)
  /// The read lease changed: reads of the committed state are allowed until `until` (local
  /// clock), or not at all (nil). See `MonitorCore.isReadable(now:)`.
  case lease(until: UInt64?)
}

/// One committed version. `proposals` is `value` decoded (empty if it does not decode).
public struct CommittedValue: Sendable, Equatable {
  public var version: UInt64
  public var value: ByteBuffer
  public var proposals: [MonProposal]
  public var isReplay: Bool

  public init(version: UInt64, value: ByteBuffer, proposals: [MonProposal], isReplay: Bool) {
    self.version = version
    self.value = value
    self.proposals = proposals
    self.isReplay = isReplay
  }
}

public enum MonRole: String, Sendable, Equatable {
  /// Before `.start`.
  case starting
  /// Asking peers where they are (Ceph's STATE_PROBING).
  case probing
  /// Copying committed state from a peer before joining.
  case synchronizing
  case electing
  case leader
  case peon
}

public struct MonStatus: Sendable, Equatable {
  public var role: MonRole
  public var electionEpoch: UInt64
  /// Rank of the leader (leader and peon only).
  public var leader: Int?
  /// Quorum members (leader and peon only).
  public var quorum: RankSet
  public var firstCommitted: UInt64
  public var lastCommitted: UInt64

  public init(
    role: MonRole, electionEpoch: UInt64, leader: Int?, quorum: RankSet, firstCommitted: UInt64,
    lastCommitted: UInt64
  ) {
    self.role = role
    self.electionEpoch = electionEpoch
    self.leader = leader
    self.quorum = quorum
    self.firstCommitted = firstCommitted
    self.lastCommitted = lastCommitted
  }
}
