import LoligoPlacement

/// Where a PG stands on this OSD in its current interval.
enum PGPhase: Equatable, Sendable {
  /// Not in the acting or up set: keeps what it holds and answers queries.
  case stray
  /// Primary, waiting for the previous interval's transactions to be durable.
  case flushing
  /// Primary, waiting for the infos and logs of the OSDs that may hold the PG.
  case getInfo
  /// Primary: a past interval that may have served writes has no OSD up to answer for it.
  case down(blockedBy: [Int32])
  /// Primary: the OSDs up cannot vouch for every past interval (they lost their data).
  case incomplete
  /// Primary: asked the monitors for a different acting set (pg_temp).
  case waitActingChange
  /// Primary: asked the monitors for up_thru at this interval.
  case waitUpThru
  /// Primary: activation sent, waiting for the members to persist it.
  case activating
  /// Primary serving the interval (client I/O only with `min_size` acting OSDs).
  case active
  /// A member (acting or backfill target) waiting for the primary's activation.
  case replicaWaiting
  /// A member activated for the interval.
  case replicaActive
}

/// The primary's view of one member of the interval (acting replica or backfill target).
struct MemberState: Sendable {
  /// Next sequence number of the ordered channel to it.
  var nextSeq: UInt64 = 1
  /// Ordered messages not yet acknowledged, oldest first, with when they were last sent.
  var unacked: [(seq: UInt64, body: PGMessage.OrderedBody, sentAt: UInt64)] = []
  /// Objects it lacks (as the primary computed at activation, minus pushes acknowledged).
  var missing = MissingSet()
  /// A backfill target (in the up set, not the acting set).
  var isBackfillTarget = false
  /// Backfill: every object up to here has been sent (in channel order).
  var backfillSent: BackfillBound = .complete
  /// Backfill: what the member has acknowledged.
  var backfillAcked: BackfillBound = .complete
  var activated = false
  /// Remote backfill reservation granted.
  var reserved = false
  /// The newest clean epoch it has made durable.
  var cleanAcked: UInt32 = 0
  /// It had no room for data (a write or a push) lately: until then it gets no pushes
  /// (Ceph's recovery_toofull).
  var tooFullUntil: UInt64 = 0
}

/// The replica's side of the primary's ordered channel.
struct ReplicaChannel: Sendable {
  var primary: Int32 = -1
  /// The next sequence number to apply.
  var expected: UInt64 = 1
  /// Sequence numbers applied and durable.
  var committed: UInt64 = 0
  /// Messages that arrived ahead of `expected`.
  var held: [UInt64: PGMessage.OrderedBody] = [:]
}

/// A write the primary has logged and sent, waiting for its local commit and its members.
struct InFlightWrite: Sendable {
  var entry: PGLogEntry
  var tokens: [UInt64]
  var localDone = false
  /// Members that have not yet acknowledged it.
  var pending: Set<Int32>
  /// Members that logged it without the data (no room): they lack the object until a push.
  var refusedBy: Set<Int32> = []
  /// Since when every member has answered but fewer than `min_size` copies hold the data.
  var shortSince: UInt64?
}

/// A recovery operation in flight.
enum RecoveryOp: Sendable, Equatable {
  /// Pulling the object to the primary from `source`.
  case pulling(source: Int32, sentAt: UInt64)
  /// Pushed to these members, waiting for their acknowledgements.
  case pushing(Set<Int32>)
}

/// Backfill progress of an interval.
enum BackfillPhase: Sendable, Equatable {
  case idle
  /// A target is backfillfull: nothing is copied until it has room.
  case tooFull
  case waitLocal
  case waitRemote(askedAt: UInt64)
  case running
  /// Everything sent; `complete` progress sent, waiting for the targets.
  case finishing
  case done
}

/// A peer's answer to the primary's query, as the primary classified it.
struct PeerReport: Sendable {
  var notify: PGNotify
  /// Can be brought up to date from the authoritative log (else needs a backfill).
  var logRecoverable = false
  /// What it lacks against the authoritative log.
  var missing = MissingSet()
}

/// One PG on this OSD: its durable state (info, log, missing set) and what its current
/// interval's role needs in memory.
struct PGState: Sendable {
  let pgid: PGID
  var info: PGInfo
  var log: PGLog
  var missing: MissingSet
  /// The PG has a collection in the store (or one is being created).
  var exists: Bool

  // The interval.
  var interval: UInt32 = 0
  var up: [Int32] = []
  var acting: [Int32] = []
  var primary: Int32 = -1
  var upPrimary: Int32 = -1
  var size = 0
  var minSize = 0
  var phase: PGPhase = .stray
  var enteredPhase: UInt64 = 0

  /// Transactions of this PG submitted and not yet durable.
  var pendingCommits = 0
  /// Queries to answer once those are durable (answers describe only durable state).
  var deferredQueries: [(from: Int32, interval: UInt32)] = []
  /// Objects with a change submitted here and not yet durable: the newest version (nil for
  /// a delete) and how many such changes.
  var uncommitted: [ObjectID: (version: EVersion?, count: Int)] = [:]

  // Primary.
  var queried: Set<Int32> = []
  /// When queries last went out (as a stray holding a copy: when it last notified).
  var lastQuery: UInt64 = 0
  var reports: [Int32: PeerReport] = [:]
  /// Responders (other than members) that hold the PG: purged once it is clean.
  var strays: Set<Int32> = []
  var members: [Int32: MemberState] = [:]
  var activationDurable = false
  var inFlight: [EVersion: InFlightWrite] = [:]
  var waitingForActive: [ClientOp] = []
  var waitingForObject: [ObjectID: [ClientOp]] = [:]
  var recovering: [ObjectID: RecoveryOp] = [:]
  /// Backfill pushes waiting for their targets' acknowledgements.
  var backfillInFlight: [ObjectID: Set<Int32>] = [:]
  /// The log the interval was activated with (set when peering chose it).
  var authority: PGLog?
  /// This OSD's own report against it.
  var myReport: PeerReport?
  var unfound: Set<ObjectID> = []
  /// Objects a client op waits for: recovered first.
  var priority: Set<ObjectID> = []
  /// Peers that answered a pull without the object.
  var lacking: Set<Lacking> = []
  /// OSDs whose copy of an object failed the store's checks (this one included).
  var unreadableAt: [ObjectID: Set<Int32>] = [:]
  var backfill: BackfillPhase = .idle
  /// No backfill reservation is asked for before this time (after a rejection).
  var backfillRetryAt: UInt64 = 0
  /// This copy had no room for a pulled object lately: until then nothing is pulled.
  var pullTooFullUntil: UInt64 = 0
  /// Objects listed for the backfill, not yet sent.
  var backfillQueue: [ObjectID] = []
  var backfillCursor: ObjectID?
  var backfillListedAll = false
  var pgTempAsked: (osds: [Int32], at: UInt64)?
  var clean = false
  var purgeSent = false
  /// Bytes and objects moved by recovery and backfill since start (for throughput).
  var recoveredObjects = 0
  var recoveredBytes = 0

  // Replica.
  var channel = ReplicaChannel()

  init(pgid: PGID, stored: StoredPG?) {
    self.pgid = pgid
    if let stored {
      info = stored.info
      log = PGLog(tail: stored.info.logTail, entries: stored.log)
      missing = stored.missing
      exists = true
      // Writes record their log entry, not the info: the log's head is the last update.
      if log.head > info.lastUpdate { info.lastUpdate = log.head }
      if missing.isEmpty { info.lastComplete = info.lastUpdate }
    } else {
      info = PGInfo(pgid: pgid)
      log = PGLog()
      missing = MissingSet()
      exists = false
    }
  }

  var isPrimary: Bool { phase != .stray && phase != .replicaWaiting && phase != .replicaActive }

  var isPeered: Bool { phase == .active }

  /// Client I/O is served: active with `min_size` acting OSDs.
  var servesIO: Bool { phase == .active && activationDurable && acting.count >= minSize }

  /// The object's current version as the primary sees it, counting changes not yet durable.
  func currentVersion(_ object: ObjectID, _ env: PeeringEnvironment) -> EVersion? {
    if let pending = uncommitted[object] { return pending.version }
    return env.store.objectVersion(pgid, object)
  }

  mutating func noteSubmitted(_ object: ObjectID, version: EVersion?) {
    let count = uncommitted[object]?.count ?? 0
    uncommitted[object] = (version, count + 1)
  }

  mutating func noteDurable(_ object: ObjectID) {
    guard let pending = uncommitted[object] else { return }
    if pending.count <= 1 {
      uncommitted[object] = nil
    } else {
      uncommitted[object] = (pending.version, pending.count - 1)
    }
  }

  /// Submits `transaction`, counting it until durable.
  mutating func submit(
    _ transaction: PGTransaction, _ action: CommitAction, _ env: inout PeeringEnvironment
  ) {
    var transaction = transaction
    if !exists {
      var created = PGTransaction()
      created.append(.create(pgid))
      for operation in transaction.operations { created.append(operation) }
      transaction = created
      exists = true
    }
    pendingCommits += 1
    env.submit(transaction, for: pgid, action)
  }

  /// Sends an ordered message to a member, remembering it until acknowledged.
  mutating func sendOrdered(
    _ member: Int32, _ body: PGMessage.OrderedBody, _ env: inout PeeringEnvironment
  ) {
    // In place: copying the member out would copy its unacknowledged messages on write.
    guard let seq = members[member]?.nextSeq else { return }
    members[member]!.nextSeq += 1
    members[member]!.unacked.append((seq, body, env.now))
    env.send(member, pgid, interval: interval, .ordered(seq: seq, body))
  }

  /// Records `info` in a transaction.
  mutating func persistInfo(_ env: inout PeeringEnvironment) {
    var transaction = PGTransaction()
    transaction.append(.putInfo(info))
    submit(transaction, .none, &env)
  }

  /// Log size to keep: short when the PG is clean, long while some copy may need it.
  func logTarget(_ config: PeeringConfig) -> Int {
    clean ? config.minLogEntries : config.maxLogEntries
  }
}
