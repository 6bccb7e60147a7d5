import LoligoCore
import LoligoVerbs
import NIOCore
import NIOPosix

/// The RDMA transport (`ms_type = rdma`): streams over reliable connected queue pairs of a
/// verbs device (hardware, or soft-verbs with `ms_async_rdma_device_name = soft`). A TCP
/// connection to the peer's messenger address carries the queue pair addresses (the side
/// channel, as Ceph's RDMA messenger does) and then stays open as a liveness signal, or, with
/// `ms_async_rdma_cm = true` on hardware, rdma_cm does both (`RDMACMConnection`). All session
/// bytes travel over the queue pair. See `RDMAStream` for the protocol.
public struct RDMATransport: Transport {
  public let name = "rdma"
  let stack: RDMAStack

  /// Opens (or reuses) the process's device and pools for these options. Throws a one-line
  /// reason when the device or the memory-lock limit does not allow it.
  public init(config: Config) throws {
    stack = try RDMAStack.shared(RDMAConfiguration(config))
  }

  /// The verbs device under this transport (for tests and status).
  public var device: any VerbsDevice { stack.device }

  /// Payloads this process sent by RDMA READ (at or above `ms_rdma_zero_copy_threshold`).
  public var zeroCopyPayloads: Int { stack.zeroCopyPayloads.load(ordering: .relaxed) }

  /// What the process's device stack for these options holds now: connections with reserved
  /// receive credits (live or draining), and free send and receive chunks (receive chunks are
  /// all posted to the shared receive queue when there is one). For status and leak checks.
  public var usage: (connections: Int, freeSendChunks: Int, freeReceiveChunks: Int) {
    stack.usage
  }

  /// Testing: forces every queue pair of this transport's device stack into the error state,
  /// as a link or adapter failure would. Returns how many there were.
  @discardableResult
  public func injectQueuePairErrors() -> Int { stack.injectQueuePairErrors() }

  public func listen(
    on address: SocketAddress, group: any EventLoopGroup, options: TransportOptions,
    accept: @escaping @Sendable (any TransportStream) -> Void
  ) -> EventLoopFuture<any TransportListener> {
    let stack = self.stack
    if let manager = stack.connectionManager {
      return group.next().makeCompletedFuture {
        try RDMACMListener.listen(
          on: address, stack: stack, manager: manager, group: group, options: options,
          accept: accept)
      }
    }
    return ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 512)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let handler = RDMASideChannel(
            stack: stack, channel: channel, role: .server(accept),
            timeout: options.handshakeTimeout)
          try channel.pipeline.syncOperations.addHandler(handler)
        }
      }
      .bind(to: address)
      .map { RDMAListener(channel: $0) }
  }

  public func connect(
    to address: SocketAddress, on loop: any EventLoop, timeout: TimeAmount,
    options: TransportOptions
  ) -> EventLoopFuture<any TransportStream> {
    let stack = self.stack
    if let manager = stack.connectionManager {
      return RDMACMConnection.connect(
        to: address, stack: stack, manager: manager, on: loop, timeout: timeout)
    }
    let promise = loop.makePromise(of: (any TransportStream).self)
    ClientBootstrap(group: loop)
      .connectTimeout(timeout)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let handler = RDMASideChannel(
            stack: stack, channel: channel, role: .client(promise), timeout: timeout)
          try channel.pipeline.syncOperations.addHandler(handler)
        }
      }
      .connect(to: address)
      .whenFailure { promise.fail($0) }
    return promise.futureResult
  }
}

struct RDMAListener: TransportListener {
  let channel: any Channel
  var localAddress: SocketAddress { channel.localAddress! }
  func close() { channel.close(promise: nil) }
}
