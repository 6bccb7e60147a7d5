import LoligoWire

/// Joins a trace's events into messages and operations.
///
/// - A message is followed from the sender's `send` (and `encode`) and `write` to the
///   receiver's `read` (and `decode`) and `dispatch`. Within a process the connection and seq
///   tie them: `encode` and `decode` name the seq, `write` flushes every message of its
///   connection up to its seq, and a message's `read` is the connection's last one before its
///   dispatch. Across processes, `send` and `dispatch` name both ends (entity type and number),
///   so (sender, receiver, type, tid) pairs them, oldest first; a message sent before its
///   session was established learns its receiver from `session_ready`.
/// - Recorded per batch (the default), a message is one entry of the receiver's `received`
///   (its read is the connection's last `read`, its dispatch the event itself); the sender's
///   side is the first `write`, on a session with the same two ends, whose seq reaches the
///   message's and which came before the read.
/// - An operation is a client's (client number, tid): the reqid that the Objecter's events,
///   the OSD's events, the OSD_OP request message and its OSD_OPREPLY all carry. A
///   perf-msgr run has only the messages, which is enough for the messenger stages.
/// - A Paxos round is its version: the leader's begin, the accepts, the commits.
public struct TraceAnalysis: Sendable {
  public private(set) var messages: [MessageRecord] = []
  public private(set) var operations: [OperationRecord] = []
  public private(set) var paxosRounds: [PaxosRound] = []
  /// Per process: its name and what it is (an entity such as `osd.0`), by vpid.
  public private(set) var processes: [Int32: TracedProcess] = [:]

  public init(_ trace: TraceData) {
    var join = Join()
    for event in trace.events { join.add(event) }
    messages = join.messages
    operations = join.operations
    paxosRounds = join.paxos.keys.sorted().map { join.paxos[$0]! }
    var firstSeen: [Int32: UInt64] = [:]
    // Processes that only said their name (the recorder itself, idle tools) are left out.
    for event in trace.events where event.kind != .processName && firstSeen[event.vpid] == nil {
      firstSeen[event.vpid] = event.time
    }
    for (vpid, first) in firstSeen {
      // A process is the daemon it runs rather than the clients it uses (an OSD's monitor
      // client), and among equals the entity it speaks as most.
      let entity = join.entityVotes[vpid]?.max {
        ($0.key.rank, $0.value) < ($1.key.rank, $1.value)
      }?.key
      processes[vpid] = TracedProcess(
        vpid: vpid, name: trace.processNames[vpid] ?? "", entity: entity, firstEvent: first)
    }
  }

  /// The time of the first event (the zero of the exports' relative times).
  public static func start(of trace: TraceData) -> UInt64 { trace.events.first?.time ?? 0 }
}

/// An entity name: type (`EntityType`'s raw value: 1 mon, 4 osd, 8 client) and number.
public struct Entity: Hashable, Sendable, CustomStringConvertible {
  public var type: UInt8
  public var num: Int64

  public init(type: UInt8, num: Int64) {
    self.type = type
    self.num = num
  }

  public var description: String {
    let names: [UInt8: String] = [1: "mon", 2: "mds", 4: "osd", 8: "client", 16: "mgr"]
    return "\(names[type] ?? "type\(type)").\(num)"
  }

  /// Which entity names a process best: the daemon it is rather than the clients it uses.
  var rank: Int {
    switch type {
    case 4: return 3
    case 1: return 2
    case 8: return 1
    default: return 0
    }
  }
}

public struct TracedProcess: Sendable {
  public var vpid: Int32
  public var name: String
  public var entity: Entity?
  public var firstEvent: UInt64

  /// `perf-msgr-serve osd.0 (pid 123)`.
  public var label: String {
    var parts: [String] = []
    if !name.isEmpty { parts.append(name) }
    if let entity { parts.append("\(entity)") }
    parts.append("(pid \(vpid))")
    return parts.joined(separator: " ")
  }
}

/// One message, as much of it as the trace saw (the sender or the receiver may be missing).
public struct MessageRecord: Sendable {
  public var type: UInt16
  public var tid: UInt64
  public var seq: UInt64 = 0
  public var length: Int64 = 0
  public var from: Entity?
  public var to: Entity?
  public var sender: ThreadID?
  public var receiver: ThreadID?
  public var send: UInt64?
  public var encode: UInt64?
  public var write: UInt64?
  public var read: UInt64?
  public var decode: UInt64?
  public var dispatch: UInt64?
}

/// One client operation, keyed by its reqid.
public struct OperationRecord: Sendable {
  public var client: Int64
  public var tid: UInt64
  public var object = ""
  public var pool: Int64 = -1
  public var seed: UInt32?
  public var osd: Int32 = -1
  public var isWrite: Bool?
  public var result: Int64?
  public var attempts = 0
  public var clientThread: ThreadID?
  public var osdThread: ThreadID?
  public var submit: UInt64?
  public var clientSend: UInt64?
  public var clientReply: UInt64?
  public var complete: UInt64?
  public var osdReceive: UInt64?
  public var osdQueue: UInt64?
  public var osdStart: UInt64?
  public var osdStoreCommit: UInt64?
  public var osdReply: UInt64?
  public var firstReplicaSend: UInt64?
  public var lastReplicaAck: UInt64?
  public var replicaSends = 0
  public var replicaAcks = 0
  /// Replica-side events (repop start, store commit on a replica) seen for this reqid.
  public var replicaEvents = 0
  /// Indices into `TraceAnalysis.messages`: the first request and the last reply.
  public var request: Int?
  public var reply: Int?

  /// "pool.seed" in hex, as Ceph prints a PG id.
  public var pg: String {
    guard let seed, pool >= 0 else { return "" }
    return "\(pool).\(String(seed, radix: 16))"
  }

  public var name: String { "client.\(client):\(tid)" }
}

/// One Paxos version.
public struct PaxosRound: Sendable {
  public var version: UInt64
  public var leader: Int32 = -1
  public var begin: UInt64?
  public var accepts: [UInt64] = []
  public var leaderCommit: UInt64?
  public var commits = 0
  public var thread: ThreadID?
}

/// The streaming join (events in time order).
private struct Join {
  struct ConnKey: Hashable {
    var vpid: Int32
    var conn: Int64
  }
  struct ConnSeq: Hashable {
    var vpid: Int32
    var conn: Int64
    var seq: Int64
  }
  struct MessageKey: Hashable {
    var from: Entity
    var to: Entity
    var type: Int64
    var tid: Int64
  }
  struct OpKey: Hashable {
    var client: Int64
    var tid: UInt64
  }

  var messages: [MessageRecord] = []
  var operations: [OperationRecord] = []
  var paxos: [UInt64: PaxosRound] = [:]
  var entityVotes: [Int32: [Entity: Int]] = [:]

  private var unwritten: [ConnKey: FIFO<Int>] = [:]
  private var unencoded: [ConnSeq: Int] = [:]
  private var unreceived: [MessageKey: FIFO<Int>] = [:]
  private var lastRead: [ConnKey: UInt64] = [:]
  private var decoded: [ConnSeq: UInt64] = [:]
  /// Each session's two ends (from `session_ready`), for messages sent before it was ready.
  private var ends: [ConnKey: (my: Entity, peer: Entity)] = [:]
  private var awaitingPeer: [ConnKey: [Int]] = [:]
  private var opIndex: [OpKey: Int] = [:]
  /// Every sending session's flushes, by its two ends (for `received` without `send`).
  private var flushLogs: [FlushLog] = []
  private var flushLogsByEnds: [Ends: [Int]] = [:]
  private var currentFlushLog: [ConnKey: Int] = [:]
  /// Connections whose messages have `dispatch` events: their `received` entries repeat them.
  private var dispatchedConns: Set<ConnKey> = []

  struct Ends: Hashable {
    var my: Entity
    var peer: Entity

    var isKnown: Bool { my.type != 0 && peer.type != 0 && my.num >= 0 && peer.num >= 0 }
  }

  /// One session's flushes in time order, with non-decreasing seqs.
  struct FlushLog {
    var ends: Ends
    var thread: ThreadID
    var times: [UInt64] = []
    var seqs: [UInt64] = []

    /// The first flush that carried `seq`, if it came no later than `bound`.
    func firstFlush(reaching seq: UInt64, notAfter bound: UInt64) -> UInt64? {
      var low = 0
      var high = seqs.count
      while low < high {
        let mid = (low + high) / 2
        if seqs[mid] < seq { low = mid + 1 } else { high = mid }
      }
      guard low < seqs.count, times[low] <= bound else { return nil }
      return times[low]
    }
  }

  mutating func add(_ e: TraceEvent) {
    let thread = ThreadID(vpid: e.vpid, vtid: e.vtid)
    switch e.kind {
    case .msgrSessionReady:
      let key = ConnKey(vpid: e.vpid, conn: e.int("conn"))
      let my = entity(e, "my")
      let peer = entity(e, "peer")
      ends[key] = (my, peer)
      for index in awaitingPeer.removeValue(forKey: key) ?? [] {
        messages[index].to = peer
        expectReceipt(index)
      }
    case .msgrSend:
      let key = ConnKey(vpid: e.vpid, conn: e.int("conn"))
      let my = entity(e, "my")
      vote(e.vpid, my)
      var record = MessageRecord(
        type: UInt16(truncatingIfNeeded: e.int("type")), tid: UInt64(bitPattern: e.int("tid")))
      record.seq = UInt64(bitPattern: e.int("seq"))
      record.length = e.int("length")
      record.from = my
      record.sender = thread
      record.send = e.time
      let index = messages.count
      messages.append(record)
      unwritten[key, default: FIFO()].push(index)
      unencoded[ConnSeq(vpid: e.vpid, conn: key.conn, seq: e.int("seq"))] = index
      let peer = entity(e, "peer")
      if peer.type != 0 {
        messages[index].to = peer
        expectReceipt(index)
      } else if let known = ends[key] {
        messages[index].to = known.peer
        expectReceipt(index)
      } else {
        awaitingPeer[key, default: []].append(index)  // queued before the handshake ended
      }
    case .msgrEncode:
      let key = ConnSeq(vpid: e.vpid, conn: e.int("conn"), seq: e.int("seq"))
      if let index = unencoded.removeValue(forKey: key) { messages[index].encode = e.time }
    case .msgrWrite:
      let key = ConnKey(vpid: e.vpid, conn: e.int("conn"))
      let seq = UInt64(bitPattern: e.int("seq"))
      logFlush(e, key: key, seq: seq, thread: thread)
      while let index = unwritten[key]?.peek(), messages[index].seq <= seq {
        _ = unwritten[key]?.pop()
        messages[index].write = e.time
        // Written means encoded: an encode event can no longer come.
        unencoded[
          ConnSeq(vpid: e.vpid, conn: key.conn, seq: Int64(bitPattern: messages[index].seq))] =
          nil
      }
    case .msgrRead:
      lastRead[ConnKey(vpid: e.vpid, conn: e.int("conn"))] = e.time
    case .msgrDecode:
      decoded[ConnSeq(vpid: e.vpid, conn: e.int("conn"), seq: e.int("seq"))] = e.time
    case .msgrDispatch:
      let my = entity(e, "my")
      let peer = entity(e, "peer")
      vote(e.vpid, my)
      let conn = e.int("conn")
      let type = e.int("type")
      let tid = e.int("tid")
      dispatchedConns.insert(ConnKey(vpid: e.vpid, conn: conn))
      let index: Int
      if let sent = unreceived[MessageKey(from: peer, to: my, type: type, tid: tid)]?.pop() {
        index = sent
      } else {
        index = messages.count  // the sender was not traced
        var record = MessageRecord(
          type: UInt16(truncatingIfNeeded: type), tid: UInt64(bitPattern: tid))
        record.seq = UInt64(bitPattern: e.int("seq"))
        record.length = e.int("length")
        record.from = peer
        record.to = my
        messages.append(record)
        noteMessage(index)
      }
      messages[index].receiver = thread
      messages[index].dispatch = e.time
      messages[index].decode = decoded.removeValue(
        forKey: ConnSeq(vpid: e.vpid, conn: conn, seq: e.int("seq")))
      messages[index].read = lastRead[ConnKey(vpid: e.vpid, conn: conn)]
    case .msgrReceived:
      received(e, thread: thread)
    case .clientSubmit:
      vote(e.vpid, Entity(type: 8, num: e.int("client")))
      op(e) {
        $0.submit = $0.submit ?? e.time
        $0.object = e.text("object")
        $0.pool = e.int("pool")
        $0.isWrite = e.int("write") != 0
        $0.clientThread = thread
      }
    case .clientSend:
      op(e) {
        $0.clientSend = $0.clientSend ?? e.time
        $0.attempts += 1
        $0.osd = Int32(truncatingIfNeeded: e.int("osd"))
        $0.seed = UInt32(truncatingIfNeeded: e.int("seed"))
        $0.pool = e.int("pool")
        if $0.clientThread == nil { $0.clientThread = thread }
      }
    case .clientReply:
      op(e) {
        $0.clientReply = e.time
        $0.result = e.int("result")
      }
    case .clientComplete:
      op(e) {
        $0.complete = e.time
        $0.result = e.int("result")
      }
    case .osdReceive:
      vote(e.vpid, Entity(type: 4, num: e.int("osd")))
      op(e) {
        $0.osdReceive = $0.osdReceive ?? e.time
        $0.osdThread = thread
        $0.osd = Int32(truncatingIfNeeded: e.int("osd"))
      }
    case .osdQueue:
      op(e) {
        $0.osdQueue = $0.osdQueue ?? e.time
        $0.pool = e.int("pool")
        $0.seed = UInt32(truncatingIfNeeded: e.int("seed"))
      }
    case .osdStart:
      op(e) {
        $0.osdStart = $0.osdStart ?? e.time
        if $0.object.isEmpty { $0.object = e.text("object") }
        $0.isWrite = e.int("write") != 0
      }
    case .osdReplicaSend:
      op(e) {
        $0.firstReplicaSend = $0.firstReplicaSend ?? e.time
        $0.replicaSends += 1
      }
    case .osdReplicaAck:
      op(e) {
        $0.lastReplicaAck = e.time
        $0.replicaAcks += 1
      }
    case .osdStoreCommit:
      op(e) {
        if e.int("replica") != 0 {
          $0.replicaEvents += 1
        } else {
          $0.osdStoreCommit = $0.osdStoreCommit ?? e.time
        }
      }
    case .osdRepopStart:
      vote(e.vpid, Entity(type: 4, num: e.int("osd")))
      op(e) { $0.replicaEvents += 1 }
    case .osdReply:
      op(e) {
        $0.osdReply = e.time
        if $0.result == nil { $0.result = e.int("result") }
      }
    case .paxosBegin:
      let version = UInt64(bitPattern: e.int("version"))
      var round = paxos[version] ?? PaxosRound(version: version)
      round.begin = round.begin ?? e.time
      round.leader = Int32(truncatingIfNeeded: e.int("rank"))
      round.thread = thread
      paxos[version] = round
    case .paxosAccept:
      let version = UInt64(bitPattern: e.int("version"))
      paxos[version, default: PaxosRound(version: version)].accepts.append(e.time)
    case .paxosCommit:
      let version = UInt64(bitPattern: e.int("version"))
      var round = paxos[version] ?? PaxosRound(version: version)
      round.commits += 1
      if e.int("leader") != 0 { round.leaderCommit = round.leaderCommit ?? e.time }
      paxos[version] = round
    case .processName, .other:
      break
    }
  }

  /// Notes a flush of a session whose two ends are known (from the event or `session_ready`).
  private mutating func logFlush(_ e: TraceEvent, key: ConnKey, seq: UInt64, thread: ThreadID) {
    // Before the handshake ends a session knows its peer's type at most (number -1).
    var ends = Ends(my: entity(e, "my"), peer: entity(e, "peer"))
    if !ends.isKnown, let known = self.ends[key] {
      ends = Ends(my: known.my, peer: known.peer)
    }
    guard ends.isKnown else { return }
    if let i = currentFlushLog[key], flushLogs[i].ends == ends,
      let last = flushLogs[i].seqs.last, last <= seq
    {
      flushLogs[i].times.append(e.time)
      flushLogs[i].seqs.append(seq)
      return
    }
    // A new session, or one whose numbering restarted (a lossy session's reset).
    currentFlushLog[key] = flushLogs.count
    flushLogsByEnds[ends, default: []].append(flushLogs.count)
    flushLogs.append(FlushLog(ends: ends, thread: thread, times: [e.time], seqs: [seq]))
  }

  /// One `received` event: a message record per entry, joined to its sender's flush.
  private mutating func received(_ e: TraceEvent, thread: ThreadID) {
    let key = ConnKey(vpid: e.vpid, conn: e.int("conn"))
    guard !dispatchedConns.contains(key) else { return }
    var my = entity(e, "my")
    var peer = entity(e, "peer")
    if !Ends(my: my, peer: peer).isKnown, let known = ends[key] {
      my = known.my
      peer = known.peer
    }
    vote(e.vpid, my)
    let types = e.ints("types")
    let tids = e.ints("tids")
    let lengths = e.ints("lengths")
    let firstSeq = UInt64(bitPattern: e.int("first_seq"))
    let read = lastRead[key]
    let senders = flushLogsByEnds[Ends(my: peer, peer: my)] ?? []
    for i in 0..<min(types.count, tids.count, lengths.count) {
      let seq = firstSeq &+ UInt64(i)
      let messageKey = MessageKey(from: peer, to: my, type: types[i], tid: tids[i])
      let index: Int
      if let sent = unreceived[messageKey]?.pop() {
        index = sent  // the sender recorded `send` events
      } else {
        index = messages.count
        var record = MessageRecord(
          type: UInt16(truncatingIfNeeded: types[i]), tid: UInt64(bitPattern: tids[i]))
        record.seq = seq
        record.length = lengths[i]
        record.from = peer
        record.to = my
        // The latest matching flush: an older session of the same two ends flushed earlier.
        for i in senders {
          if let time = flushLogs[i].firstFlush(reaching: seq, notAfter: read ?? e.time),
            time >= record.write ?? 0
          {
            record.write = time
            record.sender = flushLogs[i].thread
          }
        }
        messages.append(record)
        noteMessage(index)
      }
      messages[index].receiver = thread
      messages[index].dispatch = messages[index].dispatch ?? e.time
      messages[index].read = read
    }
  }

  private func entity(_ e: TraceEvent, _ end: String) -> Entity {
    Entity(type: UInt8(truncatingIfNeeded: e.int(end + "_type")), num: e.int(end + "_num"))
  }

  /// A sent message whose two ends are known: the receiver's dispatch will look for it.
  private mutating func expectReceipt(_ index: Int) {
    let m = messages[index]
    guard let from = m.from, let to = m.to else { return }
    let key = MessageKey(from: from, to: to, type: Int64(m.type), tid: Int64(bitPattern: m.tid))
    unreceived[key, default: FIFO()].push(index)
    noteMessage(index)
  }

  private mutating func vote(_ vpid: Int32, _ entity: Entity) {
    entityVotes[vpid, default: [:]][entity, default: 0] += 1
  }

  /// Client requests and OSD replies belong to their operation.
  private mutating func noteMessage(_ index: Int) {
    let message = messages[index]
    guard let from = message.from, let to = message.to else { return }
    if message.type == MessageType.osdOp && from.type == 8 {
      let i = opSlot(OpKey(client: from.num, tid: message.tid))
      if operations[i].request == nil { operations[i].request = index }
      if operations[i].osd < 0 && to.type == 4 {
        operations[i].osd = Int32(truncatingIfNeeded: to.num)
      }
    } else if message.type == MessageType.osdOpReply && to.type == 8 {
      let i = opSlot(OpKey(client: to.num, tid: message.tid))
      operations[i].reply = index
    }
  }

  private mutating func op(_ e: TraceEvent, _ update: (inout OperationRecord) -> Void) {
    let i = opSlot(OpKey(client: e.int("client"), tid: UInt64(bitPattern: e.int("tid"))))
    update(&operations[i])
  }

  private mutating func opSlot(_ key: OpKey) -> Int {
    if let i = opIndex[key] { return i }
    opIndex[key] = operations.count
    operations.append(OperationRecord(client: key.client, tid: key.tid))
    return operations.count - 1
  }
}

/// A queue that pops from the front without moving the rest.
private struct FIFO<T> {
  private var items: [T] = []
  private var head = 0

  mutating func push(_ item: T) { items.append(item) }

  func peek() -> T? { head < items.count ? items[head] : nil }

  mutating func pop() -> T? {
    guard head < items.count else { return nil }
    let item = items[head]
    head += 1
    if head > 64 && head * 2 > items.count {
      items.removeFirst(head)
      head = 0
    }
    return item
  }
}
