import Foundation
import LoligoPlacement
import NIOCore

@testable import LoligoPeering

/// A whole cluster in one thread, driven by seeded randomness: OSDs running `PeeringCore` over
/// simulated disks, a monitor that makes OSD maps (failures, boots, out/in, up_thru, pg_temp),
/// clients that write and read objects, and a network that delays, drops, duplicates and
/// reorders messages. Every client answer and every activation is checked as it happens
/// (`PeeringChecker`), and after the faults heal the cluster must become clean and agree.
final class PeeringSim {
  struct Options {
    var osds = 5
    var pgNum: UInt32 = 8
    var objectsPerClient = 6
    var clients = 2
    /// Disks keep their contents across crashes (else memory disks lose everything).
    var durable = true
    var loss = 0.02
    var duplication = 0.01
    var maxDelay: UInt64 = 30_000_000
    var faultWindow: UInt64 = 40_000_000_000
    var faults = 6
    var healDeadline: UInt64 = 400_000_000_000
    var minLogEntries = 250
    var maxLogEntries = 10_000
    /// Copies damaged on disk during the run (at most one copy of an object at a time).
    var corruptions = 0
    /// Times an OSD's disk runs out of room for a while (its data writes are refused).
    var fullDisks = 0
  }

  enum Event {
    case message(to: Int32, incarnation: Int, from: Int32, PGMessage)
    case map(to: Int32, incarnation: Int, epoch: UInt32)
    case commit(osd: Int32, incarnation: Int)
    case tick(osd: Int32, incarnation: Int)
    case request(to: Int32, incarnation: Int, ClientRequest)
    case reply(client: Int, tid: UInt64, ClientResult)
    case clientStep(client: Int)
    case crash(osd: Int32)
    case restart(osd: Int32)
    case markDown(osd: Int32, incarnation: Int)
    case out(osd: Int32)
    case into(osd: Int32)
    case monUpThru(osd: Int32, epoch: UInt32)
    case monPGTemp(PGID, [Int32])
    case corrupt(osd: Int32)
    case diskFull(osd: Int32, Bool)
  }

  struct ClientRequest {
    var client: Int
    var tid: UInt64
    var reqid: RequestID
    var object: ObjectID
    var kind: Kind
    var epoch: UInt32

    enum Kind: Equatable {
      case write(UInt64)
      case delete
      case read
    }
  }

  enum ClientResult: Equatable {
    case written(Int32)
    case read(UInt64?)
    case stale
  }

  final class OSD {
    let id: Int32
    let disk: SimDisk
    var core: PeeringCore?
    var incarnation = 0
    var mapEpoch: UInt32 = 0
    var nextToken: UInt64 = 0
    var ops: [UInt64: ClientRequest] = [:]
    var heldRequests: [ClientRequest] = []
    var lastCommitAt: UInt64 = 0
    var lastMapAt: UInt64?
    var running: Bool { core != nil }

    init(id: Int32, durable: Bool) {
      self.id = id
      disk = SimDisk(durable: durable)
    }
  }

  struct Outstanding {
    var request: ClientRequest
    var sentAt: UInt64
    var target: Int32
  }

  final class Client {
    let id: Int
    var objects: [ObjectID]
    var nextTid: UInt64 = 0
    var outstanding: [UInt64: Outstanding] = [:]
    var busyObjects: Set<ObjectID> = []
    var stopped = false

    init(id: Int, objects: [ObjectID]) {
      self.id = id
      self.objects = objects
    }
  }

  let options: Options
  let seed: UInt64
  var rng: SimRandom
  var now: UInt64 = 0
  var queue = EventQueue<Event>()
  var maps: [OSDMap] = []
  var osds: [OSD] = []
  var clients: [Client] = []
  var checker = PeeringChecker()
  var trace: [String] = []
  let recordTrace: Bool
  var healing = false
  var lossy: Bool { !healing }
  let pool: Int64 = 1
  var events = 0
  var messages = 0
  var nextQuiescenceCheck: UInt64 = 0
  /// Reads that found their copy damaged and had it repaired.
  var readRepairs = 0
  /// Data a member had no room for (a write logged without it, a push not installed).
  var dataRefusals = 0
  /// Placement by epoch and object name (CRUSH is the simulation's biggest cost otherwise).
  var placements: [UInt32: [String: PGMapping]] = [:]

  func placement(_ name: String, in map: OSDMap) -> PGMapping? {
    if let cached = placements[map.epoch]?[name] { return cached }
    guard let mapping = try? map.map(object: name, pool: pool) else { return nil }
    placements[map.epoch, default: [:]][name] = mapping
    return mapping
  }

  var map: OSDMap { maps[maps.count - 1] }

  init(seed: UInt64, options: Options, recordTrace: Bool = false) throws {
    self.seed = seed
    self.options = options
    self.recordTrace = recordTrace
    rng = SimRandom(seed: seed)
    // One OSD per host, a size-3 pool.
    let crush = try CrushBuilder.build(
      osdCount: options.osds,
      layers: [
        CrushBuilder.Layer(name: "host", algorithm: .straw2, size: 1),
        CrushBuilder.Layer(name: "root", algorithm: .straw2, size: 0),
      ])
    var first = try OSDMap.simple(
      osdCount: Int32(options.osds), poolSize: 3, crush: crush, poolName: "sim", poolID: pool,
      pgNum: options.pgNum, pgpNum: options.pgNum)
    first.markAllUpIn()
    for osd in 0..<Int32(options.osds) {
      try first.updateEntry(osd) { $0.upFrom = 1 }
    }
    var poolEntry = first.pool(pool)!
    poolEntry.minSize = 2
    try first.setPool(poolEntry, id: pool)
    maps = [first]
    for id in 0..<Int32(options.osds) {
      osds.append(OSD(id: id, durable: options.durable))
    }
    var objectIndex = 0
    for client in 0..<options.clients {
      var objects: [ObjectID] = []
      for _ in 0..<options.objectsPerClient {
        objects.append(ObjectID("obj\(objectIndex)"))
        objectIndex += 1
      }
      clients.append(Client(id: client, objects: objects))
    }
  }

  func log(_ text: @autoclosure () -> String) {
    if recordTrace { trace.append("\(Double(now) / 1e9) \(text())") }
  }

  // MARK: running

  /// Runs the faults, heals, waits for clean; returns problems found (empty: the run passed).
  func run() -> [String] {
    for osd in osds { boot(osd) }
    for client in clients { queue.push(10_000_000, .clientStep(client: client.id)) }
    scheduleFaults()
    var healedAt: UInt64?
    while let (time, event) = queue.pop() {
      now = max(now, time)
      events += 1
      handle(event)
      if !checker.violations.isEmpty { break }
      if healedAt == nil, now >= options.faultWindow {
        heal()
        healedAt = now
      }
      if let healedAt, now >= healedAt + 1_000_000_000, now >= nextQuiescenceCheck {
        nextQuiescenceCheck = now + 500_000_000
        if isQuiescent() {
          if !damaged { break }
          repairDamage()
        }
      }
      if now > options.faultWindow + options.healDeadline {
        checker.fail(
          "not clean \(options.healDeadline / 1_000_000_000) s after healing: \(describePGs())")
        break
      }
    }
    if checker.violations.isEmpty { finalCheck() }
    return checker.violations
  }

  func handle(_ event: Event) {
    switch event {
    case .message(let to, let incarnation, let from, let message):
      let osd = osds[Int(to)]
      guard osd.incarnation == incarnation, osd.running else { return }
      messages += 1
      if case .applied(_, let applied) = message.body, applied.refusesData { dataRefusals += 1 }
      if recordTrace {
        log(
          "osd.\(from) -> osd.\(to) \(message.pgid) i\(message.interval) \(Self.describe(message.body))"
        )
      }
      step(osd, .message(from: from, message))
    case .map(let to, let incarnation, let epoch):
      let osd = osds[Int(to)]
      guard osd.incarnation == incarnation, osd.running, epoch == osd.mapEpoch + 1 else { return }
      osd.mapEpoch = epoch
      step(osd, .maps([maps[Int(epoch) - 1]]))
      let held = osd.heldRequests.filter { $0.epoch <= epoch }
      osd.heldRequests.removeAll { $0.epoch <= epoch }
      for request in held { serve(osd, request) }
    case .commit(let id, let incarnation):
      let osd = osds[Int(id)]
      guard osd.incarnation == incarnation, osd.running, let token = osd.disk.commitNext() else {
        return
      }
      if recordTrace { log("osd.\(id) committed \(token)") }
      step(osd, .committed(token: token))
    case .tick(let id, let incarnation):
      let osd = osds[Int(id)]
      guard osd.incarnation == incarnation, osd.running else { return }
      step(osd, .tick)
      queue.push(now + 100_000_000, .tick(osd: id, incarnation: incarnation))
    case .request(let to, let incarnation, let request):
      let osd = osds[Int(to)]
      guard osd.incarnation == incarnation, osd.running else { return }
      if request.epoch > osd.mapEpoch {
        osd.heldRequests.append(request)
      } else {
        serve(osd, request)
      }
    case .reply(let client, let tid, let result):
      clientReply(clients[client], tid: tid, result)
    case .clientStep(let client):
      clientStep(clients[client])
    case .crash(let id):
      crash(osds[Int(id)])
    case .restart(let id):
      restart(osds[Int(id)])
    case .markDown(let id, let incarnation):
      let osd = osds[Int(id)]
      if osd.incarnation == incarnation, !osd.running, map.isUp(id) { markDown(id) }
    case .out(let id):
      if map.isIn(id) { publish { $0.newWeight[id] = 0 } }
    case .into(let id):
      if !map.isIn(id) { publish { $0.newWeight[id] = 0x10000 } }
    case .monUpThru(let id, let epoch):
      if map.isUp(id), (map.entry(id)?.upThru ?? 0) < epoch {
        publish { $0.newUpThru[id] = max(epoch, self.map.epoch) }
      }
    case .corrupt(let id):
      corruptOneCopy(osds[Int(id)])
    case .diskFull(let id, let full):
      guard !healing else { return }
      log("disk of osd.\(id) \(full ? "full" : "has room again")")
      osds[Int(id)].disk.noRoom = full
    case .monPGTemp(let pgid, let wanted):
      // As the monitor does: only OSDs that are up; the same request twice changes nothing.
      guard wanted.allSatisfy({ map.isUp($0) }) else { return }
      let current = map.pgTemp[pgid] ?? []
      if current != wanted { publish { $0.newPGTemp[pgid] = wanted } }
    }
  }

  // MARK: OSD processes

  func boot(_ osd: OSD) {
    osd.incarnation += 1
    osd.core = PeeringCore(
      whoami: osd.id,
      config: PeeringConfig(
        minLogEntries: options.minLogEntries, maxLogEntries: options.maxLogEntries,
        recoveryMaxActive: 3, maxBackfills: 1, retryInterval: 1_000_000_000,
        opQueueTimeout: 60_000_000_000),
      store: osd.disk)
    osd.mapEpoch = 0
    osd.ops.removeAll()
    osd.heldRequests.removeAll()
    osd.lastCommitAt = now
    step(osd, .start)
    // The monitors keep the whole map history: a booting OSD gets it from epoch 1.
    osd.mapEpoch = map.epoch
    step(osd, .maps(maps))
    queue.push(now + rng.uint(1...100_000_000), .tick(osd: osd.id, incarnation: osd.incarnation))
  }

  func step(_ osd: OSD, _ input: PeeringInput) {
    // Take the core out while it runs, so its storage is not shared (no copy on write).
    guard var core = osd.core.take() else { return }
    let before = recordTrace ? core.pgs.mapValues { "\($0.phase)" } : [:]
    let outputs = core.step(input, now: now)
    if recordTrace {
      for (pgid, pg) in core.pgs.sorted(by: { $0.key < $1.key }) where before[pgid] != "\(pg.phase)"
      {
        log(
          "osd.\(osd.id) \(pgid) i\(pg.interval) \(before[pgid] ?? "new") -> \(pg.phase) acting \(pg.acting) up \(pg.up) head \(pg.log.head) missing \(pg.missing.needs.map { "\($0.key)@\($0.value)" }.sorted())"
        )
      }
    }
    osd.core = core
    for output in outputs { carry(osd, output) }
    checker.observe(osd: osd, sim: self)
  }

  func carry(_ osd: OSD, _ output: PeeringOutput) {
    switch output {
    case .store(let transaction, let token):
      if recordTrace {
        log(
          "osd.\(osd.id) submit \(token): \(transaction.operations.map { Self.describe($0) }.joined(separator: ", "))"
        )
      }
      osd.disk.submit(transaction, token: token)
      let at = max(osd.lastCommitAt, now + rng.uint(100_000...5_000_000))
      osd.lastCommitAt = at
      queue.push(at, .commit(osd: osd.id, incarnation: osd.incarnation))
    case .send(let to, let message):
      send(from: osd.id, to: to, message)
    case .reply(let token, let result):
      guard let request = osd.ops.removeValue(forKey: token) else { return }
      if recordTrace {
        log("osd.\(osd.id) replies \(result) to \(request.reqid) \(request.object) \(request.kind)")
      }
      if result == 0 {
        checker.acked(request, by: osd, sim: self)
      }
      if result == -28, let pgid = placement(request.object.name, in: map(for: osd))?.pgid,
        osd.core?.pgs[pgid]?.log.version(of: request.reqid) != nil
      {
        checker.refusedAfterLogging(request)
      }
      replyToClient(request, .written(result))
    case .execute(let token):
      guard let request = osd.ops[token] else { return }
      let pgid = placement(request.object.name, in: map(for: osd))!.pgid
      let stored = osd.disk.pgs[pgid]?.objects[request.object]
      if stored?.corrupt == true {
        // The store's checksum fails: the core repairs the copy and runs the op again.
        log("osd.\(osd.id) finds \(request.object) unreadable")
        readRepairs += 1
        step(
          osd,
          .unreadable(
            ClientOp(
              token: token, pgid: pgid, reqid: request.reqid, object: request.object, kind: .read)))
        return
      }
      osd.ops[token] = nil
      replyToClient(request, .read(stored?.value))
    case .discard(let token):
      osd.ops[token] = nil
    case .requestUpThru(let epoch):
      queue.push(now + rng.uint(1_000_000...20_000_000), .monUpThru(osd: osd.id, epoch: epoch))
    case .requestPGTemp(let pgid, let wanted):
      queue.push(now + rng.uint(1_000_000...20_000_000), .monPGTemp(pgid, wanted))
    }
  }

  func map(for osd: OSD) -> OSDMap { maps[Int(max(osd.mapEpoch, 1)) - 1] }

  func send(from: Int32, to: Int32, _ message: PGMessage) {
    let target = osds[Int(to)]
    guard target.running else { return }
    // Round-trip some in their wire form: the decoder sees exactly what a peer would send.
    var decoded = message
    if rng.chance(0.1) {
      var front = ByteBuffer()
      let data = message.encode(into: &front)
      decoded = try! PGMessage(front: &front, data: data)
    }
    if lossy && rng.chance(options.loss) { return }
    let copies = lossy && rng.chance(options.duplication) ? 2 : 1
    for _ in 0..<copies {
      queue.push(
        now + rng.uint(100_000...options.maxDelay),
        .message(to: to, incarnation: target.incarnation, from: from, decoded))
    }
  }

  func serve(_ osd: OSD, _ request: ClientRequest) {
    guard osd.running else { return }
    let current = map(for: osd)
    guard let mapping = placement(request.object.name, in: current),
      mapping.actingPrimary == osd.id
    else {
      replyToClient(request, .stale)
      return
    }
    osd.nextToken += 1
    let token = osd.nextToken
    osd.ops[token] = request
    let kind: ClientOp.Kind
    switch request.kind {
    case .write(let value):
      kind = .write(PGMutation(body: SimDisk.body(value), deletes: false))
    case .delete:
      kind = .write(PGMutation(body: ByteBuffer(), deletes: true))
    case .read:
      kind = .read
    }
    if case .read = request.kind { checker.readServed(request, sim: self) }
    step(
      osd,
      .clientOp(
        ClientOp(
          token: token, pgid: mapping.pgid, reqid: request.reqid, object: request.object,
          kind: kind)))
  }

  func replyToClient(_ request: ClientRequest, _ result: ClientResult) {
    if lossy && rng.chance(options.loss) { return }
    queue.push(
      now + rng.uint(100_000...options.maxDelay),
      .reply(client: request.client, tid: request.tid, result))
  }

  // MARK: faults and the monitor

  func scheduleFaults() {
    for _ in 0..<options.corruptions {
      let at = rng.uint(3_000_000_000...(options.faultWindow - 3_000_000_000))
      queue.push(at, .corrupt(osd: Int32(rng.int(0..<options.osds))))
    }
    for _ in 0..<options.fullDisks {
      let at = rng.uint(3_000_000_000...(options.faultWindow - 3_000_000_000))
      let osd = Int32(rng.int(0..<options.osds))
      queue.push(at, .diskFull(osd: osd, true))
      queue.push(at + rng.uint(500_000_000...8_000_000_000), .diskFull(osd: osd, false))
    }
    var at: UInt64 = 2_000_000_000
    for _ in 0..<options.faults {
      at += rng.uint(1_000_000_000...(options.faultWindow / UInt64(max(options.faults, 1))))
      guard at < options.faultWindow - 2_000_000_000 else { break }
      let osd = Int32(rng.int(0..<options.osds))
      if rng.chance(0.75) {
        queue.push(at, .crash(osd: osd))
        queue.push(at + rng.uint(500_000_000...8_000_000_000), .restart(osd: osd))
      } else {
        queue.push(at, .out(osd: osd))
        queue.push(at + rng.uint(2_000_000_000...10_000_000_000), .into(osd: osd))
      }
    }
  }

  /// How many OSDs may be down at once: with memory disks a crash loses the copy, so at most
  /// one copy may be gone at a time (and only once everything is clean again).
  func mayCrash(_ osd: OSD) -> Bool {
    let down = osds.filter { !$0.running }.count
    if options.durable { return down < 2 }
    return down == 0 && isClean()
  }

  func crash(_ osd: OSD) {
    guard osd.running, mayCrash(osd) else { return }
    let kept = rng.int(0..<(osd.disk.pending.count + 1))
    log("crash osd.\(osd.id) keeping \(kept) of \(osd.disk.pending.count) pending")
    osd.disk.crash(keepingPending: kept)
    osd.core = nil
    osd.incarnation += 1
    queue.push(
      now + rng.uint(500_000_000...2_000_000_000),
      .markDown(osd: osd.id, incarnation: osd.incarnation))
  }

  func restart(_ osd: OSD) {
    guard !osd.running else { return }
    log("restart osd.\(osd.id)")
    if map.isUp(osd.id) { markDown(osd.id) }  // the monitor marks a rebooted OSD down first
    boot(osd)
    publish { $0.newUp[osd.id] = OSDMapIncremental.OSDAddresses(publicAddress: "sim:\(osd.id)") }
  }

  func markDown(_ id: Int32) {
    log("mark down osd.\(id)")
    publish { $0.newState[id] = .up }
  }

  func publish(_ change: (inout OSDMapIncremental) -> Void) {
    var incremental = OSDMapIncremental(following: map)
    change(&incremental)
    var next = map
    try! next.apply(incremental)
    maps.append(next)
    log("epoch \(next.epoch)")
    for osd in osds where osd.running {
      // Maps reach each OSD in order.
      let at = max(now + rng.uint(100_000...options.maxDelay), osd.lastMapAt ?? 0)
      osd.lastMapAt = at
      queue.push(at, .map(to: osd.id, incarnation: osd.incarnation, epoch: next.epoch))
    }
  }

  func heal() {
    healing = true
    log("heal")
    for osd in osds { osd.disk.noRoom = false }
    for osd in osds where !osd.running { restart(osd) }
    for osd in 0..<Int32(options.osds) where !map.isIn(osd) {
      publish { $0.newWeight[osd] = 0x10000 }
    }
    for client in clients { client.stopped = true }
  }

  // MARK: clients

  func clientStep(_ client: Client) {
    // Resend what got no answer (same reqid: the PG log answers it if it was applied).
    for (tid, var outstanding) in client.outstanding.sorted(by: { $0.key < $1.key })
    where now >= outstanding.sentAt + 2_000_000_000 {
      outstanding.request.epoch = map.epoch
      outstanding.sentAt = now
      outstanding.target = submit(outstanding.request)
      client.outstanding[tid] = outstanding
    }
    if !client.stopped && client.outstanding.count < 4 {
      let object: ObjectID
      let kind: ClientRequest.Kind
      if rng.chance(0.4) {
        object = rng.pick(clients.flatMap(\.objects))
        kind = .read
      } else {
        let free = client.objects.filter { !client.busyObjects.contains($0) }
        if free.isEmpty {
          queue.push(now + 50_000_000, .clientStep(client: client.id))
          return
        }
        object = rng.pick(free)
        kind = rng.chance(0.1) ? .delete : .write(checker.nextValue(client.id))
        client.busyObjects.insert(object)
      }
      client.nextTid += 1
      let request = ClientRequest(
        client: client.id, tid: client.nextTid,
        reqid: RequestID(client: Int64(client.id) + 1000, tid: client.nextTid), object: object,
        kind: kind, epoch: map.epoch)
      checker.issued(request, sim: self)
      client.outstanding[client.nextTid] = Outstanding(
        request: request, sentAt: now, target: submit(request))
    }
    if !client.stopped || !client.outstanding.isEmpty {
      queue.push(now + rng.uint(5_000_000...60_000_000), .clientStep(client: client.id))
    }
  }

  /// Sends to the PG's acting primary in the newest map; returns it.
  func submit(_ request: ClientRequest) -> Int32 {
    guard let mapping = placement(request.object.name, in: map), mapping.actingPrimary >= 0
    else { return -1 }
    let target = osds[Int(mapping.actingPrimary)]
    if lossy && rng.chance(options.loss) { return mapping.actingPrimary }
    queue.push(
      now + rng.uint(100_000...options.maxDelay),
      .request(to: target.id, incarnation: target.incarnation, request))
    return mapping.actingPrimary
  }

  func clientReply(_ client: Client, tid: UInt64, _ result: ClientResult) {
    guard var outstanding = client.outstanding[tid] else { return }
    if result == .stale {
      // Wrong OSD for its map or ours: try again shortly with the newest map.
      outstanding.sentAt = now - 2_000_000_000 + 50_000_000
      client.outstanding[tid] = outstanding
      return
    }
    client.outstanding[tid] = nil
    checker.completed(outstanding.request, result, sim: self)
    if outstanding.request.kind != .read { client.busyObjects.remove(outstanding.request.object) }
  }

  // MARK: end state

  func primaryStates() -> [(PGID, PGState)] {
    var result: [(PGID, PGState)] = []
    guard let mappings = try? map.mapAllPGs(pool: pool) else { return [] }
    for mapping in mappings {
      guard mapping.actingPrimary >= 0, let core = osds[Int(mapping.actingPrimary)].core,
        let pg = core.pgs[mapping.pgid]
      else { continue }
      result.append((mapping.pgid, pg))
    }
    return result
  }

  func isClean() -> Bool {
    guard let mappings = try? map.mapAllPGs(pool: pool) else { return false }
    for mapping in mappings {
      guard mapping.actingPrimary >= 0, let core = osds[Int(mapping.actingPrimary)].core,
        core.epoch == map.epoch, let pg = core.pgs[mapping.pgid], pg.clean,
        pg.interval <= map.epoch, pg.acting == mapping.acting
      else { return false }
    }
    return true
  }

  func isQuiescent() -> Bool {
    clients.allSatisfy { $0.outstanding.isEmpty } && osds.allSatisfy(\.running) && isClean()
      && strayCopies().isEmpty
  }

  /// Copies of PGs on OSDs outside their up and acting sets (purged once the PG is clean).
  func strayCopies() -> [String] {
    guard let mappings = try? map.mapAllPGs(pool: pool) else { return [] }
    var found: [String] = []
    for mapping in mappings {
      for osd in osds where !mapping.up.contains(osd.id) && !mapping.acting.contains(osd.id) {
        if osd.disk.pgs[mapping.pgid] != nil { found.append("\(mapping.pgid) on osd.\(osd.id)") }
      }
    }
    return found
  }

  func describePGs() -> String {
    guard let mappings = try? map.mapAllPGs(pool: pool) else { return "no map" }
    return mappings.map { mapping in
      let pg =
        mapping.actingPrimary >= 0 ? osds[Int(mapping.actingPrimary)].core?.pgs[mapping.pgid] : nil
      return
        "\(mapping.pgid) up \(mapping.up) acting \(mapping.acting) \(pg.map { "\($0.phase) clean=\($0.clean)" } ?? "no primary state")"
    }.joined(separator: "; ") + "; clients outstanding \(clients.map(\.outstanding.count))"
      + "; stray copies \(strayCopies())"
  }

  /// Damages one committed copy on `osd`, unless another copy of that object is damaged. Only
  /// a copy another OSD also holds at its version is damaged: one bad sector is a fault the
  /// cluster must survive, the only copy of a write that reached no other OSD is a loss no
  /// store could undo (Ceph leaves such an object unfound).
  func corruptOneCopy(_ osd: OSD) {
    guard osd.running else { return }
    let candidates = osd.disk.pgs.flatMap { pgid, pg in
      pg.objects.compactMap { object, copy in
        osds.contains {
          $0 !== osd
            && $0.disk.pgs[pgid]?.objects[object]
              == SimDisk.Object(
                version: copy.version, value: copy.value)
        } ? (pgid, object) : nil
      }
    }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    guard !candidates.isEmpty else { return }
    let (pgid, object) = rng.pick(candidates)
    let damaged = osds.contains { $0.disk.pgs[pgid]?.objects[object]?.corrupt == true }
    guard !damaged, let version = osd.disk.pgs[pgid]?.objects[object]?.version else { return }
    // Damage only what good copies elsewhere can heal, even after one more fault: a lone copy
    // damaged is a lost object, and so is a damaged copy whose one good twin is then lost (a
    // memory disk returning empty; Ceph leaves such an object unfound for an operator's
    // mark_unfound_lost). Neither is a fault any store survives.
    let goodElsewhere = osds.filter { other in
      guard other.id != osd.id, other.running,
        let copy = other.disk.pgs[pgid]?.objects[object]
      else { return false }
      return copy.version == version && !copy.corrupt
    }.count
    guard goodElsewhere >= 2 else { return }
    log("corrupt \(object) on osd.\(osd.id)")
    osd.disk.corrupt(pgid, object)
  }

  /// As a deep scrub and repair would: the primary of each PG recovers its damaged copies.
  func repairDamage() {
    guard let mappings = try? map.mapAllPGs(pool: pool) else { return }
    for mapping in mappings where mapping.actingPrimary >= 0 {
      var bad: [Int32: [ObjectID]] = [:]
      for osd in mapping.acting {
        for (object, copy) in osds[Int(osd)].disk.pgs[mapping.pgid]?.objects ?? [:]
        where copy.corrupt {
          bad[osd, default: []].append(object)
        }
      }
      if !bad.isEmpty { step(osds[Int(mapping.actingPrimary)], .repair(mapping.pgid, bad)) }
    }
  }

  /// A damaged copy on an OSD of a PG's acting set (strays' leftovers are not served).
  var damaged: Bool {
    guard let mappings = try? map.mapAllPGs(pool: pool) else { return false }
    return mappings.contains { mapping in
      mapping.acting.contains { osd in
        osds[Int(osd)].disk.pgs[mapping.pgid]?.objects.values.contains(where: \.corrupt) ?? false
      }
    }
  }

  /// Every object reads back as its last acknowledged write (or a later one refused once it
  /// was logged), and every acting copy agrees.
  func finalCheck() {
    guard let mappings = try? map.mapAllPGs(pool: pool) else { return }
    for mapping in mappings {
      let primary = osds[Int(mapping.actingPrimary)]
      guard let reference = primary.disk.pgs[mapping.pgid] else {
        if checker.objects(in: mapping.pgid, sim: self).contains(where: {
          checker.expectedValue($0) != nil
        }) {
          checker.fail("\(mapping.pgid): primary osd.\(primary.id) has no copy")
        }
        continue
      }
      for object in checker.objects(in: mapping.pgid, sim: self) {
        let expected = checker.expectedValue(object)
        let actual = reference.objects[object]?.value
        if !checker.allowedValues(object).contains(actual) {
          checker.fail(
            "\(object) in \(mapping.pgid): expected \(String(describing: expected)), primary osd.\(primary.id) has \(String(describing: actual))"
          )
        }
      }
      for member in mapping.acting where member != mapping.actingPrimary {
        let copy = osds[Int(member)].disk.pgs[mapping.pgid]
        if copy?.objects != reference.objects {
          checker.fail(
            "\(mapping.pgid): osd.\(member)'s copy differs from primary osd.\(primary.id)'s: \(copy?.objects.count ?? -1) vs \(reference.objects.count) objects"
          )
        }
      }
    }
  }

  static func describe(_ body: PGMessage.Body) -> String {
    switch body {
    case .ordered(let seq, .repOp(let entry, let mutation, _)):
      return
        "ordered \(seq) repOp \(entry.version) \(entry.object) \(entry.kind)\(mutation == nil ? " log-only" : "")"
    case .ordered(let seq, .activate(let a)):
      return
        "ordered \(seq) activate head \(a.info.lastUpdate) les \(a.info.lastEpochStarted) backfill \(a.info.lastBackfill) missing \(a.missing.count)"
    case .ordered(let seq, .push(let o, let snap, let backfill)):
      return
        "ordered \(seq) push \(o) \(snap.map { "\($0.version)" } ?? "absent") backfill \(backfill)"
    case .notify(let n):
      return
        "notify info \(n.info.map { "lu \($0.lastUpdate) les \($0.lastEpochStarted) lec \($0.lastEpochClean) bf \($0.lastBackfill)" } ?? "nil") log \(n.log.count) missing \(n.missing.count)"
    default:
      return "\(body)".prefix(120).description
    }
  }

  static func describe(_ op: PGTransaction.Operation) -> String {
    switch op {
    case .mutate(_, let o, let m, let v):
      return "mutate \(o) \(m.deletes ? "delete" : "write") @\(v)"
    case .install(_, let o, let s): return "install \(o) @\(s.version)"
    case .appendLog(_, let entries): return "log+ \(entries.map { "\($0.version)" })"
    case .removeLog(_, let versions): return "log- \(versions.count)"
    case .putInfo(let info):
      return "info lu \(info.lastUpdate) les \(info.lastEpochStarted) bf \(info.lastBackfill)"
    default: return "\(op)".prefix(80).description
    }
  }
}
