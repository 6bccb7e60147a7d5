import LoligoConsensus
import LoligoCore
import LoligoMon
import NIOCore

/// How a simulated run is shaped; derived from the seed by `SimScenario(seed:)`.
struct SimScenario: CustomStringConvertible {
  var monitors = 3
  /// Faults happen in [0, faultDuration); then everything heals.
  var faultDuration: UInt64 = 10 * MonitorConfig.second
  var faults = SimFaults.none
  var partitions = false
  var crashes = false
  /// Mean gap between client requests (each at a random monitor).
  var clientInterval: UInt64 = 200 * MonitorConfig.millisecond
  /// Quorum of everyone and a new commit within this long after the heal.
  var recoveryBound: UInt64 = 90 * MonitorConfig.second
  var encodeMessages = true
  var proposeInterval: UInt64 = 0
  var clockSkew = true
  /// Chance that a monitor crashes part-way through a step that sends a begin, accept,
  /// commit, victory or sync chunk (the windows where crashes matter most).
  var criticalCrashRate = 0.0
  var criticalCrashLimit = 12

  /// One monitor cut off for the whole fault window while clients keep the others busy, so
  /// it has to sync (recent or full) to come back.
  var laggard = false

  static let mixes = ["network", "partitions", "crashes", "all", "laggard"]

  init() {}

  /// Even seeds run 3 monitors, odd seeds 5; the fault mix cycles with the seed.
  init(seed: UInt64) {
    var rng = SimRandom(seed: seed &* 31 &+ 7)
    monitors = seed % 2 == 0 ? 3 : 5
    let mix = Int((seed / 2) % UInt64(Self.mixes.count))
    faultDuration = rng.uniform(5...25) * MonitorConfig.second
    let network = mix == 0 || mix == 3
    faults.dropRate = network ? rng.pick([0.01, 0.05, 0.15, 0.3]) : 0.0
    faults.duplicateRate = network ? rng.pick([0.0, 0.05, 0.2]) : 0.0
    faults.longDelayRate = network ? rng.pick([0.0, 0.02, 0.1]) : rng.pick([0.0, 0.01])
    partitions = mix == 1 || mix == 3
    crashes = mix == 2 || mix == 3
    criticalCrashRate = crashes ? rng.pick([0.05, 0.2, 0.5]) : 0.0
    laggard = mix == 4
    clientInterval = rng.pick([50, 150, 400]) * MonitorConfig.millisecond
    if laggard {
      faults.dropRate = rng.pick([0.0, 0.02])
      clientInterval = rng.pick([20, 40, 80]) * MonitorConfig.millisecond
      criticalCrashRate = rng.pick([0.0, 0.02])
    }
    proposeInterval = rng.pick([0, 0, MonitorConfig.millisecond, 20 * MonitorConfig.millisecond])
    encodeMessages = rng.chance(0.5)
    faults.fifoLinks = rng.chance(0.5)
  }

  var description: String {
    "\(monitors) mons, faults \(faultDuration / MonitorConfig.millisecond) ms"
      + " drop \(faults.dropRate) dup \(faults.duplicateRate) long \(faults.longDelayRate)"
      + " fifo \(faults.fifoLinks) partitions \(partitions) crashes \(crashes)"
      + " critical crashes \(criticalCrashRate) laggard \(laggard)"
      + " clients every \(clientInterval / MonitorConfig.millisecond) ms"
      + " propose_interval \(proposeInterval / MonitorConfig.millisecond) ms"
  }
}

/// One trace entry, formatted only when a run fails.
enum SimTrace: CustomStringConvertible {
  case deliver(UInt64, from: Int, to: Int, MonMessage)
  case tick(UInt64, Int)
  case client(UInt64, Int, UInt64)
  case crash(UInt64, Int, midStep: Bool)
  case restart(UInt64, Int)
  case status(UInt64, Int, MonStatus)
  case commit(UInt64, Int, UInt64, replay: Bool)
  case replaced(UInt64, Int, UInt64, UInt64)
  case reply(UInt64, Int, ClientReply)
  case partition(UInt64, [Int])
  case note(UInt64, String)

  var description: String {
    func t(_ time: UInt64) -> String {
      let ms = time / MonitorConfig.millisecond
      return "\(ms / 1000).\(String(ms % 1000 + 1000).dropFirst())s"
    }
    switch self {
    case .deliver(let time, let from, let to, let message):
      return "\(t(time)) mon.\(from) -> mon.\(to) \(Self.describe(message))"
    case .tick(let time, let node): return "\(t(time)) mon.\(node) tick"
    case .client(let time, let node, let id): return "\(t(time)) client \(id) -> mon.\(node)"
    case .crash(let time, let node, let mid):
      return "\(t(time)) mon.\(node) CRASH\(mid ? " (mid-step)" : "")"
    case .restart(let time, let node): return "\(t(time)) mon.\(node) restart"
    case .status(let time, let node, let s):
      return
        "\(t(time)) mon.\(node) status \(s.role.rawValue) e\(s.electionEpoch) leader \(s.leader.map(String.init) ?? "-") quorum \(s.quorum) lc \(s.lastCommitted)"
    case .commit(let time, let node, let version, let replay):
      return "\(t(time)) mon.\(node) committed v\(version)\(replay ? " (replay)" : "")"
    case .replaced(let time, let node, let first, let last):
      return "\(t(time)) mon.\(node) store replaced by sync \(first)...\(last)"
    case .reply(let time, let node, let reply):
      return "\(t(time)) mon.\(node) reply client \(reply.clientId) \(reply.result)"
    case .partition(let time, let groups): return "\(t(time)) partition groups \(groups)"
    case .note(let time, let text): return "\(t(time)) \(text)"
    }
  }

  static func describe(_ message: MonMessage) -> String {
    switch message {
    case .electionPropose(let m): return "propose e\(m.epoch)"
    case .electionAck(let m): return "ack e\(m.epoch)"
    case .electionVictory(let m): return "victory e\(m.epoch) \(m.quorum)"
    case .paxosCollect(let m): return "collect e\(m.epoch) pn \(m.pn) lc \(m.lastCommitted)"
    case .paxosLast(let m):
      return
        "last e\(m.epoch) pn \(m.pn) lc \(m.lastCommitted) values \(m.values.count) uncommitted_pn \(m.uncommittedPN)"
    case .paxosBegin(let m): return "begin e\(m.epoch) pn \(m.pn) lc \(m.lastCommitted)"
    case .paxosAccept(let m): return "accept e\(m.epoch) pn \(m.pn) lc \(m.lastCommitted)"
    case .paxosCommit(let m):
      return
        "commit e\(m.epoch) pn \(m.pn) lc \(m.lastCommitted) values \(m.values.count) lease \(m.leaseDuration > 0)"
    case .paxosLease(let m): return "lease e\(m.epoch) lc \(m.lastCommitted)"
    case .paxosLeaseAck(let m): return "lease_ack e\(m.epoch) lc \(m.lastCommitted)"
    case .probe(let m): return "probe lc \(m.lastCommitted)"
    case .probeReply(let m):
      return
        "probe_reply quorum \(m.quorum) e\(m.epoch) fc \(m.firstCommitted) lc \(m.lastCommitted)"
    case .syncStart(let m): return "sync_start full \(m.full) lc \(m.lastCommitted)"
    case .syncGetChunk(let m): return "sync_get_chunk \(m.seq)"
    case .syncChunk(let m):
      return
        "sync_chunk \(m.seq) entries \(m.entries.count) values \(m.values.count) done \(m.snapshotDone) last \(m.isLast)"
    case .syncAbort(let m): return "sync_abort \(m.reason)"
    case .clientForward(let m): return "forward client \(m.clientId)"
    case .clientForwardReply(let m): return "forward_reply client \(m.clientId) \(m.error)"
    }
  }
}

struct SimRunResult {
  var seed: UInt64
  var violations: [String]
  var trace: [String]
  var events = 0
  var commits: UInt64 = 0
  var recoveryTime: UInt64?
  var messagesSent = 0
  var fullSyncs = 0
  var recentSyncs = 0
  var epochs = 0
  var committedReplies = 0

  var passed: Bool { violations.isEmpty }

  var report: String {
    """
    simulation seed \(seed) FAILED (reproduce: LOLIGO_SIM_SEED=\(seed) swift test \
    --disable-swift-testing --filter SimulationTests/testReproduceSeed)
    \(violations.prefix(5).joined(separator: "\n"))
    last events:
    \(trace.joined(separator: "\n"))
    """
  }
}

/// A simulated cluster: monitors with their stores, a virtual clock, a lossy network, crashes,
/// clients, and the invariant checks. Everything is driven by one seeded generator, so a seed
/// replays exactly.
final class SimCluster {
  static let servicePrefix = "svc"

  struct Node {
    var core: MonitorCore?
    let store = InMemoryMonStore()
    var offset: UInt64
    var ppm: UInt64
    var tickGeneration = 0
    var scheduledTick: UInt64?
    var crashNextStep = false
    var serviceVersion: UInt64 = 0
    var serviceHash: UInt64 = 0
    var status: MonStatus?
    /// Last version this incarnation emitted (nil right after start or a store replacement).
    var lastEmitted: UInt64?
  }

  let seed: UInt64
  let scenario: SimScenario
  var rng: SimRandom
  var queue = SimEventQueue()
  var network: SimNetwork
  var now: UInt64 = 0
  var nodes: [Node] = []
  var checker = SimChecker()
  var configure: (inout MonitorConfig) -> Void = { _ in }
  var eventBudget = 3_000_000
  /// Scenario tests: return true to drop a message (from, to, message).
  var dropFilter: ((Int, Int, MonMessage) -> Bool)?
  /// Every output seen, per monitor, for scenario assertions (only when `recordOutputs`).
  var recordOutputs = false
  var outputsSeen: [[MonOutput]] = []
  var fullSyncs = 0
  var recentSyncs = 0
  var storeReplacements = 0

  private var trace: [SimTrace] = []
  private var traceHead = 0
  let traceLimit = 300
  var verbose = false
  /// Keep the formatted trace in the result even when the run passes (determinism checks).
  var keepTrace = false

  private var nextClientId: UInt64 = 1
  private var clientsStopped = false
  private var healedAt: UInt64?
  private var recoveredAt: UInt64?
  private var firstPostHealRequest: UInt64 = .max
  private var formedEpoch: UInt64?
  private var quiesceChecks = 0
  private var criticalCrashes = 0

  static func isCritical(_ output: MonOutput) -> Bool {
    guard case .send(_, let message) = output else { return false }
    switch message {
    case .paxosBegin, .paxosAccept, .paxosCommit, .electionVictory, .syncChunk, .paxosLast:
      return true
    default:
      return false
    }
  }
  private var finished = false
  private var events = 0

  init(seed: UInt64, scenario: SimScenario) {
    self.seed = seed
    self.scenario = scenario
    rng = SimRandom(seed: seed)
    network = SimNetwork(nodes: scenario.monitors, encode: scenario.encodeMessages)
    network.faults = scenario.faults
    for _ in 0..<scenario.monitors {
      let offset = scenario.clockSkew ? rng.uniform(0...1_000) * MonitorConfig.second : 0
      let ppm = scenario.clockSkew ? rng.uniform(0...2_000) : 0
      nodes.append(Node(offset: offset, ppm: ppm))
    }
  }

  func monitorConfig(_ rank: Int) -> MonitorConfig {
    var config = MonitorConfig(rank: rank, monitorCount: scenario.monitors)
    // Small windows so trimming, full syncs and multi-chunk copies happen in short runs.
    config.paxosMin = 20
    config.paxosTrimMin = 10
    config.paxosTrimMax = 15
    config.paxosMaxJoinDrift = 5
    config.monSyncMaxPayloadSize = 600
    config.monSyncMaxPayloadKeys = 8
    config.monSyncRetryInterval = MonitorConfig.second
    config.paxosProposeInterval = scenario.proposeInterval
    config.serviceStorePrefixes = [Self.servicePrefix]
    configure(&config)
    return config
  }

  // MARK: clocks

  func localTime(_ node: Int) -> UInt64 {
    let n = nodes[node]
    return n.offset + now + now / 1_000_000 * n.ppm
  }

  /// First global time at which the node's clock reads at least `local`.
  func globalTime(_ node: Int, local: UInt64) -> UInt64 {
    let n = nodes[node]
    guard local > n.offset else { return now }
    let elapsed = local - n.offset
    // The local clock never runs slow, so `elapsed` is enough; search for the first instant.
    var low = min(now, elapsed)
    var high = max(elapsed, now)
    while low < high {
      let mid = low + (high - low) / 2
      if mid + mid / 1_000_000 * n.ppm >= elapsed { high = mid } else { low = mid + 1 }
    }
    return max(low, now)
  }

  // MARK: tracing

  func record(_ entry: SimTrace) {
    if verbose { print(entry) }
    if trace.count < traceLimit {
      trace.append(entry)
    } else {
      trace[traceHead] = entry
      traceHead = (traceHead + 1) % traceLimit
    }
  }

  var traceLines: [String] {
    (Array(trace[traceHead...]) + Array(trace[..<traceHead])).map(\.description)
  }

  // MARK: driving

  /// Starts every monitor, schedules the faults and runs until the post-heal checks finish.
  func run() -> SimRunResult {
    for node in 0..<nodes.count { restart(node) }
    scheduleFaults()
    queue.push(rng.uniform(0...scenario.clientInterval), .client(node: 0))
    queue.push(scenario.faultDuration, .heal)
    while !finished, let (time, event) = queue.pop() {
      now = max(now, time)
      events += 1
      if events > eventBudget {
        checker.fail("event budget exhausted at \(now / MonitorConfig.millisecond) ms (livelock?)")
        break
      }
      handle(event)
      if !checker.violations.isEmpty { break }
    }
    if !finished && checker.violations.isEmpty {
      checker.fail("simulation ran out of events before the final check")
    }
    return SimRunResult(
      seed: seed, violations: checker.violations,
      trace: checker.violations.isEmpty && !keepTrace ? [] : traceLines, events: events,
      commits: checker.highestCommitted,
      recoveryTime: recoveredAt.flatMap { r in healedAt.map { r - $0 } },
      messagesSent: network.sent, fullSyncs: storeReplacements, recentSyncs: recentSyncs,
      epochs: checker.leaders.count, committedReplies: checker.committedReplies)
  }

  /// Scenario tests: start every monitor, with no fault schedule and no automatic clients.
  func startAll() {
    for node in 0..<nodes.count { restart(node) }
  }

  func status(_ node: Int) -> MonStatus? { nodes[node].core?.status }

  /// Replies seen so far, by client id.
  var replies: [UInt64: ClientResult] {
    var result: [UInt64: ClientResult] = [:]
    for (index, outputs) in outputsSeen.enumerated() {
      _ = index
      for case .reply(let reply) in outputs { result[reply.clientId] = reply.result }
    }
    return result
  }

  /// Delivers `message` to `node` now, as if `from` had sent it (old or repeated messages).
  func inject(from: Int, to node: Int, _ message: MonMessage) {
    record(.deliver(now, from: from, to: node, message))
    step(node, .message(from: from, message))
  }

  /// Runs until `until` (virtual) without the fault schedule; for scenario tests.
  func runFor(_ duration: UInt64) {
    let end = now + duration
    while let (time, event) = queue.pop() {
      if time > end {
        queue.push(time, event)
        break
      }
      now = max(now, time)
      handle(event)
    }
    now = max(now, end)
  }

  private func handle(_ event: SimEvent) {
    switch event {
    case .deliver(let from, let to, let payload):
      guard nodes[to].core != nil else { return }
      let message: MonMessage
      switch payload {
      case .value(let value): message = value
      case .bytes(var bytes):
        do {
          message = try MonMessage(from: &bytes, limits: monitorConfig(to).decodeLimits)
        } catch {
          checker.fail("mon.\(to) could not decode a message from mon.\(from): \(error)")
          return
        }
      }
      record(.deliver(now, from: from, to: to, message))
      step(to, .message(from: from, message))
    case .tick(let node, let generation):
      guard nodes[node].core != nil, nodes[node].tickGeneration == generation else { return }
      nodes[node].scheduledTick = nil
      step(node, .tick)
    case .client(let node):
      if !clientsStopped {
        submitClient(at: node)
        let gap = rng.uniform(1...(2 * scenario.clientInterval))
        queue.push(now + gap, .client(node: Int(rng.next() % UInt64(nodes.count))))
      }
    case .crash(var node, let midStep, let down):
      if node < 0 {  // the current leader, if any
        node = nodes.indices.first { nodes[$0].core?.status.role == .leader } ?? 0
      }
      guard nodes[node].core != nil else { return }
      if now + down < scenario.faultDuration { queue.push(now + down, .restart(node: node)) }
      if midStep {
        nodes[node].crashNextStep = true
      } else {
        crash(node)
      }
    case .restart(let node):
      if nodes[node].core == nil { restart(node) }
    case .partition(let groups):
      network.groups = groups
      record(.partition(now, groups))
    case .unpartition:
      network.groups = Array(repeating: 0, count: nodes.count)
      record(.partition(now, network.groups))
    case .cutLink(let from, let to, let cut):
      let link = from * nodes.count + to
      if cut { network.cutLinks.insert(link) } else { network.cutLinks.remove(link) }
      record(.note(now, "link mon.\(from) -> mon.\(to) \(cut ? "cut" : "restored")"))
    case .heal:
      heal()
    case .livenessProbe:
      livenessProbe()
    }
  }

  @discardableResult
  func submitClient(at node: Int) -> UInt64 {
    guard nodes[node].core != nil else { return 0 }
    let id = nextClientId
    nextClientId += 1
    if formedEpoch != nil { firstPostHealRequest = min(firstPostHealRequest, id) }
    var payload = ByteBufferAllocator().buffer(capacity: 48)
    payload.writeInteger(id, endianness: .little)
    for _ in 0..<rng.uniform(0...4) { payload.writeInteger(rng.next()) }
    record(.client(now, node, id))
    step(node, .client(ClientRequest(clientId: id, tid: id &* 7, payload: payload)))
    return id
  }

  func step(_ node: Int, _ input: MonInput) {
    guard var core = nodes[node].core else { return }
    nodes[node].core = nil  // keep one reference so the core's buffers are not copied
    let outputs = core.step(input, now: localTime(node))
    nodes[node].core = core
    if healedAt == nil && criticalCrashes < scenario.criticalCrashLimit
      && scenario.criticalCrashRate > 0 && outputs.contains(where: Self.isCritical)
      && rng.chance(scenario.criticalCrashRate)
    {
      criticalCrashes += 1
      nodes[node].crashNextStep = true
      let down = rng.uniform(20...30_000) * MonitorConfig.millisecond
      if now + down < scenario.faultDuration { queue.push(now + down, .restart(node: node)) }
    }
    if nodes[node].crashNextStep {
      nodes[node].crashNextStep = false
      // Half the time right after the store transaction: durable state moved on, nothing
      // was sent (the window recovery has to get right).
      let cut =
        rng.chance(0.5) && !outputs.isEmpty ? 1 : Int(rng.uniform(0...UInt64(outputs.count)))
      for output in outputs.prefix(cut) { process(node, output) }
      record(.note(now, "mon.\(node) crashes after \(cut) of \(outputs.count) outputs"))
      crash(node, midStep: true)
      return
    }
    for output in outputs { process(node, output) }
    scheduleTick(node)
  }

  private func process(_ node: Int, _ output: MonOutput) {
    if recordOutputs {
      while outputsSeen.count <= node { outputsSeen.append([]) }
      outputsSeen[node].append(output)
    }
    switch output {
    case .store(let transaction):
      nodes[node].store.apply(transaction)
    case .send(let to, let message):
      if case .syncStart(let start) = message {
        if start.full { fullSyncs += 1 } else { recentSyncs += 1 }
      }
      if let dropFilter, dropFilter(node, to, message) { return }
      let times = network.schedule(from: node, to: to, now: now, rng: &rng)
      guard !times.isEmpty else { return }
      let payload: SimPayload = network.encode ? .bytes(message.encoded()) : .value(message)
      for time in times {
        queue.push(time, .deliver(from: node, to: to, message: payload))
      }
    case .committed(let value):
      record(.commit(now, node, value.version, replay: value.isReplay))
      // Exactly once per incarnation and in order: each version follows the previous one.
      if let last = nodes[node].lastEmitted, value.version != last + 1 {
        checker.fail("mon.\(node) emitted v\(value.version) after v\(last)")
      }
      nodes[node].lastEmitted = value.version
      checker.committed(node: node, value)
      applyToService(node, value)
    case .storeReplaced(let first, let last):
      storeReplacements += 1
      nodes[node].lastEmitted = nil
      record(.replaced(now, node, first, last))
      loadService(node)
    case .reply(let reply):
      record(.reply(now, node, reply))
      checker.reply(node: node, reply)
    case .status(let status):
      record(.status(now, node, status))
      nodes[node].status = status
      checker.status(node: node, status)
    case .lease:
      break
    }
  }

  private func scheduleTick(_ node: Int) {
    guard let core = nodes[node].core, let deadline = core.nextDeadline else { return }
    let at = globalTime(node, local: deadline)
    if let scheduled = nodes[node].scheduledTick, scheduled <= at { return }
    nodes[node].tickGeneration += 1
    nodes[node].scheduledTick = at
    queue.push(at, .tick(node: node, generation: nodes[node].tickGeneration))
  }

  // MARK: the service (what the daemon would do with committed values)

  /// A service that folds committed values into a hash chain and persists it under `svc`,
  /// like a real service persisting its state and applied version.
  private func applyToService(_ node: Int, _ value: CommittedValue) {
    let current = nodes[node].serviceVersion
    if value.version <= current {
      if !value.isReplay {
        checker.fail("mon.\(node) emitted v\(value.version) again (service at v\(current))")
      }
      return
    }
    guard value.version == current + 1 else {
      checker.fail("mon.\(node) skipped from v\(current) to v\(value.version)")
      return
    }
    let hash = SimChecker.mix(nodes[node].serviceHash, value.version, value.value)
    nodes[node].serviceVersion = value.version
    nodes[node].serviceHash = hash
    if let expected = checker.chainHash(value.version), expected != hash {
      checker.fail("mon.\(node) service state at v\(value.version) diverges from the history")
    }
    var transaction = MonStoreTransaction()
    transaction.ops.append(
      .put(
        prefix: Self.servicePrefix, key: "version", value: ByteBuffer(littleEndian: value.version)))
    transaction.ops.append(
      .put(prefix: Self.servicePrefix, key: "hash", value: ByteBuffer(littleEndian: hash)))
    nodes[node].store.apply(transaction)
  }

  private func loadService(_ node: Int) {
    let store = nodes[node].store
    nodes[node].serviceVersion = store.getUInt64(prefix: Self.servicePrefix, key: "version")
    nodes[node].serviceHash = store.getUInt64(prefix: Self.servicePrefix, key: "hash")
    let version = nodes[node].serviceVersion
    if version > 0, let expected = checker.chainHash(version), expected != nodes[node].serviceHash {
      checker.fail("mon.\(node) reloaded service state at v\(version) that diverges")
    }
  }

  // MARK: faults

  func crash(_ node: Int, midStep: Bool = false) {
    if !midStep { record(.crash(now, node, midStep: false)) }
    nodes[node].core = nil
    nodes[node].tickGeneration += 1
    nodes[node].scheduledTick = nil
    nodes[node].crashNextStep = false
    nodes[node].status = nil
  }

  func restart(_ node: Int) {
    record(.restart(now, node))
    nodes[node].core = MonitorCore(config: monitorConfig(node), store: nodes[node].store)
    nodes[node].lastEmitted = nil
    loadService(node)
    step(node, .start)
  }

  private func scheduleFaults() {
    let end = scenario.faultDuration
    if scenario.partitions {
      var time = rng.uniform(0...(3 * MonitorConfig.second))
      while time < end {
        var groups = Array(repeating: 0, count: nodes.count)
        if rng.chance(0.5) {
          groups[Int(rng.next() % UInt64(nodes.count))] = 1  // isolate one monitor
        } else {
          for index in groups.indices { groups[index] = Int(rng.next() % 2) }
        }
        let length = rng.uniform(300...8_000) * MonitorConfig.millisecond
        if nodes.count > 1 && rng.chance(0.3) {
          let from = Int(rng.next() % UInt64(nodes.count))
          let to = (from + 1 + Int(rng.next() % UInt64(nodes.count - 1))) % nodes.count
          queue.push(time, .cutLink(from: from, to: to, cut: true))
          queue.push(min(time + length, end), .cutLink(from: from, to: to, cut: false))
        } else {
          queue.push(time, .partition(groups: groups))
          queue.push(min(time + length, end), .unpartition)
        }
        time += length + rng.uniform(0...(4 * MonitorConfig.second))
      }
    }
    if scenario.laggard {
      var groups = Array(repeating: 0, count: nodes.count)
      groups[Int(rng.next() % UInt64(nodes.count))] = 1
      queue.push(rng.uniform(0...(2 * MonitorConfig.second)), .partition(groups: groups))
      queue.push(end, .unpartition)
    }
    if scenario.crashes {
      var time = rng.uniform(0...(4 * MonitorConfig.second))
      while time < end {
        let node = rng.chance(0.5) ? -1 : Int(rng.next() % UInt64(nodes.count))
        let down = rng.uniform(50...8_000) * MonitorConfig.millisecond
        queue.push(time, .crash(node: node, midStep: rng.chance(0.5), downFor: down))
        time += rng.uniform(500...6_000) * MonitorConfig.millisecond
      }
    }
  }

  private func heal() {
    record(.note(now, "HEAL: network whole and lossless, crashed monitors restart"))
    healedAt = now
    let fifo = network.faults.fifoLinks
    network.faults = SimFaults.none
    network.faults.fifoLinks = fifo
    network.groups = Array(repeating: 0, count: nodes.count)
    network.cutLinks = []
    for node in nodes.indices {
      nodes[node].crashNextStep = false
      if nodes[node].core == nil { restart(node) }
    }
    queue.push(now + MonitorConfig.second, .livenessProbe)
  }

  /// After the heal: a quorum of everyone must form and commit a request sent after the heal
  /// within the bound; then, with clients stopped, every monitor must hold the same history.
  private func livenessProbe() {
    guard let healedAt else { return }
    if recoveredAt == nil {
      let statuses = nodes.compactMap { $0.core?.status }
      let everyone = RankSet.all(nodes.count)
      let formed =
        statuses.count == nodes.count
        && statuses.allSatisfy {
          ($0.role == .leader || $0.role == .peon) && $0.quorum == everyone
            && $0.electionEpoch == statuses[0].electionEpoch
        }
      // A request sent once the quorum of everyone stood must commit while it still stands.
      if !formed || statuses[0].electionEpoch != formedEpoch {
        formedEpoch = formed ? statuses[0].electionEpoch : nil
        firstPostHealRequest = .max
      } else if checker.lastCommittedReplyId >= firstPostHealRequest {
        recoveredAt = now
        clientsStopped = true
        queue.push(now + MonitorConfig.second, .livenessProbe)
        return
      }
      if now > healedAt + scenario.recoveryBound {
        checker.fail(
          "no quorum of everyone with a new commit within \(scenario.recoveryBound / MonitorConfig.second) s of the heal"
        )
        return
      }
      submitClient(at: Int(rng.next() % UInt64(nodes.count)))
      queue.push(now + MonitorConfig.second, .livenessProbe)
      return
    }
    // Clients have stopped: give the last commits a moment to reach everyone.
    let lasts = nodes.map { $0.core?.status.lastCommitted ?? 0 }
    quiesceChecks += 1
    if Set(lasts).count != 1 && quiesceChecks < 10 {
      queue.push(now + MonitorConfig.second, .livenessProbe)
      return
    }
    finalCheck()
    finished = true
  }

  private func finalCheck() {
    let lasts = nodes.map { $0.core?.status.lastCommitted ?? 0 }
    if Set(lasts).count != 1 {
      checker.fail("after quiescing, last_committed differs: \(lasts)")
    }
    for (index, node) in nodes.enumerated() {
      let store = node.store
      let first = store.getUInt64(prefix: MonStoreKeys.paxos, key: MonStoreKeys.firstCommitted)
      let last = store.getUInt64(prefix: MonStoreKeys.paxos, key: MonStoreKeys.lastCommitted)
      if first > 0 {
        for version in first...last {
          if store.get(prefix: MonStoreKeys.paxos, key: MonStoreKeys.version(version))
            != checker.committed[version]
          {
            checker.fail("mon.\(index) store holds a different v\(version)")
          }
        }
      }
      if node.serviceVersion != last || node.serviceHash != checker.chainHash(last) {
        checker.fail(
          "mon.\(index) service at v\(node.serviceVersion), store at v\(last) or hash differs")
      }
      if last - min(first, last) > 3 * (20 + 10) {
        checker.fail("mon.\(index) keeps \(last - first + 1) versions: trimming is not happening")
      }
    }
  }
}
