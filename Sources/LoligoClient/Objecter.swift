import Foundation
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoPlacement
import LoligoTrace
import LoligoWire
import NIOConcurrencyHelpers
import NIOCore

/// Sends object operations to the right OSD: computes each operation's target from the current
/// OSD map (object → PG → acting primary), keeps one session per OSD, limits what is in flight
/// (`objecter_inflight_ops`, `objecter_inflight_op_bytes`), resends when the map moves the PG,
/// when a session resets or when the OSD says its map is newer, and completes every operation
/// exactly once (or fails it after `client_op_timeout`).
public final class Objecter: Dispatcher, @unchecked Sendable {  // mutable state under `lock`
  public let messenger: Messenger
  public let monClient: MonClient
  let maxOps: Int
  let maxBytes: Int
  let opTimeout: TimeAmount

  private let lock = NIOLock()
  private var map: OSDMap?
  private var ops: [UInt64: Op] = [:]
  private var queued: [Op] = []
  private var sessions: [Int32: Connection] = [:]
  private var nextTid: UInt64 = 0
  private var inflightBytes = 0
  private var mapWaiters: [(epoch: UInt32, promise: EventLoopPromise<Void>)] = []
  private var closed = false
  private var timer: RepeatedTask?
  /// Per map epoch: each PG's acting primary and each OSD's address, computed once, so an
  /// operation costs one object-name hash instead of a CRUSH run and an address parse.
  private var placements: [PGID: PGIntervalKey] = [:]
  private var addresses: [Int32: EntityAddr] = [:]

  public typealias Completion = @Sendable (Result<OSDResult, ObjecterError>) -> Void

  /// What an OSD answered: per-op results and the output bytes of the reads, in op order.
  public struct OSDResult: Sendable {
    public var result: Int32
    public var operations: [OSDOpReply.OperationResult]
    public var data: ByteBuffer
    /// crc32c (seed -1) of `data`, checked by the messenger on receipt (nil with crcs off).
    public var dataCRC: UInt32?

    /// The output of op `index`.
    /// Empty when the reply has no result for it or its bytes are not all there.
    public func output(_ index: Int) -> ByteBuffer {
      guard index >= 0, index < operations.count else { return ByteBuffer() }
      var offset = data.readerIndex
      for i in 0..<index { offset += Int(operations[i].outLength) }
      return data.getSlice(at: offset, length: Int(operations[index].outLength)) ?? ByteBuffer()
    }
  }

  // vars under Objecter.lock
  final class Op: @unchecked Sendable {
    let tid: UInt64
    let pool: Int64
    let object: String
    let namespace: String
    let operations: [OSDOperation]
    let data: ByteBuffer
    let dataCRC: UInt32?
    /// For PG listing: the PG seed; nil for object operations.
    let listSeed: UInt32?
    let completion: Completion
    let deadline: NIODeadline
    var target: Int32 = -1
    /// The PG's interval when last sent: a new one means the OSDs dropped it (they peer
    /// again), so it goes again even to the same primary, as Ceph's Objecter does.
    var interval: PGIntervalKey?
    var attempt: UInt32 = 0
    var sent = false

    init(
      tid: UInt64, pool: Int64, object: String, namespace: String, operations: [OSDOperation],
      data: ByteBuffer, dataCRC: UInt32?, listSeed: UInt32?, completion: @escaping Completion,
      deadline: NIODeadline
    ) {
      self.tid = tid
      self.pool = pool
      self.object = object
      self.namespace = namespace
      self.operations = operations
      self.data = data
      self.dataCRC = dataCRC
      self.listSeed = listSeed
      self.completion = completion
      self.deadline = deadline
    }
  }

  /// A client with its own messenger and monitor session, following the OSD map.
  public init(config: Config) throws {
    monClient = try MonClient.connect(config: config)
    messenger = try Messenger(
      name: EntityName(.client, Int64.random(in: 1..<Int64.max)), config: config,
      policy: .lossyClient)
    maxOps = config.int(.objecterInflightOps)
    maxBytes = config.int(.objecterInflightOpBytes)
    opTimeout = .nanoseconds(Int64(config.double(.clientOpTimeout) * 1e9))
    messenger.setDispatcher(self)
    monClient.onMap(MessageType.osdMap) { [weak self] message in
      guard let update = try? OSDMapUpdate(message) else { return }
      self?.receive(update)
    }
    monClient.subscribe("osdmap", from: 0)
    timer = messenger.group.next().scheduleRepeatedTask(
      initialDelay: .seconds(1), delay: .milliseconds(500)
    ) {
      [weak self] _ in self?.expire()
    }
  }

  public func shutdown() {
    let pending: [Op] = lock.withLock {
      closed = true
      defer {
        ops.removeAll()
        queued.removeAll()
      }
      return Array(ops.values) + queued
    }
    timer?.cancel()
    for op in pending { op.completion(.failure(.closed)) }
    let waiters = lock.withLock { () -> [EventLoopPromise<Void>] in
      defer { mapWaiters.removeAll() }
      return mapWaiters.map(\.promise)
    }
    for waiter in waiters { waiter.fail(ObjecterError.closed) }
    monClient.shutdown()
    messenger.shutdown()
  }

  /// The current map (nil before the first one arrives).
  public var osdMap: OSDMap? { lock.withLock { map } }

  /// Waits until a map of at least `epoch` has arrived (tools; not on an event loop).
  public func waitForMap(atLeast epoch: UInt32 = 1, timeout: TimeAmount = .seconds(30)) throws
    -> OSDMap
  {
    let loop = messenger.group.next()
    let (ready, promise): (OSDMap?, EventLoopPromise<Void>?) = lock.withLock {
      if let map, map.epoch >= epoch { return (map, nil) }
      let promise = loop.makePromise(of: Void.self)
      mapWaiters.append((epoch, promise))
      return (nil, promise)
    }
    if let ready { return ready }
    guard let promise else { throw ObjecterError.closed }
    let timeoutTask = promise.futureResult.eventLoop.scheduleTask(in: timeout) {
      promise.fail(ObjecterError.timedOut("no OSD map from the monitors"))
    }
    defer { timeoutTask.cancel() }
    try promise.futureResult.wait()
    return lock.withLock { map! }
  }

  // MARK: submitting

  /// Queues operations on one object; `completion` runs exactly once.
  public func submit(
    pool: Int64, object: String, namespace: String = "", operations: [OSDOperation],
    data: ByteBuffer = ByteBuffer(), dataCRC: UInt32? = nil, listSeed: UInt32? = nil,
    completion: @escaping Completion
  ) {
    let op: Op? = lock.withLock {
      guard !closed else { return nil }
      nextTid += 1
      ClientTrace.opSubmit(
        client: messenger.name.num, tid: nextTid, pool: pool, object: object,
        length: data.readableBytes, ops: operations.count,
        write: operations.contains { $0.code.isWrite })
      let op = Op(
        tid: nextTid, pool: pool, object: object, namespace: namespace, operations: operations,
        data: data, dataCRC: dataCRC, listSeed: listSeed, completion: completion,
        deadline: .now() + opTimeout)
      if ops.count >= maxOps || (inflightBytes + data.readableBytes > maxBytes && !ops.isEmpty) {
        queued.append(op)
        return nil
      }
      admit(op)
      return op
    }
    if let op {
      send(op)
    } else if lock.withLock({ closed }) {
      completion(.failure(.closed))
    }
  }

  /// Counts `op` in flight. Under `lock`.
  private func admit(_ op: Op) {
    ops[op.tid] = op
    inflightBytes += op.data.readableBytes
  }

  /// Computes `op`'s target and sends it; without a primary it waits for the next map.
  private func send(_ op: Op) {
    let plan: (Connection, Message)? = lock.withLock {
      guard ops[op.tid] === op, let map else { return nil }
      guard let pool = map.pool(op.pool) else {
        ops[op.tid] = nil
        inflightBytes -= op.data.readableBytes
        pendingFailures.append((op, .noPool(op.pool)))
        return nil
      }
      let pgid: PGID
      if let seed = op.listSeed {
        pgid = PGID(pool: op.pool, seed: seed)
      } else {
        guard
          let computed = try? map.pg(
            forObject: op.object, locator: ObjectLocator(pool: op.pool, namespace: op.namespace))
        else { return nil }
        pgid = computed
      }
      _ = pool
      let placement = cachedPlacement(pgid, map)
      let primary = placement?.primary ?? -1
      guard primary >= 0, let addr = cachedAddress(primary, map) else {
        op.target = -1
        return nil  // no primary now: the next map resends it
      }
      op.target = primary
      op.interval = placement
      op.sent = true
      let connection = session(primary, addr)
      var request = OSDOp(
        pool: op.pool, placementSeed: pgid.seed, objectName: op.object, namespace: op.namespace,
        epoch: map.epoch, attempt: op.attempt, operations: op.operations)
      request.attempt = op.attempt
      ClientTrace.opSend(
        client: messenger.name.num, tid: op.tid, osd: primary, pool: op.pool, seed: pgid.seed,
        attempt: op.attempt)
      op.attempt += 1
      let message = request.message(tid: op.tid, data: op.data)
      message.dataCRC = op.dataCRC
      return (connection, message)
    }
    flushFailures()
    guard let (connection, message) = plan, !connection.send(message) else { return }
    // The session refused it: one message larger than a connection may queue can never go;
    // otherwise the queue is full for now (or the session closed): try again shortly.
    let limit = messenger.maxQueuedBytes
    if message.payloadBytes > limit {
      finish(
        op.tid,
        .failure(
          .refused("a \(message.payloadBytes)-byte op is more than ms_max_queued_bytes (\(limit))"))
      )
    } else {
      messenger.group.next().scheduleTask(in: .milliseconds(10)) { [weak self] in
        self?.send(op)
      }
    }
  }

  private var pendingFailures: [(Op, ObjecterError)] = []

  /// Under `lock`.
  /// The PG's interval key in `map`, cached per map. Under `lock`.
  private func cachedPlacement(_ pgid: PGID, _ map: OSDMap) -> PGIntervalKey? {
    if let known = placements[pgid] { return known }
    let key = PGIntervalKey(pgid, in: map)
    placements[pgid] = key
    return key
  }

  /// Under `lock`.
  private func cachedAddress(_ osd: Int32, _ map: OSDMap) -> EntityAddr? {
    if let known = addresses[osd] { return known }
    guard let text = map.entry(osd)?.publicAddress, let addr = try? EntityAddr(parsing: text) else {
      return nil
    }
    addresses[osd] = addr
    return addr
  }

  private func flushFailures() {
    let failures: [(Op, ObjecterError)] = lock.withLock {
      defer { pendingFailures.removeAll() }
      return pendingFailures
    }
    for (op, error) in failures { op.completion(.failure(error)) }
    if !failures.isEmpty { admitQueued() }
  }

  /// A session to `osd`. Under `lock`.
  private func session(_ osd: Int32, _ addr: EntityAddr) -> Connection {
    if let existing = sessions[osd], !existing.isClosed, existing.peerAddr.hostPort == addr.hostPort
    {
      return existing
    }
    let connection = messenger.connect(to: addr, policy: .lossyClient)
    sessions[osd] = connection
    return connection
  }

  private func finish(_ tid: UInt64, _ result: Result<OSDResult, ObjecterError>) {
    let op: Op? = lock.withLock {
      guard let op = ops.removeValue(forKey: tid) else { return nil }
      inflightBytes -= op.data.readableBytes
      return op
    }
    guard let op else { return }
    ClientTrace.opComplete(client: messenger.name.num, tid: tid, result: Self.code(result))
    op.completion(result)
    admitQueued()
  }

  /// A completion's result as the trace shows it: the OSD's code, or a negative errno.
  static func code(_ result: Result<OSDResult, ObjecterError>) -> Int32 {
    switch result {
    case .success(let reply): return reply.result
    case .failure(.noPool): return -2  // ENOENT
    case .failure(.timedOut): return -110  // ETIMEDOUT
    case .failure(.closed): return -108  // ESHUTDOWN
    case .failure(.refused): return -90  // EMSGSIZE
    }
  }

  private func admitQueued() {
    let ready: [Op] = lock.withLock {
      var admitted: [Op] = []
      while let next = queued.first, ops.count < maxOps,
        inflightBytes + next.data.readableBytes <= maxBytes || ops.isEmpty
      {
        queued.removeFirst()
        admit(next)
        admitted.append(next)
      }
      return admitted
    }
    for op in ready { send(op) }
  }

  // MARK: maps

  private func receive(_ update: OSDMapUpdate) {
    let (changed, waiters): (OSDMap?, [EventLoopPromise<Void>]) = lock.withLock {
      guard let newMap = update.advance(map) else { return (nil, []) }
      map = newMap
      placements.removeAll(keepingCapacity: true)
      addresses.removeAll(keepingCapacity: true)
      let ready = mapWaiters.filter { $0.epoch <= newMap.epoch }
      mapWaiters.removeAll { $0.epoch <= newMap.epoch }
      return (newMap, ready.map(\.promise))
    }
    for waiter in waiters { waiter.succeed(()) }
    guard let newMap = changed else {
      if let map = osdMap, update.newest > map.epoch {
        monClient.subscribe("osdmap", from: map.epoch + 1)
      }
      return
    }
    // Resend what the new map sends elsewhere or to a new interval of its PG (the OSDs drop
    // ops of an interval they leave), and what had nowhere to go.
    let moved: [Op] = lock.withLock {
      ops.values.filter { op in
        !op.sent || Objecter.placement(of: op, in: newMap) != op.interval
      }
    }
    for op in moved { send(op) }
  }

  static func primary(of op: Op, in map: OSDMap) -> Int32 {
    placement(of: op, in: map)?.primary ?? -1
  }

  /// The interval key of the op's PG in `map`.
  static func placement(of op: Op, in map: OSDMap) -> PGIntervalKey? {
    let pgid: PGID?
    if let seed = op.listSeed {
      pgid = PGID(pool: op.pool, seed: seed)
    } else {
      pgid = try? map.pg(
        forObject: op.object, locator: ObjectLocator(pool: op.pool, namespace: op.namespace))
    }
    return pgid.flatMap { PGIntervalKey($0, in: map) }
  }

  private func expire() {
    let now = NIODeadline.now()
    let late: [UInt64] = lock.withLock { ops.values.filter { $0.deadline < now }.map(\.tid) }
    for tid in late { finish(tid, .failure(.timedOut("no answer within client_op_timeout"))) }
    let lateQueued: [Op] = lock.withLock {
      let late = queued.filter { $0.deadline < now }
      queued.removeAll { $0.deadline < now }
      return late
    }
    for op in lateQueued {
      op.completion(.failure(.timedOut("still queued after client_op_timeout")))
    }
  }

  // MARK: Dispatcher

  public func dispatch(_ message: Message) {
    guard message.type == MessageType.osdOpReply, let reply = try? OSDOpReply(message) else {
      return
    }
    ClientTrace.opReply(
      client: messenger.name.num, tid: message.tid, osd: message.source?.num ?? -1,
      result: reply.result)
    switch reply.result {
    case -116:
      // The OSD is not the primary in its map: ours is stale, or its is. Wait for a newer map
      // than the one it used, then resend.
      let op = lock.withLock { ops[message.tid] }
      guard let op else { return }
      let ourEpoch = osdMap?.epoch ?? 0
      if reply.epoch > ourEpoch { monClient.subscribe("osdmap", from: ourEpoch + 1) }
      messenger.group.next().scheduleTask(in: .milliseconds(20)) { [weak self] in
        guard let self else { return }
        // Op's fields are the Objecter's, read and written under its lock.
        let resend: Bool = self.lock.withLock {
          guard self.ops[op.tid] === op else { return false }
          if Objecter.primary(of: op, in: self.map ?? OSDMap()) != op.target
            || reply.epoch <= ourEpoch
          {
            return true
          }
          op.sent = false  // the next map resends it
          return false
        }
        if resend { self.send(op) }
      }
    case -11:
      let op = lock.withLock { ops[message.tid] }
      guard let op else { return }
      messenger.group.next().scheduleTask(in: .milliseconds(100)) { [weak self] in self?.send(op) }
    default:
      finish(
        message.tid,
        .success(
          OSDResult(
            result: reply.result, operations: reply.operations, data: message.data,
            dataCRC: message.dataCRC)))
    }
  }

  public func connectionReset(_ connection: Connection, reason: String) {
    let affected: [Op] = lock.withLock {
      let osds = sessions.filter { $0.value === connection }.map(\.key)
      for osd in osds { sessions[osd] = nil }
      return ops.values.filter { osds.contains($0.target) }
    }
    // The OSD may be gone: try again shortly; a map marking it down redirects these.
    for op in affected {
      messenger.group.next().scheduleTask(in: .milliseconds(200)) { [weak self] in self?.send(op) }
    }
  }
}

public enum ObjecterError: Error, CustomStringConvertible, Equatable {
  case noPool(Int64)
  case timedOut(String)
  case closed
  /// The messenger would never take the op (larger than a connection may queue).
  case refused(String)

  public var description: String {
    switch self {
    case .noPool(let id): return "pool \(id) does not exist"
    case .timedOut(let why): return "timed out: \(why)"
    case .closed: return "client closed"
    case .refused(let why): return "refused: \(why)"
    }
  }
}
