import LoligoPlacement
import NIOCore

/// Bounds and pacing of peering and recovery, with Ceph's option names where Ceph has one.
public struct PeeringConfig: Sendable {
  /// `osd_min_pg_log_entries`: entries kept when the PG is clean.
  public var minLogEntries: Int
  /// `osd_max_pg_log_entries`: entries kept at most while it is not (longer logs let a returning
  /// OSD recover from the log instead of being backfilled).
  public var maxLogEntries: Int
  /// `osd_recovery_max_active`: object recoveries (pulls and pushes) in flight per OSD.
  public var recoveryMaxActive: Int
  /// `osd_max_backfills`: backfills this OSD takes part in at once, as primary and as target.
  public var maxBackfills: Int
  /// `osd_recovery_sleep`: pause between recovery operations, nanoseconds.
  public var recoverySleep: UInt64
  /// `osd_backfill_scan_max`: objects listed at a time by a backfill.
  public var backfillScanMax: Int
  /// How long a query, an unacknowledged ordered message, a pull, a reservation or a request
  /// to the monitors waits before it is sent again, nanoseconds.
  public var retryInterval: UInt64
  /// How long a client op may wait for its PG to become active or its object to be
  /// recovered before it is dropped (the client times out and resends), nanoseconds.
  public var opQueueTimeout: UInt64
  public var decodeLimits: PGDecodeLimits

  public init(
    minLogEntries: Int = 250, maxLogEntries: Int = 10_000, recoveryMaxActive: Int = 3,
    maxBackfills: Int = 1, recoverySleep: UInt64 = 0, backfillScanMax: Int = 512,
    retryInterval: UInt64 = 1_000_000_000, opQueueTimeout: UInt64 = 60_000_000_000,
    decodeLimits: PGDecodeLimits = .default
  ) {
    self.minLogEntries = minLogEntries
    self.maxLogEntries = maxLogEntries
    self.recoveryMaxActive = recoveryMaxActive
    self.maxBackfills = maxBackfills
    self.recoverySleep = recoverySleep
    self.backfillScanMax = backfillScanMax
    self.retryInterval = retryInterval
    self.opQueueTimeout = opQueueTimeout
    self.decodeLimits = decodeLimits
  }
}

/// A client request the daemon has decoded, checked and routed to this OSD as the PG's
/// acting primary. `token` is the daemon's handle for answering it.
public struct ClientOp: Sendable {
  public enum Kind: Sendable {
    /// Reads, stats, attribute and omap reads of `object`.
    case read
    /// A change to `object`.
    case write(PGMutation)
    /// Lists the PG's objects.
    case list
  }

  public var token: UInt64
  public var pgid: PGID
  public var reqid: RequestID
  public var object: ObjectID
  public var kind: Kind
  /// When the core first saw it (set by the core).
  var arrived: UInt64 = 0

  public init(token: UInt64, pgid: PGID, reqid: RequestID, object: ObjectID, kind: Kind) {
    self.token = token
    self.pgid = pgid
    self.reqid = reqid
    self.object = object
    self.kind = kind
  }

  var isWrite: Bool {
    if case .write = kind { return true }
    return false
  }
}

/// What the daemon feeds `PeeringCore.step`.
public enum PeeringInput: Sendable {
  /// First input: load the PGs the store holds.
  case start
  /// New OSD maps, oldest first, each the epoch after the previous one when possible.
  case maps([OSDMap])
  case message(from: Int32, PGMessage)
  case clientOp(ClientOp)
  /// The transaction of `.store(_, token)` is durable.
  case committed(token: UInt64)
  /// Time passed: retries, expiries, recovery pacing.
  case tick
  /// A deep scrub found these copies wrong (by OSD): recover them from a good one (Ceph's
  /// `pg repair`). Only on the PG's acting primary.
  case repair(PGID, [Int32: [ObjectID]])
  /// An op the core let run (`.execute`) found this OSD's copy of its object unreadable: the
  /// core recovers it from a good copy and runs the op again (Ceph's repair on read), or
  /// answers EIO when no copy is good.
  case unreadable(ClientOp)
}

/// What the daemon must do after a step, in order.
public enum PeeringOutput: Sendable {
  /// Apply atomically, after every transaction output before it; report `.committed(token)`
  /// once durable.
  case store(PGTransaction, token: UInt64)
  case send(to: Int32, PGMessage)
  /// Answer the client op `token` with `result` (a negative errno, or 0).
  case reply(token: UInt64, result: Int32)
  /// Run the read or list op `token` against the store now and answer it.
  case execute(token: UInt64)
  /// Forget op `token` without answering: its PG moved on; the client resends it.
  case discard(token: UInt64)
  /// Ask the monitors to raise this OSD's `up_thru` to at least this epoch.
  case requestUpThru(UInt32)
  /// Ask the monitors to set the PG's pg_temp (empty: remove it).
  case requestPGTemp(PGID, [Int32])
}
