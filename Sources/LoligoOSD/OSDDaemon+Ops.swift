import Foundation
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoPlacement
import LoligoTrace
import NIOCore

/// Client requests and their replication. On the loop.
extension OSDDaemon {
  static let errStale: Int32 = -116
  static let errAgain: Int32 = -11

  func reply(
    _ message: Message, result: Int32, operations: [OSDOpReply.OperationResult], data: ByteBuffer,
    dataCRC: UInt32? = nil
  ) {
    let reply = OSDOpReply(result: result, epoch: map?.epoch ?? 0, operations: operations)
    OSDTrace.opReply(osd: id, client: message.source?.num ?? -1, tid: message.tid, result: result)
    let answer = reply.message(tid: message.tid, data: data)
    answer.dataCRC = dataCRC
    message.connection?.send(answer)
  }

  func handleClientOp(_ message: Message) {
    let started = DispatchTime.now().uptimeNanoseconds
    guard let source = message.source else { return }
    OSDTrace.opReceive(
      osd: id, client: source.num, tid: message.tid, length: message.payloadBytes)
    let op: OSDOp
    do {
      op = try OSDOp(message)
    } catch {
      // Malformed: answer and keep serving (the session stays; the bytes were framed fine).
      counters.counter("osd", "op_malformed").add()
      reply(message, result: -22, operations: [], data: ByteBuffer())
      return
    }
    do throws(OSDOpError) {
      try OSDOpExecution.checkWriteSize(
        op.operations, dataLength: message.data.readableBytes, maxWriteBytes: maxWriteBytes)
    } catch {
      Log.shared.error(
        "osd",
        "osd.\(id): op from \(source) tid \(message.tid) writes \(message.data.readableBytes) "
          + "bytes, more than osd_max_write_size (\(maxWriteBytes) bytes): refused")
      return reply(message, result: error.code, operations: [], data: ByteBuffer())
    }
    guard let map, op.epoch <= map.epoch else {
      // The client knows a newer map: wait for it (bounded by osd_op_timeout).
      let timeout = TimeAmount.nanoseconds(Int64(config.double(.osdOpTimeout) * 1e9))
      parked.append((op.epoch, message, .now() + timeout))
      monClient.subscribe("osdmap", from: (self.map?.epoch ?? 0) + 1)
      return
    }
    guard let pool = map.pool(op.pool) else {
      return reply(message, result: -2, operations: [], data: ByteBuffer())
    }
    guard !op.objectName.isEmpty || op.operations.allSatisfy({ $0.code == .listObjects }) else {
      return reply(message, result: -22, operations: [], data: ByteBuffer())
    }
    let pgid: PGID
    if op.operations.first?.code == .listObjects {
      pgid = PGID(pool: op.pool, seed: op.placementSeed)  // listing names its PG directly
    } else {
      guard
        let computed = try? map.pg(
          forObject: op.objectName, locator: ObjectLocator(pool: op.pool, namespace: op.namespace))
      else { return reply(message, result: -22, operations: [], data: ByteBuffer()) }
      pgid = computed
    }
    // The PG table holds each PG's acting set from the current map (set in `apply`).
    guard let pg = pgs[pgid], pg.primary == id else {
      stats.stale.add()
      return reply(message, result: Self.errStale, operations: [], data: ByteBuffer())
    }
    guard pg.acting.count >= Int(pool.minSize) else {
      return reply(message, result: Self.errAgain, operations: [], data: ByteBuffer())
    }
    let request = RequestID(client: source.num, tid: message.tid)
    OSDTrace.opQueue(
      osd: id, client: source.num, tid: message.tid, pool: pgid.pool, seed: pgid.seed)
    if let cached = pg.recent[request] {
      stats.duplicates.add()
      return reply(
        message, result: cached.result, operations: cached.operations, data: ByteBuffer())
    }
    if let version = pg.inProgress[request], let write = pg.inFlight[version],
      let connection = message.connection
    {
      write.waiting.append(connection)
      write.tids.append(message.tid)
      return
    }
    let object = ObjectID(op.objectName, namespace: op.namespace)
    let payloads = OSDOpExecution.payloads(op.operations, data: message.data)
    stats.ops.add()
    OSDTrace.opStart(
      osd: id, client: source.num, tid: message.tid, pool: pgid.pool, seed: pgid.seed,
      object: op.objectName, write: op.operations.contains(where: \.code.isWrite))
    guard op.operations.contains(where: \.code.isWrite) else {
      let (results, out, code, crc) = OSDOpExecution.reads(
        op.operations, payloads: payloads, pg: pgid, object: object, store: store)
      stats.reads.add()
      stats.outBytes.add(UInt64(out.readableBytes))
      reply(message, result: code, operations: results, data: out, dataCRC: crc)
      stats.readLatency.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
      return
    }
    if op.operations.contains(where: { $0.code == .delete }), (try? store.stat(pgid, object)) == nil
    {
      return reply(message, result: -2, operations: [], data: ByteBuffer())
    }
    var transaction: StoreTransaction
    do throws(OSDOpError) {
      guard
        let t = try OSDOpExecution.transaction(
          op.operations, payloads: payloads, pg: pgid, object: object, dataCRC: message.dataCRC)
      else { return reply(message, result: -22, operations: [], data: ByteBuffer()) }
      transaction = t
    } catch {
      return reply(message, result: error.code, operations: [], data: ByteBuffer())
    }
    pg.logVersion += 1
    let version = pg.logVersion
    transaction.append(
      .setOmap(pgid, Self.poolInfoObject, ["version": ByteBuffer(littleEndian: version)]))
    let replicas = Set(pg.acting).subtracting([id])
    let results = op.operations.map { _ in OSDOpReply.OperationResult(result: 0) }
    let write = InFlightWrite(
      request: request, version: version, operations: results, replicas: replicas, started: started,
      bytes: message.data.readableBytes)
    if let connection = message.connection {
      write.waiting.append(connection)
      write.tids.append(message.tid)
    }
    pg.inFlight[version] = write
    pg.inProgress[request] = version
    stats.writes.add()
    stats.inBytes.add(UInt64(message.data.readableBytes))
    store.submit(transaction) { [weak self] result in
      guard let self else { return }
      self.onLoop {
        write.localDone = true
        OSDTrace.opStoreCommit(
          osd: self.id, client: request.client, tid: request.tid, pool: pgid.pool,
          seed: pgid.seed, version: version, replica: false, result: result.traceCode)
        if case .failure(let error) = result {
          Log.shared.error("osd", "osd.\(self.id): store failed a write on \(pgid): \(error)")
          self.fail(pg, write, code: error.code)
          return
        }
        self.complete(pg, write)
      }
    }
    let repOp = OSDRepOp(
      pool: pgid.pool, seed: pgid.seed, epoch: map.epoch, logVersion: version,
      client: request.client,
      clientTid: request.tid, objectName: op.objectName, namespace: op.namespace,
      operations: op.operations)
    for replica in replicas {
      guard let connection = peer(replica) else {
        write.pendingReplicas.remove(replica)
        continue
      }
      OSDTrace.opReplicaSend(
        osd: id, client: request.client, tid: request.tid, pool: pgid.pool, seed: pgid.seed,
        replica: replica, version: version)
      repTid += 1
      repWaiting[repTid] = (pgid, version)
      let forward = repOp.message(tid: repTid, data: message.data)
      forward.dataCRC = message.dataCRC  // the same bytes: no second checksum pass
      connection.send(forward)
      stats.subopsSent.add()
    }
  }

  func onLoop(_ body: @escaping @Sendable () -> Void) {
    if loop.inEventLoop { body() } else { loop.execute(body) }
  }

  /// Answers the client once the write is durable here and on every replica still acting.
  func complete(_ pg: PG, _ write: InFlightWrite) {
    guard write.localDone, write.pendingReplicas.isEmpty, pg.inFlight[write.version] === write
    else { return }
    pg.inFlight[write.version] = nil
    pg.inProgress[write.request] = nil
    pg.remember(write.request, CachedReply(result: 0, operations: write.operations))
    let reply = OSDOpReply(result: 0, epoch: map?.epoch ?? 0, operations: write.operations)
    for (connection, tid) in zip(write.waiting, write.tids) {
      OSDTrace.opReply(osd: id, client: write.request.client, tid: tid, result: 0)
      connection.send(reply.message(tid: tid))
    }
    stats.writeLatency.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - write.started)
  }

  func fail(_ pg: PG, _ write: InFlightWrite, code: Int32) {
    pg.inFlight[write.version] = nil
    pg.inProgress[write.request] = nil
    let reply = OSDOpReply(result: code, epoch: map?.epoch ?? 0)
    for (connection, tid) in zip(write.waiting, write.tids) {
      OSDTrace.opReply(osd: id, client: write.request.client, tid: tid, result: code)
      connection.send(reply.message(tid: tid))
    }
  }

  // MARK: replicas

  func handleRepOp(_ message: Message) {
    let started = DispatchTime.now().uptimeNanoseconds
    guard let connection = message.connection else { return }
    let repOp: OSDRepOp
    do {
      repOp = try OSDRepOp(message)
    } catch {
      Log.shared.error("osd", "osd.\(id): malformed replica op: \(error)")
      return
    }
    // Replica ops come from OSDs, and their versions count up from 1: a version near 2^64 from
    // a peer would make this PG's next write overflow (here and after a restart).
    guard message.source?.type == .osd, repOp.logVersion < UInt64.max / 2 else {
      Log.shared.error(
        "osd",
        "osd.\(id): refused a replica op from \(message.source.map { "\($0)" } ?? "an unnamed peer")"
      )
      return
    }
    let pgid = PGID(pool: repOp.pool, seed: repOp.seed)
    let object = ObjectID(repOp.objectName, namespace: repOp.namespace)
    let payloads = OSDOpExecution.payloads(repOp.operations, data: message.data)
    let pg = pgFor(pgid)
    OSDTrace.repopStart(
      osd: id, client: repOp.client, tid: repOp.clientTid, pool: repOp.pool, seed: repOp.seed,
      version: repOp.logVersion)
    var transaction: StoreTransaction
    do throws(OSDOpError) {
      transaction =
        try OSDOpExecution.transaction(
          repOp.operations, payloads: payloads, pg: pgid, object: object,
          dataCRC: message.dataCRC) ?? StoreTransaction()
    } catch {
      connection.send(
        OSDRepOpReply(
          pool: repOp.pool, seed: repOp.seed, logVersion: repOp.logVersion, result: error.code
        ).message(tid: message.tid))
      return
    }
    if repOp.operations.contains(where: { $0.code == .delete }),
      (try? store.stat(pgid, object)) == nil
    {
      transaction = StoreTransaction()  // already gone here
    }
    pg.logVersion = max(pg.logVersion, repOp.logVersion)
    transaction.append(
      .setOmap(pgid, Self.poolInfoObject, ["version": ByteBuffer(littleEndian: pg.logVersion)]))
    stats.subops.add()
    stats.subopInBytes.add(UInt64(message.data.readableBytes))
    let tid = message.tid
    let latency = stats.subopLatency
    store.submit(transaction) { [id] result in
      let code: Int32
      switch result {
      case .success: code = 0
      case .failure(let error): code = error.code
      }
      OSDTrace.opStoreCommit(
        osd: id, client: repOp.client, tid: repOp.clientTid, pool: repOp.pool, seed: repOp.seed,
        version: repOp.logVersion, replica: true, result: code)
      connection.send(
        OSDRepOpReply(
          pool: repOp.pool, seed: repOp.seed, logVersion: repOp.logVersion, result: code
        ).message(tid: tid))
      latency.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
    }
  }

  func handleRepOpReply(_ message: Message) {
    guard let source = message.source, let reply = try? OSDRepOpReply(message),
      let waiting = repWaiting.removeValue(forKey: message.tid), let pg = pgs[waiting.pg],
      let write = pg.inFlight[waiting.version]
    else { return }
    OSDTrace.opReplicaAck(
      osd: id, client: write.request.client, tid: write.request.tid, pool: waiting.pg.pool,
      seed: waiting.pg.seed, replica: source.num, result: reply.result)
    if reply.result != 0 {
      Log.shared.error(
        "osd", "osd.\(id): osd.\(source.num) failed a replica write (\(reply.result))")
    }
    guard source.type == .osd, let replica = Int32(exactly: source.num) else { return }
    write.pendingReplicas.remove(replica)
    complete(pg, write)
  }
}
