import NIOCore

/// What set an RDMA stream up and tells it when the peer is gone, outside the queue pair: the
/// TCP side channel (`RDMASideChannelLink`) or an rdma_cm id (`RDMACMConnection`). The stream
/// and its drain use only this, so everything on the queue pair is shared by both.
protocol RDMAConnectionLink: AnyObject, Sendable {
  var remoteAddress: SocketAddress? { get }
  var localAddress: SocketAddress? { get }
  /// The stream is closing in order (on its event loop, after its FIN if one could be sent).
  func announceOrderlyClose()
  /// The queue pair is gone (destroyed after its drain, or never made): let the link go.
  /// Called once, on any thread.
  func release()
}

/// The TCP side channel as a link: BYE marks an orderly close, closing it ends the link.
final class RDMASideChannelLink: RDMAConnectionLink, Sendable {
  let channel: any Channel

  init(_ channel: any Channel) { self.channel = channel }

  var remoteAddress: SocketAddress? { channel.remoteAddress }
  var localAddress: SocketAddress? { channel.localAddress }

  func announceOrderlyClose() {
    guard channel.isActive else { return }
    var bye = channel.allocator.buffer(capacity: 1)
    bye.writeInteger(RDMASideChannel.bye)
    channel.writeAndFlush(bye, promise: nil)
  }

  func release() {
    // Its event loop may be gone by now (a messenger shut down meanwhile closed it anyway).
    if channel.isActive { channel.close(promise: nil) }
  }
}
