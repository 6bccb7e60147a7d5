import NIOCore

/// The boundary under a session: an ordered, reliable byte stream. TCP (SwiftNIO) implements it
/// now; the RDMA transport implements the same protocol, so the session logic (handshake,
/// sequencing, replay) is shared and knows nothing of sockets or queue pairs.
///
/// Every method except `eventLoop` is called on the stream's event loop.
public protocol TransportStream: AnyObject, Sendable {
  var eventLoop: any EventLoop { get }
  var remoteAddress: SocketAddress? { get }
  var localAddress: SocketAddress? { get }
  var allocator: ByteBufferAllocator { get }

  /// Where received bytes and events go. Bytes that arrive while no delegate is set are held
  /// and delivered when one is.
  func setDelegate(_ delegate: (any TransportStreamDelegate)?)
  func write(_ buffer: ByteBuffer)
  func flush()
  /// Stops (false) or restarts (true) reading: back-pressure from the dispatch throttle.
  func setReadEnabled(_ enabled: Bool)
  func close()
}

/// Called on the stream's event loop.
public protocol TransportStreamDelegate: AnyObject {
  func streamDidReceive(_ buffer: ByteBuffer)
  /// The end of one batch of reads: a good moment to flush and acknowledge.
  func streamDidFinishReadBatch()
  func streamDidClose(error: (any Error)?)
}

public protocol TransportListener: Sendable {
  var localAddress: SocketAddress { get }
  func close()
}

public struct TransportOptions: Sendable {
  public var noDelay = true
  public var receiveBufferSize = 0
  /// How long an accepted connection may take to set itself up below the session (the RDMA
  /// side channel's address exchange).
  public var handshakeTimeout = TimeAmount.seconds(10)

  public init() {}
}

public protocol Transport: Sendable {
  /// `tcp`, `rdma`: what results report.
  var name: String { get }
  func listen(
    on address: SocketAddress, group: any EventLoopGroup, options: TransportOptions,
    accept: @escaping @Sendable (any TransportStream) -> Void
  ) -> EventLoopFuture<any TransportListener>
  func connect(
    to address: SocketAddress, on loop: any EventLoop, timeout: TimeAmount,
    options: TransportOptions
  ) -> EventLoopFuture<any TransportStream>
}
