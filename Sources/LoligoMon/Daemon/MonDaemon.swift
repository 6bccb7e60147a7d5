import Foundation
import LoligoConsensus
import LoligoCore
import LoligoDaemon
import LoligoKV
import LoligoMessages
import LoligoMessenger
import LoligoWire
import NIOCore
import NIOPosix

/// A running monitor: wires the deterministic `MonitorCore` to the messenger, the RocksDB
/// store, the services and the clock. Every core step, store write and service apply happens
/// on one dedicated thread (the core loop), in the order the core's outputs say; the messenger's
/// threads only hand messages over.
// state confined to the core loop (see above), the rest immutable
public final class MonDaemon: Dispatcher, @unchecked Sendable {
  public let name: String
  public let rank: Int
  let monmap: MonMap
  let config: Config
  let messenger: Messenger
  let coreGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  var coreLoop: any EventLoop { coreGroup.next() }
  let store: RocksMonStore
  let services: MonServices
  let counters = PerfCounters()

  // Core-loop state (the +Commands and +Subscriptions extensions share it).
  private(set) var core: MonitorCore
  private(set) var status: MonStatus
  private var tick: Scheduled<Void>?
  var waiting: [MonServices.ClientKey: Waiting] = [:]
  var results: [MonServices.ClientKey: (version: UInt64, result: CommandResult)] = [:]
  var subscribers: [ObjectIdentifier: Subscriber] = [:]
  var internalTid: UInt64 = 0
  /// The PGs as their primaries report them; kept while this monitor leads (+PGStats).
  var pgMap: PGMap
  /// The last `osd trim` this leader proposed, and when (not proposed again meanwhile).
  var lastTrimProposal: (to: UInt32, at: Double)?
  /// The last full states (and ratios) this leader proposed, and when (not again meanwhile).
  var lastFullProposal: (fields: String, at: Double)?
  private(set) var stopped = false

  /// Creates a monitor's store from the cluster's monitor map (`loligo-mon --mkfs`).
  public static func mkfs(path: String, monmap: MonMap, config: Config? = nil) throws {
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let db: RocksDB
    do {
      db = try RocksDB(
        path: path + "/store.db", options: .init(createIfMissing: true, errorIfExists: true))
    } catch {
      throw DaemonError.store("\(error) (a monitor store exists already?)")
    }
    defer { db.close() }
    var ratios = FullRatios()
    if let config {
      ratios = FullRatios(
        full: config.double(.monOSDFullRatio),
        backfillfull: config.double(.monOSDBackfillfullRatio),
        nearfull: config.double(.monOSDNearfullRatio))
    }
    try RocksMonStore(db: db).apply(MonServices.mkfs(monmap: monmap, ratios: ratios))
  }

  /// Opens the store under `path` (made by `mkfs`).
  public init(name: String, config: Config, dataPath path: String) throws {
    self.name = name
    self.config = config
    let db: RocksDB
    do {
      db = try RocksDB(path: path + "/store.db")
    } catch {
      throw DaemonError.store("\(error) (create it with loligo-mon --id \(name) --mkfs)")
    }
    store = RocksMonStore(db: db)
    services = try MonServices(store: store)
    services.failsafeRatio = config.double(.osdFailsafeFullRatio)
    monmap = services.monmap
    guard let rank = monmap.rank(of: name) else {
      throw DaemonError.usage(
        "mon.\(name) is not in the monitor map (\(monmap.monitors.map(\.name)))")
    }
    self.rank = rank
    guard config.string(.fsid).isEmpty || UUID(uuidString: config.string(.fsid)) == monmap.fsid
    else {
      throw DaemonError.usage(
        "the store belongs to cluster \(monmap.fsid), the config names \(config.string(.fsid))")
    }
    var coreConfig = MonitorConfig(rank: rank, monitorCount: monmap.count)
    coreConfig.monLease = UInt64(config.double(.monLease) * 1e9)
    coreConfig.monElectionTimeout = UInt64(config.double(.monElectionTimeout) * 1e9)
    coreConfig.serviceStorePrefixes = Array(MonServices.storePrefixes).sorted()
    core = MonitorCore(config: coreConfig, store: store)
    status = core.status
    pgMap = PGMap(
      now: Self.seconds(), staleAfter: config.double(.monPGStatsTimeout),
      map: services.osdmap.map)
    messenger = try Messenger(
      name: EntityName(.mon, Int64(rank)), config: config, policy: .statelessServer,
      nonce: UInt32(getpid()))
    messenger.setPolicy(.lossyClient, for: .mon)
    messenger.setDispatcher(self)
  }

  static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
  /// The monotonic clock in seconds (the PG map's).
  static func seconds() -> Double { Double(now()) / 1e9 }

  public func start() throws {
    _ = counters.counter("mon", "elections")  // shown from the start, at 0
    try messenger.bind(monmap.monitors[rank].addr)
    coreLoop.execute { self.step(.start) }
    // The leader marks OSDs out that stayed down too long and trims the OSD map history.
    coreLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
      self?.leaderTick()
    }
  }

  public func stop() {
    let done = coreLoop.submit {
      self.stopped = true
      self.tick?.cancel()
    }
    try? done.wait()
    messenger.shutdown()
    try? coreGroup.syncShutdownGracefully()
    store.db.close()
  }

  // MARK: the core

  func step(_ input: MonInput) {
    guard !stopped else { return }
    let outputs = core.step(input, now: Self.now())
    if isLeaderBegin(outputs) {
      // The leader's begin: let the peons start writing their acceptance while we write ours.
      // Safe because nothing the peons do depends on our copy being durable, and this thread
      // handles their answers only after our write has returned, so our acceptance is never
      // counted before it is on disk.
      for output in outputs { if case .send = output { perform(output) } }
      for output in outputs {
        if case .send = output { continue }
        perform(output)
      }
    } else {
      for output in outputs { perform(output) }
    }
    scheduleTick()
  }

  private func scheduleTick() {
    tick?.cancel()
    guard let deadline = core.nextDeadline else { return }
    let delay = Int64(deadline) - Int64(Self.now())
    tick = coreLoop.scheduleTask(in: .nanoseconds(max(delay, 0))) { [weak self] in
      self?.step(.tick)
    }
  }

  private func perform(_ output: MonOutput) {
    switch output {
    case .store(let transaction):
      persist(transaction, sync: Self.needsSync(transaction))
    case .send(let to, let message):
      guard to != rank, monmap.monitors.indices.contains(to) else { return }
      let connection = messenger.connect(to: monmap.monitors[to].addr)
      connection.send(Message(type: MessageType.monPeer, front: message.encoded()))
    case .committed(let value):
      let applied = services.apply(value)
      // Not synced: the next Paxos write syncs the log up to here, and a lost tail is
      // replayed from the kept versions (the applied version travels with the state).
      if !applied.transaction.isEmpty { persist(applied.transaction, sync: false) }
      for (key, result) in applied.results where waiting[key] != nil {
        results[key] = (value.version, result)
      }
      if applied.osdmapIncremental != nil {
        publishOSDMap()
        pgMap.observe(services.osdmap.map, now: Self.seconds())
      }
      counters.counter("mon", "committed_versions").add()
    case .storeReplaced:
      do {
        try services.reload(from: store)
      } catch {
        fatal("cannot reload services after a sync: \(error)")
      }
    case .reply(let reply):
      answer(reply)
    case .status(let newStatus):
      if newStatus.role != status.role || newStatus.leader != status.leader {
        Log.shared.log("mon", 1) {
          "mon.\(self.name): \(newStatus.role) (election epoch \(newStatus.electionEpoch), leader "
            + "\(newStatus.leader.flatMap { self.monmap.name(ofRank: $0) } ?? "-"), quorum \(newStatus.quorum))"
        }
      }
      // An election this monitor won or lost ends in a quorum with a new epoch.
      if [.leader, .peon].contains(newStatus.role)
        && newStatus.electionEpoch != status.electionEpoch
      {
        counters.counter("mon", "elections").add()
      }
      if (newStatus.role == .leader) != (status.role == .leader) {
        // A leader starts from nothing: what another leader took, or what this one took
        // before an election, may be old.
        resetPGMap()
      }
      status = newStatus
    case .lease:
      break
    }
  }

  /// A step whose store write records a value the leader is proposing (`pending_v`) and whose
  /// other outputs only send or report status.
  private func isLeaderBegin(_ outputs: [MonOutput]) -> Bool {
    guard status.role == .leader, case .store(let transaction)? = outputs.first,
      transaction.ops.contains(where: {
        if case .put(MonStoreKeys.paxos, MonStoreKeys.pendingVersion, _) = $0 { return true }
        return false
      })
    else { return false }
    return outputs.dropFirst().allSatisfy {
      switch $0 {
      case .send, .status, .lease: return true
      default: return false
      }
    }
  }

  /// Whether a core transaction must be synced before what follows it. A transaction that
  /// only records a commit (last/first committed, committed values, trimming) need not be:
  /// the value is already durably accepted by a majority, so a monitor that loses the record
  /// in a power failure learns the decision again in recovery, and a later synced write
  /// flushes the log up to it in order. Everything else — promises, accepted values, election
  /// epochs, sync state — is synced, as Paxos requires.
  static func needsSync(_ transaction: MonStoreTransaction) -> Bool {
    for op in transaction.ops {
      switch op {
      case .put(let prefix, let key, _):
        guard prefix == MonStoreKeys.paxos,
          key == MonStoreKeys.lastCommitted || key == MonStoreKeys.firstCommitted
            || MonStoreKeys.parseVersion(key) != nil
        else { return true }
      case .delete(let prefix, let key):
        guard prefix == MonStoreKeys.paxos, MonStoreKeys.parseVersion(key) != nil else {
          return true
        }
      case .deletePrefix:
        return true
      }
    }
    return false
  }

  private func persist(_ transaction: MonStoreTransaction, sync: Bool = true) {
    do {
      try store.apply(transaction, sync: sync)
    } catch {
      fatal("store write failed: \(error)")
    }
  }

  private func fatal(_ message: String) -> Never {
    Log.shared.error("mon", "mon.\(name): \(message); stopping")
    exit(1)
  }

  // MARK: Dispatcher (messenger threads → core loop)

  public func dispatch(_ message: Message) {
    switch message.type {
    case MessageType.monPeer:
      guard let source = message.source, source.type == .mon,
        monmap.monitors.indices.contains(Int(source.num))
      else { return }
      var front = message.front
      guard let decoded = try? MonMessage(from: &front) else {
        Log.shared.error("mon", "mon.\(name): undecodable message from \(source)")
        return
      }
      coreLoop.execute { self.step(.message(from: Int(source.num), decoded)) }
    case MessageType.monCommand:
      coreLoop.execute { self.handleCommand(message) }
    case MessageType.monSubscribe:
      coreLoop.execute { self.handleSubscribe(message) }
    default:
      break
    }
  }

  public func connectionReset(_ connection: Connection, reason: String) {
    coreLoop.execute { self.subscribers[ObjectIdentifier(connection)] = nil }
  }

  /// What `loligo daemon mon.X COMMAND` can ask.
  public func registerAdminCommands(_ socket: AdminSocket) {
    socket.register("perf dump", help: "performance counters") { [counters] _ in counters.dump() }
    socket.register("mon_status", help: "role, quorum, epochs") { [weak self] _ in
      guard let self else { return [:] }
      let box = try self.coreLoop.submit { () -> JSONBox in
        JSONBox([
          "name": self.name, "rank": self.rank, "state": self.status.role.rawValue,
          "election_epoch": self.status.electionEpoch,
          "quorum": Array(self.status.quorum), "leader": self.status.leader ?? -1,
          "first_committed": self.status.firstCommitted,
          "last_committed": self.status.lastCommitted,
          "osdmap_epoch": Int(self.services.osdmap.map.epoch),
        ])
      }.wait()
      return box.value
    }
    socket.register("config-key dump", help: "this monitor's applied config-key values") {
      [weak self] _ in
      guard let self else { return [:] }
      return try self.coreLoop.submit { () -> JSONBox in
        JSONBox(
          Dictionary(
            uniqueKeysWithValues: self.services.configKeys.map {
              ($0.key, String(buffer: $0.value))
            }))
      }.wait().value
    }
    socket.register("config show", help: "effective configuration") { [config] _ in
      Dictionary(uniqueKeysWithValues: config.dump().map { ($0.option.name, $0.value.description) })
    }
  }
}

/// Carries a JSON-able value across threads (built and read once).
struct JSONBox: @unchecked Sendable {  // built on the core loop, then only read by the one waiter
  let value: Any
  init(_ value: Any) { self.value = value }
}
