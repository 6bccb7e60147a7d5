import LoligoCore
import LoligoVerbs
import NIOCore

/// A messenger's listening rdma_cm id (`ms_async_rdma_cm`): bound to the messenger's IP and
/// port in rdma_cm's own port space (not TCP's), it hands each connect request to a new
/// `RDMACMConnection` on the next event loop of the group.
final class RDMACMListener: TransportListener, RDMACMEventOwner, Sendable {
  let stack: RDMAStack
  let manager: RDMAConnectionManager
  let id: CMID
  let token: UInt64
  let group: any EventLoopGroup
  let timeout: TimeAmount
  let accept: @Sendable (any TransportStream) -> Void
  let localAddress: SocketAddress

  static func listen(
    on address: SocketAddress, stack: RDMAStack, manager: RDMAConnectionManager,
    group: any EventLoopGroup, options: TransportOptions,
    accept: @escaping @Sendable (any TransportStream) -> Void
  ) throws -> RDMACMListener {
    let (id, token) = try manager.makeID()
    do {
      try address.withSockAddr { pointer, length in
        try id.bindAndListen(pointer, length: length, backlog: 512)
      }
    } catch {
      id.destroy()
      throw RDMATransportError(
        "cannot listen on \(address) through rdma_cm: \(error); the address must be one of"
          + " an interface with an RDMA device (RoCE, iWARP or soft-RoCE; see `rdma link`)")
    }
    let listener = RDMACMListener(
      stack: stack, manager: manager, id: id, token: token, group: group,
      timeout: options.handshakeTimeout, accept: accept,
      localAddress: socketAddress(id.localAddress) ?? address)
    manager.register(listener, token: token)
    return listener
  }

  private init(
    stack: RDMAStack, manager: RDMAConnectionManager, id: CMID, token: UInt64,
    group: any EventLoopGroup, timeout: TimeAmount,
    accept: @escaping @Sendable (any TransportStream) -> Void, localAddress: SocketAddress
  ) {
    self.stack = stack
    self.manager = manager
    self.id = id
    self.token = token
    self.group = group
    self.timeout = timeout
    self.accept = accept
    self.localAddress = localAddress
  }

  func handle(_ event: CMEvent) {
    guard event.type == .connectRequest, let request = event.request else {
      if event.type == .deviceRemoval {
        Log.shared.error("ms", "rdma_cm: the RDMA device under \(localAddress) was removed")
      }
      return
    }
    RDMACMConnection.accept(
      event, id: request, stack: stack, manager: manager, on: group.next(), timeout: timeout,
      accept: accept)
  }

  func close() {
    manager.forget(token)
    id.destroy()
  }
}
