import LoligoCore
import LoligoVerbs
import NIOCore
import NIOPosix

/// The RDMA transport (`ms_type = rdma`): streams over reliable connected queue pairs of a
/// verbs device (hardware, or soft-verbs with `ms_async_rdma_device_name = soft`). A TCP
/// connection to the peer's messenger address carries the queue pair addresses (the side
/// channel, as Ceph's RDMA messenger does) and then stays open as a liveness signal; all
/// session bytes travel over the queue pair. See `RDMAStream` for the protocol.
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

/// The TCP side channel of one RDMA stream. It exchanges one fixed-size record each way
/// (client first), then the client sends READY once its queue pair can receive, and only then
/// does either side send on the queue pair. Afterwards the only byte allowed is BYE.
///
///     record (64 bytes, little endian):
///       magic "LOLIRDMA" | version u16 | transport u8 (0 soft, 1 hardware) | flags u8 |
///       lid u16 | reserved u16 | qpn u32 | psn u32 | gid [16] |
///       credits u32 | receive buffer bytes u32 | zero-copy reads in flight u32 | reserved
final class RDMASideChannel: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  enum Role {
    case server(@Sendable (any TransportStream) -> Void)
    case client(EventLoopPromise<any TransportStream>)
  }

  enum State { case awaitingRecord, awaitingReady, established, failed }

  static let recordSize = 64
  static let magic: [UInt8] = Array("LOLIRDMA".utf8)
  static let version: UInt16 = 1
  static let ready: UInt8 = 0x01
  static let bye: UInt8 = 0x02

  let stack: RDMAStack
  let role: Role
  let stream: RDMAStream
  var state = State.awaitingRecord
  var received = ByteBuffer()
  let timeout: TimeAmount
  var timer: Scheduled<Void>?
  /// Set while the handler is in the pipeline; used only on the channel's loop.
  var context: ChannelHandlerContext?

  init(stack: RDMAStack, channel: any Channel, role: Role, timeout: TimeAmount) {
    self.stack = stack
    self.role = role
    self.timeout = timeout
    self.stream = RDMAStream(stack: stack, channel: channel)
  }

  func handlerAdded(context: ChannelHandlerContext) { self.context = context }
  func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

  func channelActive(context: ChannelHandlerContext) {
    let seconds = Double(timeout.nanoseconds) / 1e9
    timer = context.eventLoop.scheduleTask(in: timeout) { [self] in
      if let context = self.context {
        fail(context, "RDMA connection set-up did not finish within \(seconds) s")
      }
    }
    do {
      try stream.createQueuePair()
    } catch {
      fail(context, "\(error)")
      return
    }
    if case .client = role { context.writeAndFlush(wrapOutboundOut(record()), promise: nil) }
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var bytes = unwrapInboundIn(data)
    switch state {
    case .awaitingRecord, .awaitingReady:
      received.writeBuffer(&bytes)
      handshake(context)
    case .established:
      // BYE, then nothing: anything else is a protocol error.
      while let byte = bytes.readInteger(as: UInt8.self) {
        if byte == RDMASideChannel.bye {
          stream.peerBye()
        } else {
          stream.fault("protocol error: byte \(byte) on the RDMA side channel", protocolError: true)
          return
        }
      }
    case .failed:
      break
    }
  }

  private func handshake(_ context: ChannelHandlerContext) {
    if state == .awaitingRecord {
      guard received.readableBytes >= RDMASideChannel.recordSize else { return }
      let slice = received.readSlice(length: RDMASideChannel.recordSize)!
      let peer: PeerRecord
      do {
        peer = try parse(slice)
        try stream.connect(
          to: peer.endpoint, peerCredits: peer.credits, peerBufferSize: peer.bufferSize,
          peerReadLimit: peer.readLimit)
      } catch {
        fail(context, "\(error)")
        return
      }
      switch role {
      case .server:
        context.writeAndFlush(wrapOutboundOut(record()), promise: nil)
        state = .awaitingReady
      case .client(let promise):
        var ready = context.channel.allocator.buffer(capacity: 1)
        ready.writeInteger(RDMASideChannel.ready)
        context.writeAndFlush(wrapOutboundOut(ready), promise: nil)
        guard received.readableBytes == 0 else {
          fail(context, "protocol error: bytes after the RDMA record")
          return
        }
        established()
        promise.succeed(stream)
        return
      }
    }
    if state == .awaitingReady {
      guard let byte = received.readInteger(as: UInt8.self) else { return }
      guard byte == RDMASideChannel.ready, received.readableBytes == 0 else {
        fail(context, "protocol error: expected READY on the RDMA side channel")
        return
      }
      established()
      if case .server(let accept) = role { accept(stream) }
    }
  }

  private func established() {
    state = .established
    timer?.cancel()
    stream.established()
  }

  func channelInactive(context: ChannelHandlerContext) {
    timer?.cancel()
    switch state {
    case .established:
      stream.sideChannelClosed()
    case .awaitingRecord, .awaitingReady:
      fail(context, "the peer closed the RDMA side channel during set-up")
    case .failed:
      break
    }
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    if state == .established {
      stream.fault("side channel: \(error)")
    } else {
      fail(context, "side channel: \(error)")
    }
  }

  private func fail(_ context: ChannelHandlerContext, _ reason: String) {
    guard state == .awaitingRecord || state == .awaitingReady else { return }
    state = .failed
    timer?.cancel()
    switch role {
    case .client(let promise):
      promise.fail(RDMATransportError(reason))
    case .server:
      msLog(1) {
        "rdma: set-up from \(context.channel.remoteAddress.map { "\($0)" } ?? "?") failed: \(reason)"
      }
    }
    stream.close()
  }

  // MARK: record

  struct PeerRecord {
    var endpoint: QueuePairEndpoint
    var credits: Int
    var bufferSize: Int
    var readLimit: Int
  }

  private func record() -> ByteBuffer {
    let configuration = stack.configuration
    var out = ByteBuffer()
    out.reserveCapacity(RDMASideChannel.recordSize)
    out.writeBytes(RDMASideChannel.magic)
    out.writeInteger(RDMASideChannel.version, endianness: .little)
    out.writeInteger(stack.transportKind)
    out.writeInteger(UInt8(0))
    out.writeInteger(stack.device.lid, endianness: .little)
    out.writeInteger(UInt16(0), endianness: .little)
    out.writeInteger(stream.qp?.number ?? 0, endianness: .little)
    out.writeInteger(stream.qp?.initialPSN ?? 0, endianness: .little)
    out.writeBytes(stack.device.gid.bytes)
    out.writeInteger(UInt32(stack.credits), endianness: .little)
    out.writeInteger(UInt32(configuration.bufferSize), endianness: .little)
    out.writeInteger(UInt32(configuration.zeroCopyInflight), endianness: .little)
    out.writeRepeatingByte(0, count: RDMASideChannel.recordSize - out.readableBytes)
    return out
  }

  /// Checks every field of the peer's record before anything is sized by it.
  private func parse(_ record: ByteBuffer) throws -> PeerRecord {
    var r = record
    guard r.readBytes(length: 8) == RDMASideChannel.magic,
      r.readInteger(endianness: .little, as: UInt16.self) == RDMASideChannel.version,
      let kind = r.readInteger(as: UInt8.self), r.readInteger(as: UInt8.self) != nil,
      let lid = r.readInteger(endianness: .little, as: UInt16.self),
      r.readInteger(endianness: .little, as: UInt16.self) != nil,
      let qpn = r.readInteger(endianness: .little, as: UInt32.self),
      let psn = r.readInteger(endianness: .little, as: UInt32.self),
      let gid = r.readBytes(length: 16),
      let credits = r.readInteger(endianness: .little, as: UInt32.self),
      let bufferSize = r.readInteger(endianness: .little, as: UInt32.self),
      let readLimit = r.readInteger(endianness: .little, as: UInt32.self)
    else {
      throw RDMATransportError("protocol error: not a Loligo RDMA connection record")
    }
    guard kind == stack.transportKind else {
      let ours = stack.transportKind == 0 ? "soft-verbs" : "a hardware RDMA device"
      throw RDMATransportError(
        "the peer uses \(kind == 0 ? "soft-verbs" : "a hardware RDMA device"), we use \(ours)")
    }
    guard qpn > 0, qpn <= 0xFF_FFFF, psn <= 0xFF_FFFF, (4...65536).contains(credits),
      (4096...(64 << 20)).contains(bufferSize), readLimit <= 4096
    else {
      throw RDMATransportError("protocol error: connection record out of range")
    }
    return PeerRecord(
      endpoint: QueuePairEndpoint(
        lid: lid, queuePairNumber: qpn, packetSequenceNumber: psn, gid: VerbsGID(gid)),
      credits: Int(credits), bufferSize: Int(bufferSize), readLimit: Int(readLimit))
  }
}
