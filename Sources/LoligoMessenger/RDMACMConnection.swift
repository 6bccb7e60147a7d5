import Atomics
import Foundation
import LoligoCore
import LoligoVerbs
import NIOConcurrencyHelpers
import NIOCore

/// One RDMA stream set up through rdma_cm (`ms_async_rdma_cm`) instead of the TCP side channel.
///
/// rdma_cm replaces all of the side channel: it resolves the peer's IP address to our device
/// and a route, carries the queue pair numbers and PSNs in its own connect messages and moves
/// the queue pair to RTS, our credits, buffer size and READ limit travel in the connect and
/// accept private data (`RDMAPrivateData`), ESTABLISHED stands for READY, and DISCONNECTED for
/// the side channel closing. The orderly end is the FIN on the queue pair, as over the side
/// channel; the id is disconnected and destroyed once the queue pair has drained.
///
/// Events come from the stack's `rdma-cm` thread and are handled on the stream's event loop,
/// through `RDMACMHandshake`; this class only carries out its actions.
// loop-owned state; addresses under `addressLock`; flags atomic
final class RDMACMConnection: RDMAConnectionLink, RDMACMEventOwner, @unchecked Sendable {
  enum Role {
    case client(EventLoopPromise<any TransportStream>)
    case server(@Sendable (any TransportStream) -> Void)
  }

  let stack: RDMAStack
  let manager: RDMAConnectionManager
  let id: CMID
  let eventLoop: any EventLoop
  let role: Role
  private let token = ManagedAtomic<UInt64>(0)
  private let released = ManagedAtomic<Bool>(false)

  // Loop-owned. The stream is held strongly only while setting up; afterwards its session
  // holds it (and it holds this link), so there is no cycle.
  private var handshake: RDMACMHandshake
  private var settingUp: RDMAStream?
  private weak var stream: RDMAStream?
  private var timer: Scheduled<Void>?
  private let addressLock = NIOLock()
  private var addresses: (local: SocketAddress?, remote: SocketAddress?) = (nil, nil)

  private init(
    stack: RDMAStack, manager: RDMAConnectionManager, id: CMID, loop: any EventLoop, role: Role,
    peer: String
  ) {
    self.stack = stack
    self.manager = manager
    self.id = id
    self.eventLoop = loop
    self.role = role
    if case .client = role {
      handshake = RDMACMHandshake(role: .client, peer: peer)
    } else {
      handshake = RDMACMHandshake(role: .server, peer: peer)
    }
    let stream = RDMAStream(stack: stack, link: self, eventLoop: loop, allocator: .init())
    settingUp = stream
    self.stream = stream
  }

  // MARK: client

  /// Starts connecting to `address`; the future completes once the stream is established.
  static func connect(
    to address: SocketAddress, stack: RDMAStack, manager: RDMAConnectionManager,
    on loop: any EventLoop, timeout: TimeAmount
  ) -> EventLoopFuture<any TransportStream> {
    let promise = loop.makePromise(of: (any TransportStream).self)
    let id: CMID
    let token: UInt64
    do {
      (id, token) = try manager.makeID()
    } catch {
      promise.fail(RDMATransportError("\(error)"))
      return promise.futureResult
    }
    let connection = RDMACMConnection(
      stack: stack, manager: manager, id: id, loop: loop, role: .client(promise),
      peer: "\(address)")
    connection.token.store(token, ordering: .relaxed)
    manager.register(connection, token: token)
    loop.execute { connection.start(address, timeout: timeout) }
    return promise.futureResult
  }

  private func start(_ address: SocketAddress, timeout: TimeAmount) {
    setAddresses(remote: address)
    startTimer(timeout)
    do {
      try address.withSockAddr { pointer, length in
        try id.resolveAddress(
          pointer, length: length, timeoutMilliseconds: Self.resolveMilliseconds(timeout))
      }
    } catch {
      fail("\(error)")
    }
  }

  /// Address and route resolution each get part of the set-up time (at least 500 ms).
  private static func resolveMilliseconds(_ timeout: TimeAmount) -> Int {
    max(500, min(Int(timeout.nanoseconds / 3_000_000), 10_000))
  }

  // MARK: server

  /// A connect request for `listener`'s id: adopt its new id and answer on `loop`.
  static func accept(
    _ request: CMEvent, id: CMID, stack: RDMAStack, manager: RDMAConnectionManager,
    on loop: any EventLoop, timeout: TimeAmount,
    accept: @escaping @Sendable (any TransportStream) -> Void
  ) {
    let peer = socketAddress(id.peerAddress)
    let connection = RDMACMConnection(
      stack: stack, manager: manager, id: id, loop: loop, role: .server(accept),
      peer: peer.map { "\($0)" } ?? "?")
    connection.token.store(manager.adopt(id, for: connection), ordering: .relaxed)
    loop.execute { connection.answer(request, timeout: timeout) }
  }

  /// Accepts the request (queue pair created, receives posted, our parameters in the reply) or
  /// rejects it with the reason.
  private func answer(_ request: CMEvent, timeout: TimeAmount) {
    guard let stream = settingUp else { return }
    setAddresses(local: socketAddress(id.localAddress), remote: socketAddress(id.peerAddress))
    let plan: RDMACMHandshake.Acceptance
    do {
      plan = try RDMACMHandshake.accept(
        request, ours: stack.localParameters, readsServed: manager.device.readsServed,
        readsIssued: manager.device.readsIssued)
    } catch {
      refuse(error.reason, error.description)
      return
    }
    do {
      try id.checkDevice(manager.device, for: handshake.peer)
    } catch {
      refuse(.wrongDevice, "\(error)")
      return
    }
    do {
      try stream.createQueuePair(on: id)
      try stream.postReceives()
    } catch {
      refuse(.noResources, "\(error)")
      return
    }
    stream.setPeer(plan.peer)
    do {
      try id.accept(
        privateData: RDMAPrivateData.encode(.accept, plan.reply),
        responderResources: plan.responderResources, initiatorDepth: plan.initiatorDepth)
    } catch {
      fail("\(error)")
      return
    }
    startTimer(timeout)
  }

  private func refuse(_ reason: RDMAPrivateData.RejectReason, _ why: String) {
    try? id.reject(privateData: RDMAPrivateData.encodeReject(reason))
    fail(why)
  }

  // MARK: events

  func handle(_ event: CMEvent) {
    eventLoop.execute { self.handleOnLoop(event) }
  }

  private func handleOnLoop(_ event: CMEvent) {
    guard !released.load(ordering: .relaxed) else { return }
    switch handshake.handle(event) {
    case .ignore:
      break
    case .resolveRoute:
      do {
        try id.checkDevice(manager.device, for: handshake.peer)
        try id.resolveRoute(timeoutMilliseconds: 2000)
      } catch {
        fail("\(error)")
      }
    case .connect:
      guard let stream = settingUp else { return }
      do {
        setAddresses(local: socketAddress(id.localAddress))
        try stream.createQueuePair(on: id)
        try stream.postReceives()
        let device = manager.device
        try id.connect(
          privateData: RDMAPrivateData.encode(.connect, stack.localParameters),
          responderResources: device.readsServed, initiatorDepth: device.readsIssued)
      } catch {
        fail("\(error)")
      }
    case .established(let peer):
      guard let stream = settingUp else { return }
      timer?.cancel()
      if let peer { stream.setPeer(peer) }
      stream.established()
      settingUp = nil
      switch role {
      case .client(let promise): promise.succeed(stream)
      case .server(let accept): accept(stream)
      }
    case .fail(let why):
      fail(why)
    case .peerDisconnected:
      stream?.peerDisconnected()
    }
  }

  private func startTimer(_ timeout: TimeAmount) {
    let seconds = Double(timeout.nanoseconds) / 1e9
    timer = eventLoop.scheduleTask(in: timeout) { [self] in
      guard settingUp != nil else { return }
      fail("RDMA connection set-up through rdma_cm did not finish within \(seconds) s")
    }
  }

  /// Set-up failed: tell the caller (client) or log (server), and let the stream retire its
  /// queue pair, which releases this link.
  private func fail(_ why: String) {
    guard let stream = settingUp else { return }
    settingUp = nil
    timer?.cancel()
    switch role {
    case .client(let promise):
      promise.fail(RDMATransportError(why))
    case .server:
      msLog(1) { "rdma: rdma_cm set-up from \(handshake.peer) failed: \(why)" }
    }
    stream.close()
  }

  // MARK: RDMAConnectionLink

  var remoteAddress: SocketAddress? { addressLock.withLock { addresses.remote } }
  var localAddress: SocketAddress? { addressLock.withLock { addresses.local } }

  private func setAddresses(local: SocketAddress? = nil, remote: SocketAddress? = nil) {
    addressLock.withLock {
      if let local { addresses.local = local }
      if let remote { addresses.remote = remote }
    }
  }

  /// The FIN on the queue pair is the orderly end; the disconnect follows in `release`.
  func announceOrderlyClose() {}

  func release() {
    guard !released.exchange(true, ordering: .relaxed) else { return }
    manager.forget(token.load(ordering: .relaxed))
    // The queue pair was destroyed first (the drain); now the peer learns the end is gone.
    try? id.disconnect()
    id.destroy()
  }
}

/// A struct sockaddr (as rdma_cm returns it) as a SocketAddress; nil when it is neither IPv4
/// nor IPv6.
func socketAddress(_ bytes: [UInt8]) -> SocketAddress? {
  bytes.withUnsafeBytes { raw -> SocketAddress? in
    guard raw.count >= MemoryLayout<sa_family_t>.size else { return nil }
    switch Int32(raw.loadUnaligned(as: sa_family_t.self)) {
    case AF_INET where raw.count >= MemoryLayout<sockaddr_in>.size:
      return SocketAddress(raw.loadUnaligned(as: sockaddr_in.self))
    case AF_INET6 where raw.count >= MemoryLayout<sockaddr_in6>.size:
      return SocketAddress(raw.loadUnaligned(as: sockaddr_in6.self))
    default:
      return nil
    }
  }
}
