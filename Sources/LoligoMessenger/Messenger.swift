import Atomics
import CLoligoSys
import LoligoCore
import LoligoWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One endpoint of the messenger: an entity name, an optional listening address, a set of
/// event loops (`ms_async_op_threads`) shared by its sessions, a transport, and the dispatcher
/// that receives messages.
// mutable state under `lock`, counters atomic, the rest immutable
public final class Messenger: @unchecked Sendable {
  public let name: EntityName
  public let config: Config
  public let group: any EventLoopGroup
  public let transport: any Transport
  public let nonce: UInt32
  public private(set) weak var dispatcher: (any Dispatcher)?

  let frameLimits: FrameDecoder.Limits
  let crcData: Bool
  let readyTimeout: Double
  /// `ms_max_queued_bytes`: what one connection may hold queued for sending.
  public let maxQueuedBytes: Int
  let transportOptions: TransportOptions
  let throttle: DispatchThrottle?
  /// Bytes, frames and reconnects, for metrics.
  public let counters = MessengerCounters()

  private let lock = NIOLock()
  private var listener: (any TransportListener)?
  private var boundAddr: EntityAddr = .blank
  private var learnedAddr: EntityAddr = .blank
  private var defaultPolicy: Policy
  private var policies: [EntityType: Policy] = [:]
  private var sessions: [UInt64: Connection] = [:]
  private var connections: [ObjectIdentifier: Connection] = [:]
  private var outgoing: [EntityAddr: Connection] = [:]
  private var isShutDown = false
  private let globalSeqCounter = ManagedAtomic<UInt64>(0)
  private let globalIDCounter = ManagedAtomic<UInt64>(0)
  private let connectionIDCounter = ManagedAtomic<UInt64>(0)

  /// - Parameters:
  ///   - name: who this messenger speaks for (`client.0`, `osd.3`).
  ///   - policy: the default session policy; `setPolicy(_:for:)` refines it per peer type.
  ///   - nonce: tells this process apart from an earlier one at the same address.
  public init(
    name: EntityName, config: Config, policy: Policy,
    nonce: UInt32 = UInt32.random(in: 1...UInt32.max),
    transport: (any Transport)? = nil
  ) throws {
    self.name = name
    self.config = config
    self.nonce = nonce
    Cycles.initialize()  // calibrate now, not on the first timed message
    Messenger.tuneMalloc
    self.defaultPolicy = policy
    switch config.string(.msType) {
    case "tcp":
      self.transport = transport ?? TCPTransport()
    case "rdma":
      if let transport {
        self.transport = transport
      } else {
        do {
          self.transport = try RDMATransport(config: config)
        } catch {
          throw MessengerError.transportUnavailable("ms_type rdma: \(error)")
        }
      }
    default:
      guard let transport else {
        throw MessengerError.bindFailed(
          "ms_type \(config.string(.msType)) is not available in this build")
      }
      self.transport = transport
    }
    self.group = MultiThreadedEventLoopGroup(numberOfThreads: config.int(.msAsyncOpThreads))
    let maxMessage = config.int(.msMaxMessageSize)
    self.frameLimits = FrameDecoder.Limits(maxMessageBytes: maxMessage)
    self.crcData = config.bool(.msCrcData)
    self.readyTimeout = config.double(.msConnectionReadyTimeout)
    self.maxQueuedBytes = config.int(.msMaxQueuedBytes)
    var options = TransportOptions()
    options.noDelay = config.bool(.msTcpNodelay)
    options.receiveBufferSize = config.int(.msTcpRcvbuf)
    options.handshakeTimeout = .nanoseconds(Int64(config.double(.msConnectionReadyTimeout) * 1e9))
    self.transportOptions = options
    let throttleBytes = config.int(.msDispatchThrottleBytes)
    self.throttle = throttleBytes > 0 ? DispatchThrottle(limit: throttleBytes) : nil
  }

  /// Once per process, before the first large buffer.
  private static let tuneMalloc: Void = loligo_tune_malloc()

  deinit {
    // The last reference may go away on one of our own loops: never block here.
    group.shutdownGracefully { _ in }
  }

  /// Sets who receives messages. Call before `bind`/`connect`.
  public func setDispatcher(_ dispatcher: any Dispatcher) {
    lock.withLock { self.dispatcher = dispatcher }
  }

  public func setPolicy(_ policy: Policy, for peerType: EntityType) {
    lock.withLock { policies[peerType] = policy }
  }

  func policy(for peerType: EntityType?) -> Policy {
    lock.withLock { peerType.flatMap { policies[$0] } ?? defaultPolicy }
  }

  /// Where this messenger listens, or how a peer last saw it.
  public var myAddr: EntityAddr {
    lock.withLock { boundAddr.isBlank ? learnedAddr.withNonce(nonce) : boundAddr }
  }

  func learnAddress(_ addr: EntityAddr) {
    lock.withLock {
      if learnedAddr.isBlank { learnedAddr = addr.withNonce(nonce) }
    }
  }

  /// Listens on `address` (port 0 picks a free port). Returns the bound address.
  @discardableResult
  public func bind(_ address: EntityAddr) throws -> EntityAddr {
    let socketAddress = try address.socketAddress()
    let future = transport.listen(
      on: socketAddress, group: group, options: transportOptions
    ) { [weak self] stream in
      self?.accept(stream)
    }
    let listener: any TransportListener
    do {
      listener = try future.wait()
    } catch {
      throw MessengerError.bindFailed("cannot bind \(address.hostPort): \(describe(error))")
    }
    let bound = EntityAddr(listener.localAddress, nonce: nonce)
    lock.withLock {
      self.listener = listener
      self.boundAddr = bound
    }
    msLog(1) { "\(self.name) listening on \(bound) (\(self.transport.name))" }
    return bound
  }

  /// The session to `address`: an existing one, or a new one that starts connecting now.
  /// Messages sent before it is ready are queued.
  public func connect(to address: EntityAddr, policy: Policy? = nil) -> Connection {
    let loop = group.next()
    let (connection, created): (Connection, Bool) = lock.withLock {
      if let existing = outgoing[address], !existing.isClosed { return (existing, false) }
      let connection = Connection(
        messenger: self, loop: loop, initiator: true, peerAddr: address,
        policy: policy ?? defaultPolicy)
      outgoing[address] = connection
      connections[ObjectIdentifier(connection)] = connection
      return (connection, true)
    }
    if created {
      if isShutDown {
        connection.onLoop { connection.shutdown(reason: "messenger is shut down", notify: false) }
      } else {
        connection.onLoop { connection.startConnect() }
      }
    }
    return connection
  }

  private func accept(_ stream: any TransportStream) {
    let peer = stream.remoteAddress.map { EntityAddr($0) } ?? .blank
    let connection = Connection(
      messenger: self, loop: stream.eventLoop, initiator: false, peerAddr: peer,
      policy: defaultPolicy)
    let open: Bool = lock.withLock {
      guard !isShutDown else { return false }
      connections[ObjectIdentifier(connection)] = connection
      return true
    }
    guard open else {
      stream.close()
      return
    }
    msLog(5) { "\(self.name) accepted \(peer)" }
    connection.startAccepted(stream)
  }

  /// Registers a lossless server-side session so its client can reconnect to it.
  func register(_ connection: Connection, clientCookie: UInt64) {
    let replaced: Connection? = lock.withLock {
      let old = sessions[clientCookie]
      sessions[clientCookie] = connection
      return old === connection ? nil : old
    }
    replaced?.onLoop { replaced?.shutdown(reason: "replaced by a new session", notify: true) }
  }

  func session(clientCookie: UInt64) -> Connection? {
    lock.withLock { sessions[clientCookie] }
  }

  /// Removes a closed session from every table.
  func forget(_ connection: Connection) {
    lock.withLock {
      connections[ObjectIdentifier(connection)] = nil
      if connection.clientCookie != 0, sessions[connection.clientCookie] === connection {
        sessions[connection.clientCookie] = nil
      }
      if connection.isInitiator {
        let addr = connection.peerAddr
        if outgoing[addr] === connection { outgoing[addr] = nil }
        for (key, value) in outgoing where value === connection { outgoing[key] = nil }
      }
    }
  }

  func nextGlobalSeq(above floor: UInt64 = 0) -> UInt64 {
    while true {
      let current = globalSeqCounter.load(ordering: .relaxed)
      let next = max(current, floor) + 1
      if globalSeqCounter.compareExchange(expected: current, desired: next, ordering: .relaxed)
        .exchanged
      {
        return next
      }
    }
  }

  func nextGlobalID() -> UInt64 { globalIDCounter.wrappingIncrementThenLoad(ordering: .relaxed) }
  func nextConnectionID() -> UInt64 {
    connectionIDCounter.wrappingIncrementThenLoad(ordering: .relaxed)
  }

  /// Live sessions (for status and tests).
  public var connectionCount: Int { lock.withLock { connections.count } }

  /// Closes the listener and every session, then stops the event loops. Call it from outside
  /// the messenger's event loops (it waits for them).
  public func shutdown() {
    let (listener, all): ((any TransportListener)?, [Connection]) = lock.withLock {
      isShutDown = true
      defer {
        self.listener = nil
      }
      return (self.listener, Array(connections.values))
    }
    listener?.close()
    let done = all.map { connection -> EventLoopFuture<Void> in
      let promise = connection.loop.makePromise(of: Void.self)
      connection.onLoop {
        connection.shutdown(reason: "messenger shut down", notify: false)
        promise.succeed(())
      }
      return promise.futureResult
    }
    for future in done { try? future.wait() }
    try? group.syncShutdownGracefully()
  }
}
