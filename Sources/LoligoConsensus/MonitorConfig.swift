/// Configuration of one monitor's consensus core. Option names follow Ceph's (`mon_lease`
/// becomes `monLease`); times are nanoseconds of the monotonic clock the daemon passes to
/// `MonitorCore.step`. Every queue and message part has a bound here. All monitors of a
/// cluster must use the same values for the protocol bounds (value and payload sizes).
public struct MonitorConfig: Sendable, Equatable {
  public static let second: UInt64 = 1_000_000_000
  public static let millisecond: UInt64 = 1_000_000

  /// This monitor's rank in the monmap, 0 ..< `monitorCount`.
  public var rank: Int
  /// Monitors in the monmap (ranks 0 ..< monitorCount), at most `maxMonitors`.
  public var monitorCount: Int

  /// `mon_lease` (5 s): how long a lease lets peons serve reads.
  public var monLease: UInt64 = 5 * second
  /// `mon_lease_renew_interval_factor` (0.6): the leader renews after this fraction of a lease.
  public var monLeaseRenewIntervalFactor: Double = 0.6
  /// `mon_lease_ack_timeout_factor` (2.0): lease acks (leader) or leases (peon) missing for this
  /// many leases call a new election.
  public var monLeaseAckTimeoutFactor: Double = 2.0
  /// `mon_accept_timeout_factor` (2.0): collect and begin rounds unanswered for this many
  /// leases call a new election.
  public var monAcceptTimeoutFactor: Double = 2.0
  /// `mon_election_timeout` (5 s): an election that has not ended by then is restarted (one
  /// second more for a monitor that acked someone else, as in Ceph).
  public var monElectionTimeout: UInt64 = 5 * second
  /// `mon_probe_timeout` (2 s): probing without an outcome starts over.
  public var monProbeTimeout: UInt64 = 2 * second
  /// `mon_paxos_retransmit_interval` (1 s, not in Ceph): the leader sends a collect or begin
  /// again to quorum members that have not answered it. Ceph relies on lossless sessions and
  /// the accept timeout; resending turns a lost or overtaken message into a one-second delay
  /// instead of a new election.
  public var monPaxosRetransmitInterval: UInt64 = 1 * second

  /// `paxos_min` (500): versions always kept after trimming.
  public var paxosMin: UInt64 = 500
  /// `paxos_trim_min` (250): versions beyond `paxos_min` before a trim happens.
  public var paxosTrimMin: UInt64 = 250
  /// `paxos_trim_max` (500): versions removed by one trim at most.
  public var paxosTrimMax: UInt64 = 500
  /// `paxos_max_join_drift` (10): a probing monitor further behind a peer than this syncs
  /// before it joins an election.
  public var paxosMaxJoinDrift: UInt64 = 10
  /// `paxos_propose_interval` (0): how long an idle leader gathers client proposals before it
  /// proposes. 0 proposes at once; proposals arriving while a value is in flight are always
  /// batched into the next value, so batching happens under load without a window.
  public var paxosProposeInterval: UInt64 = 0

  /// `mon_max_proposal_size` (1 MiB): largest client payload accepted.
  public var monMaxProposalSize: Int = 1 << 20
  /// `paxos_max_value_size` (4 MiB): a batch stops growing at this many payload bytes (a single
  /// proposal may reach `monMaxProposalSize`, so a value is at most the larger of the two plus
  /// framing).
  public var paxosMaxValueSize: Int = 4 << 20
  /// `paxos_max_batch_proposals` (4096): client proposals in one value at most.
  public var paxosMaxBatchProposals: Int = 4096
  /// `mon_max_pending_proposals` (16384): client proposals queued at the leader (own and
  /// forwarded); beyond it requests are refused with `busy`.
  public var monMaxPendingProposals: Int = 16384
  /// `mon_max_pending_bytes` (64 MiB): payload bytes queued at the leader at most.
  public var monMaxPendingBytes: Int = 64 << 20
  /// `mon_max_outstanding_requests` (16384): client requests this monitor is waiting on
  /// (its own clients, forwarded or proposed); beyond it requests are refused with `busy`.
  public var monMaxOutstandingRequests: Int = 16384
  /// `mon_client_request_timeout` (30 s): a client request with no outcome by then is answered
  /// `timedOut` (its fate is unknown: it may still commit).
  public var monClientRequestTimeout: UInt64 = 30 * second

  /// `mon_sync_max_payload_size` (1 MiB): bytes of values and keys in one sync chunk or one
  /// message sharing committed values (one value always fits).
  public var monSyncMaxPayloadSize: Int = 1 << 20
  /// `mon_sync_max_payload_keys` (2000): entries in one sync chunk or share message.
  public var monSyncMaxPayloadKeys: Int = 2000
  /// `mon_sync_timeout` (60 s): a sync with no progress for this long is abandoned.
  public var monSyncTimeout: UInt64 = 60 * second
  /// `mon_sync_retry_interval` (2 s): an unanswered sync request is sent again after this.
  public var monSyncRetryInterval: UInt64 = 2 * second
  /// `mon_sync_provider_timeout` (30 s): a provider forgets a sync nobody asked about for this long.
  public var monSyncProviderTimeout: UInt64 = 30 * second
  /// `mon_sync_max_providers` (4): syncs one monitor serves at once.
  public var monSyncMaxProviders: Int = 4

  /// Store prefixes of the services (besides `paxos`) that a full sync copies from the
  /// provider, as Ceph's sync targets. Services keep state that outlives trimming there.
  public var serviceStorePrefixes: [String] = []

  /// Ranks must fit the proposal-number scheme (`pn % 100 == rank`) and `RankSet`.
  public static let maxMonitors = 64

  public init(rank: Int, monitorCount: Int) {
    precondition(monitorCount >= 1 && monitorCount <= Self.maxMonitors, "monitorCount")
    precondition(rank >= 0 && rank < monitorCount, "rank")
    self.rank = rank
    self.monitorCount = monitorCount
  }

  var leaseRenewInterval: UInt64 { UInt64(Double(monLease) * monLeaseRenewIntervalFactor) }
  var leaseAckTimeout: UInt64 { UInt64(Double(monLease) * monLeaseAckTimeoutFactor) }
  var acceptTimeout: UInt64 { UInt64(Double(monLease) * monAcceptTimeoutFactor) }
  /// Majority of the monmap.
  var quorumSize: Int { monitorCount / 2 + 1 }
  /// Largest encoded value a monitor accepts in a message.
  var maxValueBytes: Int { max(paxosMaxValueSize, monMaxProposalSize) + 64 * 1024 }
  /// Bounds for decoding messages from peers (pass to `MonMessage(from:limits:)`).
  public var decodeLimits: MonDecodeLimits {
    MonDecodeLimits(
      maxValueBytes: maxValueBytes, maxProposalBytes: monMaxProposalSize,
      maxBatchProposals: paxosMaxBatchProposals,
      maxEntries: max(monSyncMaxPayloadKeys, 1) + 1,
      maxPayloadBytes: max(monSyncMaxPayloadSize, maxValueBytes) * 2)
  }
}

/// Bounds a decoder enforces on one message, derived from `MonitorConfig`.
public struct MonDecodeLimits: Sendable, Equatable {
  public var maxValueBytes: Int
  public var maxProposalBytes: Int
  public var maxBatchProposals: Int
  public var maxEntries: Int
  public var maxPayloadBytes: Int

  public static let `default` = MonitorConfig(rank: 0, monitorCount: 1).decodeLimits

  public init(
    maxValueBytes: Int, maxProposalBytes: Int, maxBatchProposals: Int, maxEntries: Int,
    maxPayloadBytes: Int
  ) {
    self.maxValueBytes = maxValueBytes
    self.maxProposalBytes = maxProposalBytes
    self.maxBatchProposals = maxBatchProposals
    self.maxEntries = maxEntries
    self.maxPayloadBytes = maxPayloadBytes
  }
}
