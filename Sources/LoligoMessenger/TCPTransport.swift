import NIOCore
import NIOPosix

/// The TCP transport: one SwiftNIO socket channel per stream, with a single handler that hands
/// bytes straight to the session (no decoder stages, no extra buffering).
public struct TCPTransport: Transport {
  public let name = "tcp"

  public init() {}

  public func listen(
    on address: SocketAddress, group: any EventLoopGroup, options: TransportOptions,
    accept: @escaping @Sendable (any TransportStream) -> Void
  ) -> EventLoopFuture<any TransportListener> {
    ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 512)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: options.noDelay ? 1 : 0)
      .childChannelOption(.maxMessagesPerRead, value: 16)
      .childChannelOption(.recvAllocator, value: TCPStream.receiveAllocator)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let stream = try TCPStream.install(on: channel, options: options)
          accept(stream)
        }
      }
      .bind(to: address)
      .map { TCPListener(channel: $0) }
  }

  public func connect(
    to address: SocketAddress, on loop: any EventLoop, timeout: TimeAmount,
    options: TransportOptions
  ) -> EventLoopFuture<any TransportStream> {
    ClientBootstrap(group: loop)
      .connectTimeout(timeout)
      .channelOption(.socketOption(.tcp_nodelay), value: options.noDelay ? 1 : 0)
      .channelOption(.maxMessagesPerRead, value: 16)
      .channelOption(.recvAllocator, value: TCPStream.receiveAllocator)
      .connect(to: address)
      .flatMapThrowing { channel in
        try TCPStream.install(on: channel, options: options)
      }
  }
}

struct TCPListener: TransportListener {
  let channel: any Channel
  var localAddress: SocketAddress { channel.localAddress! }
  func close() { channel.close(promise: nil) }
}

/// A TCP connection seen as a `TransportStream`. Lives on its channel's event loop.
// confined to its channel's event loop
final class TCPStream: TransportStream, ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// Reads start at 64 KiB and may grow to 1 MiB so bulk messages take few system calls.
  static let receiveAllocator = AdaptiveRecvByteBufferAllocator(
    minimum: 4096, initial: 65536, maximum: 1 << 20)

  let channel: any Channel
  private var context: ChannelHandlerContext?
  private weak var delegate: (any TransportStreamDelegate)?
  private var held: [ByteBuffer] = []
  private var closed = false
  private var closeError: (any Error)?

  var eventLoop: any EventLoop { channel.eventLoop }
  var remoteAddress: SocketAddress? { channel.remoteAddress }
  var localAddress: SocketAddress? { channel.localAddress }
  var allocator: ByteBufferAllocator { channel.allocator }

  private init(channel: any Channel) {
    self.channel = channel
  }

  static func install(on channel: any Channel, options: TransportOptions) throws -> TCPStream {
    let stream = TCPStream(channel: channel)
    if options.receiveBufferSize > 0 {
      try channel.syncOptions?.setOption(
        .socketOption(.so_rcvbuf), value: options.receiveBufferSize)
    }
    try channel.pipeline.syncOperations.addHandler(stream)
    return stream
  }

  func setDelegate(_ delegate: (any TransportStreamDelegate)?) {
    self.delegate = delegate
    guard let delegate else { return }
    if !held.isEmpty {
      let pending = held
      held.removeAll()
      for buffer in pending { delegate.streamDidReceive(buffer) }
      delegate.streamDidFinishReadBatch()
    }
    if closed { delegate.streamDidClose(error: closeError) }
  }

  func write(_ buffer: ByteBuffer) {
    guard let context else { return }
    context.write(wrapOutboundOut(buffer), promise: nil)
  }

  func flush() {
    context?.flush()
  }

  func setReadEnabled(_ enabled: Bool) {
    _ = channel.setOption(.autoRead, value: enabled)
  }

  func close() {
    guard !closed else { return }
    context?.close(promise: nil)
  }

  // MARK: ChannelInboundHandler

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.context = nil
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    let buffer = unwrapInboundIn(data)
    if let delegate {
      delegate.streamDidReceive(buffer)
    } else {
      held.append(buffer)
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    delegate?.streamDidFinishReadBatch()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    closeError = closeError ?? error
    context.close(promise: nil)
  }

  func channelInactive(context: ChannelHandlerContext) {
    closed = true
    self.context = nil
    delegate?.streamDidClose(error: closeError)
  }
}
