import Foundation
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoPeering
import LoligoPlacement
import LoligoTrace
import LoligoWire
import NIOCore

/// What a core transaction's commit completes, for the tracepoints.
struct CommitTrace {
  var pgid: PGID
  var entry: PGLogEntry
  var replica: Bool
}

/// The peering core's wiring: inputs in, outputs carried out. On the loop.
extension OSDDaemon {
  static func peeringConfig(_ config: Config) -> PeeringConfig {
    PeeringConfig(
      minLogEntries: config.int(.osdMinPGLogEntries),
      maxLogEntries: max(config.int(.osdMaxPGLogEntries), config.int(.osdMinPGLogEntries)),
      recoveryMaxActive: config.int(.osdRecoveryMaxActive),
      maxBackfills: config.int(.osdMaxBackfills),
      recoverySleep: UInt64(config.double(.osdRecoverySleep) * 1e9),
      backfillScanMax: config.int(.osdBackfillScanMax),
      opQueueTimeout: UInt64(config.double(.clientOpTimeout) * 2e9),
      decodeLimits: decodeLimits(config))
  }

  static func decodeLimits(_ config: Config) -> PGDecodeLimits {
    var limits = PGDecodeLimits()
    limits.maxLogEntries = max(config.int(.osdMaxPGLogEntries), 1) * 2
    limits.maxObjectBytes = Int(OSDOpExecution.maxObjectSize) + (1 << 20)
    return limits
  }

  /// Steps the core with `input`, then with whatever arrived while it ran.
  func feed(_ input: PeeringInput) {
    guard !stopped else { return }
    if coreStepping {
      coreBacklog.append(input)
      return
    }
    coreStepping = true
    var next: PeeringInput? = input
    while let current = next {
      let now = DispatchTime.now().uptimeNanoseconds
      for output in core.step(current, now: now) { carry(output) }
      next = coreBacklog.isEmpty ? nil : coreBacklog.removeFirst()
    }
    coreStepping = false
  }

  func carry(_ output: PeeringOutput) {
    switch output {
    case .store(let transaction, let token):
      submit(transaction, token: token)
    case .send(let to, let message):
      sendPG(message, to: to)
    case .reply(let token, let result):
      answer(token, result: result)
    case .execute(let token):
      execute(token)
    case .discard(let token):
      ops[token] = nil
    case .requestUpThru(let epoch):
      askUpThru(epoch)
    case .requestPGTemp(let pgid, let osds):
      askPGTemp(pgid, osds)
    }
  }

  func submit(_ transaction: PGTransaction, token: UInt64) {
    let storeTransaction: StoreTransaction
    do throws(OSDOpError) {
      storeTransaction = try PGStore.translate(transaction)
    } catch {
      // Only mutations this daemon checked and encoded reach here: a failure is a bug, and
      // the core counts on the transaction as much as on any other.
      return storeFailed(.corrupt("cannot translate a PG transaction: \(error.code)"))
    }
    traceSubmitted(transaction, token: token)
    store.submit(storeTransaction) { [weak self] result in
      guard let self else { return }
      self.onLoop {
        if case .failure(let error) = result {
          // Not committed: what the core keeps in memory counts on it. Never carried on.
          return self.storeFailed(error)
        }
        if let trace = self.commitTraces.removeValue(forKey: token) {
          OSDTrace.opStoreCommit(
            osd: self.id, client: trace.entry.reqid.client, tid: trace.entry.reqid.tid,
            pool: trace.pgid.pool, seed: trace.pgid.seed, version: trace.entry.version.version,
            replica: trace.replica, result: result.traceCode)
        }
        self.feed(.committed(token: token))
      }
    }
  }

  /// A write's log entry, so its store commit shows in the trace as the op's.
  func traceSubmitted(_ transaction: PGTransaction, token: UInt64) {
    guard OSDTrace.isStoreCommitEnabled else { return }
    for operation in transaction.operations {
      guard case .appendLog(let pgid, let entries) = operation, entries.count == 1 else {
        continue
      }
      let primary = (try? map?.map(pg: pgid))??.actingPrimary == id
      commitTraces[token] = CommitTrace(pgid: pgid, entry: entries[0], replica: !primary)
      if !primary {
        OSDTrace.repopStart(
          osd: id, client: entries[0].reqid.client, tid: entries[0].reqid.tid, pool: pgid.pool,
          seed: pgid.seed, version: entries[0].version.version)
      }
    }
  }

  func onLoop(_ body: @escaping @Sendable () -> Void) {
    if loop.inEventLoop { body() } else { loop.execute(body) }
  }

  // MARK: messages between OSDs

  func sendPG(_ message: PGMessage, to osd: Int32) {
    // Answers go back on the connection the peer's messages came in on, where they are
    // flushed with the read batch; what must stay in order (the primary's ordered channel,
    // queries) always takes this OSD's own session to the peer.
    let connection: Connection
    switch message.body {
    case .applied, .notify, .pulled, .reserveGranted, .reserveRejected:
      if let incoming = incoming[osd], !incoming.isClosed {
        connection = incoming
      } else if let outgoing = peer(osd) {
        connection = outgoing
      } else {
        return
      }
    default:
      guard let outgoing = peer(osd) else { return }
      connection = outgoing
    }
    if case .ordered(_, .repOp(let entry, _, _)) = message.body {
      OSDTrace.opReplicaSend(
        osd: id, client: entry.reqid.client, tid: entry.reqid.tid, pool: message.pgid.pool,
        seed: message.pgid.seed, replica: osd, version: entry.version.version)
      stats.subopsSent.add()
    }
    var front = ByteBuffer()
    let data = message.encode(into: &front)
    connection.send(Message(type: MessageType.osdPG, front: front, data: data))
  }

  func handlePGMessage(_ message: Message) {
    // The sender names itself (no auth): only an OSD number counts.
    guard let source = message.source, source.type == .osd,
      let osd = Int32(exactly: source.num), osd != id
    else { return }
    if let connection = message.connection { incoming[osd] = connection }
    var front = message.front
    let decoded: PGMessage
    do {
      decoded = try PGMessage(front: &front, data: message.data, limits: core.config.decodeLimits)
    } catch {
      counters.counter("osd", "pg_msg_malformed").add()
      Log.shared.error("osd", "osd.\(id): malformed PG message from osd.\(osd): \(error)")
      return
    }
    switch decoded.body {
    case .ordered(_, .repOp):
      stats.subops.add()
      stats.subopInBytes.add(UInt64(message.data.readableBytes))
    case .applied(_, .repOp(let version, let result)):
      if OSDTrace.isReplicaAckEnabled, let entry = core.logEntry(decoded.pgid, version) {
        OSDTrace.opReplicaAck(
          osd: id, client: entry.reqid.client, tid: entry.reqid.tid, pool: decoded.pgid.pool,
          seed: decoded.pgid.seed, replica: Int64(osd), result: result)
      }
    default:
      break
    }
    feed(.message(from: osd, decoded))
  }

  // MARK: requests to the monitors

  func askUpThru(_ epoch: UInt32) {
    guard !upThruInFlight else { return }  // the core asks again until it sees it
    upThruInFlight = true
    monClient.command(
      ["prefix": "osd alive", "id": Int(id), "want": Int(epoch)], timeout: .seconds(10)
    ).whenComplete { [weak self] _ in
      guard let self else { return }
      self.onLoop { self.upThruInFlight = false }
    }
  }

  func askPGTemp(_ pgid: PGID, _ osds: [Int32]) {
    guard !pgTempInFlight.contains(pgid) else { return }
    pgTempInFlight.insert(pgid)
    monClient.command(
      ["prefix": "osd pg-temp", "pgid": "\(pgid)", "id": osds.map { Int($0) }],
      timeout: .seconds(10)
    ).whenComplete { [weak self] result in
      guard let self else { return }
      self.onLoop {
        self.pgTempInFlight.remove(pgid)
        if case .success(let reply) = result, reply.result != 0 {
          Log.shared.log("osd", 1) { "osd.\(self.id): pg-temp \(pgid) \(osds): \(reply.status)" }
        }
      }
    }
  }

  // MARK: PG statistics

  /// Tells the monitors how the PGs this OSD leads are doing (Ceph's MPGStats).
  func reportPGStats() {
    guard !stopped, let map, map.isUp(id) else { return }
    let pgs = core.stats().map { pgStatFields($0) }
    _ = monClient.command(
      [
        "prefix": "pg stats", "id": Int(id), "epoch": Int(map.epoch), "pgs": pgs,
        "osd_stats": spaceFields,
      ],
      timeout: .seconds(5))
  }

  func pgStatFields(_ stat: PGStat) -> [String: Any] {
    // The metadata object is one of the collection's objects, not a client's.
    let usage = (try? store.usage(stat.pgid)) ?? (objects: 1, bytes: 0)
    let objects = max(0, usage.objects - 1)
    let bytes = Int(usage.bytes)
    let degraded = stat.missingCopies + stat.absentCopiesPerObject * objects
    var misplaced = 0
    if !stat.backfill.isEmpty {
      let names =
        (try? store.list(stat.pgid, after: nil, limit: Int.max))?
        .filter { !PGStore.isReserved($0) } ?? []
      for bound in stat.backfill.values {
        misplaced += names.filter { !bound.covers($0) }.count
      }
    }
    return [
      "pgid": "\(stat.pgid)", "state": stat.state, "up": stat.up.map { Int($0) },
      "acting": stat.acting.map { Int($0) }, "up_primary": Int(stat.upPrimary),
      "acting_primary": Int(stat.actingPrimary), "num_objects": objects,
      "num_bytes": bytes, "num_objects_degraded": degraded, "num_objects_misplaced": misplaced,
      "num_objects_unfound": stat.unfound, "num_objects_recovered": stat.recoveredObjects,
      "num_bytes_recovered": stat.recoveredBytes, "last_epoch_clean": Int(stat.lastEpochClean),
      "log_size": stat.logSize, "last_update": "\(stat.lastUpdate)",
      "blocked_by": stat.blockedBy.map { Int($0) }, "pool": Int(stat.pgid.pool),
    ]
  }
}
