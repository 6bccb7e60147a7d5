import LoligoCore
import LoligoVerbs
import NIOCore

/// The TCP side channel of one RDMA stream. It exchanges one fixed-size record each way
/// (client first), then the client sends READY once its queue pair can receive, and only then
/// does either side send on the queue pair. Afterwards the only byte allowed is BYE.
///
///     record (64 bytes, little endian):
///       magic "LOLIRDMA" | version u16 | transport u8 (0 soft, 1 hardware) | flags u8 |
///       lid u16 | reserved u16 | qpn u32 | psn u32 | gid [16] |
///       credits u32 | receive buffer bytes u32 | zero-copy reads in flight u32 | reserved
// confined to its channel's event loop
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
    self.stream = RDMAStream(
      stack: stack, link: RDMASideChannelLink(channel), eventLoop: channel.eventLoop,
      allocator: channel.allocator)
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
        try stream.connect(to: peer.endpoint, peer: peer.parameters)
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
    var parameters: RDMAConnectionParameters
  }

  private func record() -> ByteBuffer {
    let ours = stack.localParameters
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
    out.writeInteger(UInt32(ours.credits), endianness: .little)
    out.writeInteger(UInt32(ours.bufferSize), endianness: .little)
    out.writeInteger(UInt32(ours.readLimit), endianness: .little)
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
    let parameters = RDMAConnectionParameters(
      credits: Int(credits), bufferSize: Int(bufferSize), readLimit: Int(readLimit))
    guard qpn > 0, qpn <= 0xFF_FFFF, psn <= 0xFF_FFFF, parameters.isValid else {
      throw RDMATransportError("protocol error: connection record out of range")
    }
    return PeerRecord(
      endpoint: QueuePairEndpoint(
        lid: lid, queuePairNumber: qpn, packetSequenceNumber: psn, gid: VerbsGID(gid)),
      parameters: parameters)
  }
}
