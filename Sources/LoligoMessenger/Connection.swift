import LoligoCore
import LoligoTrace
import LoligoWire
import NIOConcurrencyHelpers
import NIOCore

/// A session with one peer: what `Messenger.connect` returns and what received messages point
/// back to. It outlives its transport streams: a lossless session reconnects and replays what
/// the peer has not acknowledged, so the peer sees every message once and in order.
///
/// Threading: all session state is owned by one event loop (`loop`). `send` and `close` may be
/// called from any thread; they queue under a lock and the loop drains the queue, which keeps
/// the order of sends from one thread even while the session moves to another loop (a
/// reconnect accepted on a different loop moves the session there, as Ceph does).
// loop-owned state, cross-thread state under `lock` (see above)
public final class Connection: @unchecked Sendable, CustomStringConvertible {
  enum State: String {
    case connecting, banner, hello, auth, authSignature, ident, ready, standby, closed
  }

  struct Outgoing {
    let seq: UInt64
    let message: Message
  }

  public let messenger: Messenger
  /// True for sessions this messenger opened (clients), false for accepted ones.
  public let isInitiator: Bool
  public let id: UInt64

  // MARK: cross-thread state (under `lock`)
  private let lock = NIOLock()
  private var currentLoop: any EventLoop
  private var pending: [Message] = []
  private var drainScheduled = false
  private var queuedBytes = 0
  private var closedFlag = false
  private var lockedPeerAddr: EntityAddr
  private var lockedPeerName: EntityName?

  // MARK: loop-owned state
  var state: State
  var stream: (any TransportStream)?
  var decoder: FrameDecoder
  var encoder: FrameEncoder
  var policy: Policy
  var peerType: EntityType?
  var peerGID: Int64 = -1
  /// Messages with their seq, oldest first, kept until acknowledged (lossless) or written (lossy).
  var sent = CircularBuffer<Outgoing>(initialCapacity: 64)
  /// How many entries at the front of `sent` were written on the current stream.
  var writtenCount = 0
  /// The buffer of the last write batch, kept for reuse.
  var outBuffer: ByteBuffer?
  var outSeq: UInt64 = 0
  var inSeq: UInt64 = 0
  var ackedInSeq: UInt64 = 0
  var clientCookie: UInt64 = 0
  var serverCookie: UInt64 = 0
  var globalSeq: UInt64 = 0
  var connectSeq: UInt64 = 0
  var peerGlobalSeq: UInt64 = 0
  var everReady = false
  /// Changes whenever the session leaves or enters standby, so stale timers do nothing.
  var standbyGeneration: UInt64 = 0
  /// KEEPALIVE2_ACK frames received (liveness of the peer, for tests and status).
  public internal(set) var keepaliveAcks: UInt64 {
    get { lock.withLock { lockedKeepaliveAcks } }
    set { lock.withLock { lockedKeepaliveAcks = newValue } }
  }
  private var lockedKeepaliveAcks: UInt64 = 0
  var readyResolved = false
  var failedAttempts = 0
  var inReadBatch = false
  var needsFlush = false
  /// The messages dispatched from the current socket read, for `loligo_msgr:received`.
  var receivedTrace = ReceivedTraceBatch()
  var readPaused = false
  var delayedAck: Scheduled<Void>?
  var readyTimeout: Scheduled<Void>?
  var reconnectTask: Scheduled<Void>?
  var keepaliveTask: RepeatedTask?
  var injector: FaultInjector
  let readyPromise: EventLoopPromise<Void>

  init(
    messenger: Messenger, loop: any EventLoop, initiator: Bool, peerAddr: EntityAddr, policy: Policy
  ) {
    self.messenger = messenger
    self.isInitiator = initiator
    self.id = messenger.nextConnectionID()
    self.currentLoop = loop
    self.lockedPeerAddr = peerAddr
    self.policy = policy
    self.state = initiator ? .connecting : .banner
    self.decoder = FrameDecoder(limits: messenger.frameLimits, crcData: messenger.crcData)
    self.encoder = FrameEncoder(crcData: messenger.crcData)
    self.injector = FaultInjector(
      oneIn: messenger.config.int(.msInjectSocketFailures), seed: UInt64.random(in: 1...UInt64.max))
    self.readyPromise = loop.makePromise()
    if initiator && !policy.lossy {
      clientCookie = UInt64.random(in: 1...UInt64.max)
    }
  }

  // A session dropped before it was ready or failed (a race of a restart with an accept):
  // NIO traps on a promise left unfulfilled, so its waiters hear that it closed instead.
  deinit {
    if !readyResolved { readyPromise.fail(MessengerError.closed("connection released")) }
  }

  // MARK: public surface

  /// The event loop that owns this session now.
  public var loop: any EventLoop { lock.withLock { currentLoop } }

  /// The peer's address (for accepted sessions, where it connected from).
  public var peerAddr: EntityAddr { lock.withLock { lockedPeerAddr } }

  /// The peer's entity name once the session is established.
  public var peerName: EntityName? { lock.withLock { lockedPeerName } }

  public var isClosed: Bool { lock.withLock { closedFlag } }

  /// Succeeds when the session is first established; fails if the first connection attempt
  /// fails (refused, unreachable, timed out) or the session is closed before that.
  public var ready: EventLoopFuture<Void> { readyPromise.futureResult }

  /// Whether the session is lossy (decided with the peer during the handshake).
  public var isLossy: Bool { lock.withLock { lockedLossy } }
  private var lockedLossy = false

  public var description: String { "conn(\(id) \(peerName.map { "\($0)" } ?? "?") \(peerAddr))" }

  /// Queues a message. Returns false if the session is closed or holds more than
  /// `ms_max_queued_bytes`. Safe from any thread; order is kept per sending thread.
  @discardableResult
  public func send(_ message: Message) -> Bool {
    let bytes = message.payloadBytes
    let (loop, schedule): ((any EventLoop)?, Bool) = lock.withLock {
      if closedFlag || queuedBytes + bytes > messenger.maxQueuedBytes { return (nil, false) }
      queuedBytes += bytes
      pending.append(message)
      let first = !drainScheduled
      drainScheduled = true
      return (currentLoop, first)
    }
    guard let loop else {
      if !isClosed {
        Log.shared.error("ms", "\(self) send refused: more than ms_max_queued_bytes queued")
      }
      return false
    }
    if loop.inEventLoop {
      drain()
    } else if schedule {
      loop.execute { self.drain() }
    }
    return true
  }

  /// Ends the session now (Ceph's mark_down): queued messages are dropped, the dispatcher is
  /// not called.
  public func close() {
    let loop = self.loop
    if loop.inEventLoop {
      shutdown(reason: "closed locally", notify: false)
    } else {
      loop.execute { self.close() }
    }
  }

  /// Sends a KEEPALIVE2 now.
  public func sendKeepalive() {
    onLoop {
      guard self.state == .ready else { return }
      self.writeKeepalive()
    }
  }

  // MARK: loop plumbing

  /// Runs `body` on the session's loop, following it if it moves.
  func onLoop(_ body: @escaping @Sendable () -> Void) {
    let loop = self.loop
    if loop.inEventLoop {
      body()
    } else {
      loop.execute { self.onLoop(body) }
    }
  }

  func moveToLoop(_ loop: any EventLoop) {
    lock.withLock { currentLoop = loop }
  }

  func setPeer(addr: EntityAddr? = nil, name: EntityName? = nil, lossy: Bool? = nil) {
    lock.withLock {
      if let addr { lockedPeerAddr = addr }
      if let name { lockedPeerName = name }
      if let lossy { lockedLossy = lossy }
    }
  }

  /// Moves queued sends into `sent`, assigning sequence numbers, and writes them if ready.
  func drain() {
    let loop = self.loop
    guard loop.inEventLoop else {
      loop.execute { self.drain() }
      return
    }
    var batch: [Message] = []
    lock.withLock {
      drainScheduled = false
      swap(&pending, &batch)
    }
    defer {
      // Hand the emptied array back so the next sends append without allocating.
      batch.removeAll(keepingCapacity: true)
      lock.withLock {
        if pending.isEmpty && pending.capacity < batch.capacity { swap(&pending, &batch) }
      }
    }
    if state == .closed { return }
    for message in batch {
      outSeq += 1
      MsgrTrace.send(
        conn: id, seq: outSeq, type: message.type, tid: message.tid, length: message.payloadBytes,
        myType: messenger.name.type.rawValue, myNum: messenger.name.num,
        peerType: peerType?.rawValue ?? 0, peerNum: peerGID)
      sent.append(Outgoing(seq: outSeq, message: message))
    }
    if state == .ready { writeQueued() }
  }

  /// Releases the byte count of messages that left the queue.
  func released(_ bytes: Int) {
    guard bytes > 0 else { return }
    lock.withLock { queuedBytes -= bytes }
  }

  func resumeReading() {
    onLoop {
      guard self.readPaused else { return }
      self.readPaused = false
      self.stream?.setReadEnabled(true)
    }
  }

  /// Marks closed under the lock; returns false if it already was.
  func markClosed() -> Bool {
    lock.withLock {
      if closedFlag { return false }
      closedFlag = true
      pending.removeAll()
      queuedBytes = 0
      return true
    }
  }
}
