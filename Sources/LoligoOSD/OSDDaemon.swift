import Foundation
import LoligoClient
import LoligoCore
import LoligoDaemon
import LoligoMessages
import LoligoMessenger
import LoligoPeering
import LoligoPlacement
import LoligoWire
import NIOConcurrencyHelpers
import NIOCore

/// A running OSD: boots to the monitors, follows the OSD map, serves the placement groups CRUSH
/// gives it and watches its peers with heartbeats. What happens to each PG (peering, client
/// writes and their replication, recovery, backfill) is decided by the pure `PeeringCore`; this
/// class feeds it maps, messages, client ops, store commits and ticks, and carries out what it
/// answers (`OSDDaemon+Peering.swift`).
///
/// All state lives on one event loop (`loop`); with `ms_async_op_threads = 1` (what `loligo
/// cluster up` sets for OSDs) that is also the loop of every connection, so a request is
/// handled where it arrives, without a thread hand-off.
public final class OSDDaemon: Dispatcher, @unchecked Sendable {  // state confined to `loop`
  public let id: Int32
  let config: Config
  let store: any ObjectStore
  let messenger: Messenger
  let monClient: MonClient
  let loop: any EventLoop
  /// `osd_max_write_size` in bytes.
  let maxWriteBytes: Int
  public let counters = PerfCounters()
  /// The counters the op path touches, looked up once.
  lazy var stats = OSDStats(counters)
  let host: String
  /// Tells the monitors' duplicate boots apart from a restart.
  let bootNonce = UInt64.random(in: 1...UInt64.max >> 1)

  // Loop state.
  var map: OSDMap?
  var core: PeeringCore
  /// Inputs that arrived while the core was stepping, processed right after.
  var coreBacklog: [PeeringInput] = []
  var coreStepping = false
  /// Client ops the core holds, by token.
  var ops: [UInt64: PendingOp] = [:]
  var nextToken: UInt64 = 0
  /// Store transactions of the core in flight, by token: what to trace when they commit.
  var commitTraces: [UInt64: CommitTrace] = [:]
  var parked: [(epoch: UInt32, message: Message, deadline: NIODeadline)] = []
  var peers: [Int32: Connection] = [:]
  /// The connection each peer OSD's messages last came in on (answers go back on it).
  var incoming: [Int32: Connection] = [:]
  var lastPingReply: [Int32: NIODeadline] = [:]
  var reportedFailure: [Int32: UInt32] = [:]
  var lastBootRequest: NIODeadline = .distantPast
  /// When `checkFullness` last told the monitors of this OSD's space.
  var lastSpaceReport: NIODeadline = .distantPast
  var boundAddr: EntityAddr = .blank
  var stopped = false
  var heartbeat: RepeatedTask?
  var coreTicker: RepeatedTask?
  var statsReporter: RepeatedTask?
  /// Requests to the monitors the core asked for, not yet answered (one at a time each).
  var primaryCache: [PGID: Int32] = [:]
  var primaryCacheEpoch: UInt32 = 0
  var upThruInFlight = false
  var pgTempInFlight: Set<PGID> = []
  /// Deep scrubs: PGs being scrubbed (their new writes wait), the writes held, jobs by id.
  var scrubbing: Set<PGID> = []
  var scrubHeld: [PGID: [Message]] = [:]
  var scrubJobs: [UInt64: ScrubJob] = [:]
  var nextScrubID: UInt64 = 0
  /// What the process does once the OSD has left after a store failure (`storeFailed`):
  /// given true to start again from the disk, false to stop. Unset, the OSD just stays
  /// stopped.
  public var onStoreFailure: (@Sendable (_ restart: Bool) -> Void)?

  /// Creates the OSD's data directory (and, for the durable store, the store).
  public static func mkfs(config: Config, dataPath: String) throws {
    try FileManager.default.createDirectory(atPath: dataPath, withIntermediateDirectories: true)
    if config.string(.osdObjectstore) == "durable" {
      do {
        try DurableStore.mkfs(directory: dataPath + "/store")
      } catch {
        throw DaemonError.store("\(error)")
      }
    }
  }

  public init(id: Int32, config: Config, dataPath: String) throws {
    self.id = id
    self.config = config
    maxWriteBytes = config.int(.osdMaxWriteSize) << 20
    var name = utsname()
    uname(&name)
    host = withUnsafeBytes(of: name.nodename) {
      String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
    }
    guard FileManager.default.fileExists(atPath: dataPath) else {
      throw DaemonError.store(
        "no data directory \(dataPath) (create it with loligo-osd --id \(id) --mkfs)")
    }
    switch config.string(.osdObjectstore) {
    case "durable":
      do {
        store = try DurableStore(
          directory: dataPath + "/store", checksums: StoreChecksums(config: config),
          stopAtFirstFailure: true)
      } catch {
        throw DaemonError.store("\(error)")
      }
    default:
      let configured = UInt64(config.int(.memstoreDeviceBytes))
      store = MemStore(
        checksums: StoreChecksums(config: config),
        capacity: configured > 0 ? configured : Self.physicalMemory())
    }
    core = PeeringCore(
      whoami: id, config: Self.peeringConfig(config),
      store: ObjectStorePGReader(
        store: store, limits: .default, failsafeRatio: config.double(.osdFailsafeFullRatio)))
    messenger = try Messenger(
      name: EntityName(.osd, Int64(id)), config: config, policy: .statelessServer)
    messenger.setPolicy(.statefulServer, for: .osd)
    loop = messenger.group.next()
    monClient = try MonClient.connect(config: config)
    messenger.setDispatcher(self)
  }

  public func start() throws {
    let requested = config.string(.publicAddr).isEmpty ? "127.0.0.1:0" : config.string(.publicAddr)
    boundAddr = try messenger.bind(try EntityAddr(parsing: requested))
    monClient.onMap(MessageType.osdMap) { [weak self] message in
      guard let self, let update = try? OSDMapUpdate(message) else { return }
      self.loop.execute { self.receive(update) }
    }
    // Every map the monitors keep: the core works out PG history from them.
    monClient.subscribe("osdmap", from: 1)
    loop.execute {
      self.feed(.start)
      self.boot()
    }
    let interval = TimeAmount.nanoseconds(Int64(config.double(.osdHeartbeatInterval) * 1e9))
    heartbeat = loop.scheduleRepeatedTask(initialDelay: interval, delay: interval) {
      [weak self] _ in
      self?.tick()
    }
    coreTicker = loop.scheduleRepeatedTask(
      initialDelay: .milliseconds(100), delay: .milliseconds(100)
    ) {
      [weak self] _ in
      self?.feed(.tick)
      self?.checkFullness()
    }
    let report = TimeAmount.nanoseconds(Int64(config.double(.osdMonReportInterval) * 1e9))
    statsReporter = loop.scheduleRepeatedTask(initialDelay: .milliseconds(200), delay: report) {
      [weak self] _ in
      self?.reportPGStats()
    }
  }

  /// Tells the monitors it is going, then stops.
  public func stop() {
    let stopping = loop.submit {
      self.stopped = true
      self.heartbeat?.cancel()
      self.coreTicker?.cancel()
      self.statsReporter?.cancel()
    }
    try? stopping.wait()
    _ = try? monClient.commandSync(["prefix": "osd down", "ids": [Int(id)]], timeout: .seconds(3))
    monClient.shutdown()
    messenger.shutdown()
    store.close()
  }

  var boundAddress: String { boundAddr.hostPort }

  // MARK: boot and maps

  func boot() {
    guard !stopped, NIODeadline.now() - lastBootRequest > .seconds(5) else { return }
    lastBootRequest = .now()
    let fields: [String: Any] = [
      "prefix": "osd boot", "id": Int(id), "addr": boundAddress, "host": host,
      "nonce": Int(bootNonce),
    ]
    monClient.command(fields, timeout: .seconds(30)).whenComplete { [weak self] result in
      guard let self else { return }
      switch result {
      case .success(let reply) where reply.result == 0:
        Log.shared.log("osd", 1) { "osd.\(self.id): booted at \(self.boundAddress)" }
      case .success(let reply):
        Log.shared.error("osd", "osd.\(self.id): boot refused: \(reply.status)")
      case .failure(let error):
        Log.shared.error("osd", "osd.\(self.id): boot failed: \(error); retrying")
        self.loop.scheduleTask(in: .seconds(1)) {
          self.lastBootRequest = .distantPast
          self.boot()
        }
      }
    }
  }

  func receive(_ update: OSDMapUpdate) {
    guard !stopped else { return }
    let maps = update.maps(after: map)
    guard let newest = maps.last else {
      if let map, update.newest > map.epoch {
        monClient.subscribe("osdmap", from: map.epoch + 1)  // a gap: ask again
      }
      return
    }
    map = newest
    counters.counter("osd", "map_epoch").add()
    feed(.maps(maps))
    apply(newest)
  }

  /// What a new map means outside the PGs: peer sessions, our own state, parked ops.
  func apply(_ newMap: OSDMap) {
    // Peers: drop sessions to OSDs that are down, watch the ones that are up.
    for (osd, connection) in peers
    where !newMap.isUp(osd) || newMap.entry(osd)?.publicAddress != connection.peerAddr.hostPort {
      connection.close()
      peers[osd] = nil
      lastPingReply[osd] = nil
    }
    for osd in incoming.keys where !newMap.isUp(osd) { incoming[osd] = nil }
    if !newMap.isUp(id) || newMap.entry(id)?.publicAddress != boundAddress {
      boot()  // marked down (wrongly, or before our boot landed): say we are here
    }
    let ready = parked.filter { $0.epoch <= newMap.epoch }
    parked.removeAll { $0.epoch <= newMap.epoch }
    for entry in ready { handleClientOp(entry.message) }
  }

  func peer(_ osd: Int32) -> Connection? {
    if let existing = peers[osd], !existing.isClosed { return existing }
    guard let text = map?.entry(osd)?.publicAddress, let addr = try? EntityAddr(parsing: text)
    else {
      return nil
    }
    let connection = messenger.connect(to: addr, policy: .losslessPeer)
    peers[osd] = connection
    return connection
  }

  // MARK: heartbeats

  func tick() {
    guard !stopped, let map else { return }
    let now = NIODeadline.now()
    let grace = TimeAmount.nanoseconds(Int64(config.double(.osdHeartbeatGrace) * 1e9))
    for (index, entry) in map.osds.enumerated() where Int32(index) != id && entry.isUp {
      let osd = Int32(index)
      guard let connection = peer(osd) else { continue }
      connection.send(
        OSDPing(isReply: false, epoch: map.epoch, stamp: now.uptimeNanoseconds).message())
      let last = lastPingReply[osd] ?? now
      if lastPingReply[osd] == nil { lastPingReply[osd] = now }
      if now - last > grace && reportedFailure[osd] != map.epoch {
        reportedFailure[osd] = map.epoch
        Log.shared.log("osd", 1) {
          "osd.\(self.id): no heartbeat from osd.\(osd) for \(grace.nanoseconds / 1_000_000) ms; reporting it"
        }
        counters.counter("osd", "failure_reports").add()
        _ = monClient.command(
          ["prefix": "osd failure", "ids": [Int(osd)], "reporter": Int(id)], timeout: .seconds(10))
      }
    }
    // Requests parked for a map that never came.
    let expired = parked.filter { $0.deadline < now }
    parked.removeAll { $0.deadline < now }
    for entry in expired {
      reply(entry.message, result: -11, operations: [], data: ByteBuffer())
    }
    if !map.isUp(id) { boot() }
  }

  // MARK: Dispatcher

  public func dispatch(_ message: Message) {
    if loop.inEventLoop {
      route(message)
    } else {
      loop.execute { self.route(message) }
    }
  }

  func route(_ message: Message) {
    guard !stopped else { return }
    switch message.type {
    case MessageType.osdOp: handleClientOp(message)
    case MessageType.osdPG: handlePGMessage(message)
    case MessageType.osdScrub: handleScrubMessage(message)
    case MessageType.osdPing:
      guard let ping = try? OSDPing(message), let source = message.source else { return }
      if ping.isReply {
        // The sender names itself (no auth): only an OSD number counts.
        guard source.type == .osd, let osd = Int32(exactly: source.num) else { return }
        lastPingReply[osd] = .now()
      } else {
        message.connection?.send(
          OSDPing(isReply: true, epoch: map?.epoch ?? 0, stamp: ping.stamp).message())
      }
    default:
      break
    }
  }

  /// What `loligo daemon osd.N ...` can ask.
  public func registerAdminCommands(_ socket: AdminSocket) {
    socket.register("perf dump", help: "performance counters") { [counters] _ in counters.dump() }
    socket.register("status", help: "id, map epoch, placement groups") { [weak self] _ in
      guard let self else { return [:] }
      return try self.loop.submit { () -> OSDStatusBox in
        OSDStatusBox([
          "id": Int(self.id), "addr": self.boundAddress, "osdmap_epoch": Int(self.map?.epoch ?? 0),
          "num_pgs": self.core.pgCount, "primary_pgs": self.core.stats().count,
          "objectstore": self.store.kind,
        ])
      }.wait().value
    }
    socket.register(
      "pg ls", help: "placement groups this OSD is primary for: sets, state, objects"
    ) { [weak self] _ in
      guard let self else { return [:] }
      return try self.loop.submit { () -> OSDStatusBox in
        OSDStatusBox([
          "osdmap_epoch": Int(self.map?.epoch ?? 0),
          "pgs": self.core.stats().map { self.pgStatFields($0) },
        ])
      }.wait().value
    }
    socket.register("pg query", help: "pg query PGID: one PG's peering and recovery state here") {
      [weak self] words in
      guard let self, words.count == 3, let pgid = PGID(words[2]) else {
        return ["error": "usage: pg query PGID (e.g. 1.a)"]
      }
      return try self.loop.submit { () -> OSDStatusBox in
        guard let fields = self.core.query(pgid) else {
          return OSDStatusBox(["error": "osd.\(self.id) does not hold \(pgid)"])
        }
        return OSDStatusBox(fields)
      }.wait().value
    }
    for (command, repair) in [("pg deep-scrub", false), ("pg repair", true)] {
      socket.register(
        command,
        help: "\(command) PGID: compare every acting copy of every object (version, size, crc32c)"
          + (repair ? " and recover the wrong ones" : "")
      ) { [weak self] words in
        guard let self, words.count == 3, let pgid = PGID(words[2]) else {
          return ["error": "usage: \(command) PGID (e.g. 1.a)"]
        }
        return try self.loop.flatSubmit { self.deepScrub(pgid, repair: repair) }.wait().value
      }
    }
    socket.register(
      "object stat", help: "object stat POOL_ID NAME: size, crc32c and version held here"
    ) {
      [weak self] words in
      guard let self, words.count == 4, let pool = Int64(words[2]) else {
        return ["error": "usage: object stat POOL_ID NAME"]
      }
      let name = words[3]
      return try self.loop.submit { () -> OSDStatusBox in
        guard let map = self.map,
          let pgid = try? map.pg(forObject: name, locator: ObjectLocator(pool: pool))
        else { return OSDStatusBox(["error": "no such pool"]) }
        let (data, known): (ByteBuffer, UInt32?)
        do throws(StoreError) {
          (data, known) = try self.store.readWithCRC(pgid, ObjectID(name), offset: 0, length: nil)
        } catch .noSuchObject, .noSuchCollection {
          return OSDStatusBox(["error": "not here"])
        } catch {
          return OSDStatusBox(["error": "\(error)"])
        }
        let version = ObjectStorePGReader(store: self.store, limits: .default)
          .objectVersion(pgid, ObjectID(name))
        return OSDStatusBox([
          "pg": "\(pgid)", "size": data.readableBytes,
          "crc32c": Int(known ?? CRC32C.checksum(data, seed: 0xFFFF_FFFF)),
          "version": version.map { "\($0)" } ?? "",
        ])
      }.wait().value
    }
    registerInjectCommands(socket)
    socket.register("config show", help: "effective configuration") { [config] _ in
      Dictionary(uniqueKeysWithValues: config.dump().map { ($0.option.name, $0.value.description) })
    }
  }
}

/// `perf dump`'s `osd` section.
final class OSDStats: Sendable {
  let ops, reads, writes, inBytes, outBytes, subops, subopsSent, subopInBytes, stale,
    duplicates: PerfCounters.Counter
  let readLatency, writeLatency, subopLatency: PerfCounters.Latency

  init(_ c: PerfCounters) {
    ops = c.counter("osd", "op")
    reads = c.counter("osd", "op_r")
    writes = c.counter("osd", "op_w")
    inBytes = c.counter("osd", "op_in_bytes")
    outBytes = c.counter("osd", "op_out_bytes")
    subops = c.counter("osd", "subop")
    subopsSent = c.counter("osd", "subop_sent")
    subopInBytes = c.counter("osd", "subop_in_bytes")
    stale = c.counter("osd", "op_stale")
    duplicates = c.counter("osd", "op_dup")
    readLatency = c.latency("osd", "op_r_latency")
    writeLatency = c.latency("osd", "op_w_latency")
    subopLatency = c.latency("osd", "subop_latency")
  }
}

struct OSDStatusBox: @unchecked Sendable {  // built on the loop, then only read by the one waiter
  let value: Any
  init(_ value: Any) { self.value = value }
}
