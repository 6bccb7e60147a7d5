import Foundation
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoPeering
import LoligoPlacement
import LoligoTrace
import NIOCore

/// A client op the core holds: what is needed to answer it.
struct PendingOp {
  let message: Message
  let op: OSDOp
  let pgid: PGID
  let object: ObjectID
  let started: UInt64
  let isWrite: Bool
}

/// Client requests: decoded, checked and routed here, then handed to the core, which decides
/// when they run; answered from the core's outputs. On the loop.
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
    // Ceph's do_op check: a write carrying more than osd_max_write_size is refused whole,
    // before anything runs.
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
    guard map.pool(op.pool) != nil else {
      return reply(message, result: -2, operations: [], data: ByteBuffer())
    }
    let isList = op.operations.first?.code == .listObjects
    guard !op.objectName.isEmpty || (isList && op.operations.count == 1),
      !op.namespace.hasPrefix(PGStore.reservedNamespacePrefix)
    else {
      return reply(message, result: -22, operations: [], data: ByteBuffer())
    }
    let pgid: PGID
    if isList {
      pgid = PGID(pool: op.pool, seed: op.placementSeed)  // listing names its PG directly
    } else {
      guard
        let computed = try? map.pg(
          forObject: op.objectName, locator: ObjectLocator(pool: op.pool, namespace: op.namespace))
      else { return reply(message, result: -22, operations: [], data: ByteBuffer()) }
      pgid = computed
    }
    guard actingPrimary(of: pgid, in: map) == id else {
      stats.stale.add()
      return reply(message, result: Self.errStale, operations: [], data: ByteBuffer())
    }
    let object = ObjectID(op.objectName, namespace: op.namespace)
    let isWrite = op.operations.contains(where: \.code.isWrite)
    if isWrite && scrubbing.contains(pgid) {
      scrubHeld[pgid, default: []].append(message)  // runs once the scrub has read every copy
      return
    }
    let kind: ClientOp.Kind
    if isList {
      kind = .list
    } else if isWrite {
      // Checked here, once: the core and every replica apply it as it is.
      let payloads = OSDOpExecution.payloads(op.operations, data: message.data)
      do throws(OSDOpError) {
        guard
          try OSDOpExecution.transaction(
            op.operations, payloads: payloads, pg: pgid, object: object) != nil
        else { return reply(message, result: -22, operations: [], data: ByteBuffer()) }
      } catch {
        return reply(message, result: error.code, operations: [], data: ByteBuffer())
      }
      kind = .write(ClientMutation.mutation(op, data: message.data, dataCRC: message.dataCRC))
    } else {
      kind = .read
    }
    OSDTrace.opQueue(
      osd: id, client: source.num, tid: message.tid, pool: pgid.pool, seed: pgid.seed)
    stats.ops.add()
    OSDTrace.opStart(
      osd: id, client: source.num, tid: message.tid, pool: pgid.pool, seed: pgid.seed,
      object: op.objectName, write: isWrite)
    nextToken += 1
    let token = nextToken
    ops[token] = PendingOp(
      message: message, op: op, pgid: pgid, object: object, started: started, isWrite: isWrite)
    if isWrite {
      stats.writes.add()
      stats.inBytes.add(UInt64(message.data.readableBytes))
    }
    feed(
      .clientOp(
        ClientOp(
          token: token, pgid: pgid, reqid: RequestID(client: source.num, tid: message.tid),
          object: object, kind: kind)))
  }

  /// The PG's acting primary in `map`, computed once per PG and map (CRUSH is not free).
  func actingPrimary(of pgid: PGID, in map: OSDMap) -> Int32 {
    if primaryCacheEpoch != map.epoch {
      primaryCache.removeAll(keepingCapacity: true)
      primaryCacheEpoch = map.epoch
    }
    if let known = primaryCache[pgid] { return known }
    let primary = (try? map.map(pg: pgid))?.actingPrimary ?? -1
    primaryCache[pgid] = primary
    return primary
  }

  /// The core answered a write (or refused an op).
  func answer(_ token: UInt64, result: Int32) {
    guard let pending = ops.removeValue(forKey: token) else { return }
    let results = pending.op.operations.map { _ in OSDOpReply.OperationResult(result: result) }
    reply(
      pending.message, result: result, operations: result == 0 ? results : [], data: ByteBuffer())
    if pending.isWrite {
      stats.writeLatency.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - pending.started)
    }
  }

  /// The core lets a read (or listing) run now: answer it from the store.
  func execute(_ token: UInt64) {
    guard let pending = ops[token] else { return }
    let payloads = OSDOpExecution.payloads(pending.op.operations, data: pending.message.data)
    let isList = pending.op.operations.first?.code == .listObjects
    let (results, out, code, crc) = OSDOpExecution.reads(
      pending.op.operations, payloads: payloads, pg: pending.pgid, object: pending.object,
      store: store, listing: isList ? core.listing(pending.pgid) : ([], []))
    if code == -5, !pending.object.name.isEmpty {
      // This copy fails the store's checks: the core repairs it from a good one and runs the
      // read again; it answers EIO only when no copy is good.
      counters.counter("osd", "op_read_repair").add()
      Log.shared.error(
        "osd", "osd.\(id): \(pending.object) in \(pending.pgid) is unreadable here; repairing")
      feed(
        .unreadable(
          ClientOp(
            token: token, pgid: pending.pgid,
            reqid: RequestID(client: pending.message.source?.num ?? -1, tid: pending.message.tid),
            object: pending.object, kind: .read)))
      return
    }
    ops[token] = nil
    stats.reads.add()
    stats.outBytes.add(UInt64(out.readableBytes))
    reply(pending.message, result: code, operations: results, data: out, dataCRC: crc)
    stats.readLatency.record(nanoseconds: DispatchTime.now().uptimeNanoseconds - pending.started)
  }
}
