import LoligoCore
import LoligoTrace
import LoligoWire
import NIOCore

/// The established session: reading frames, dispatching messages, writing queued messages,
/// acknowledgements and keepalives.
extension Connection: TransportStreamDelegate {
  /// Standalone ACKs wait this long for a reply to carry the acknowledgement instead.
  static let delayedAckNanoseconds: Int64 = 1_000_000
  /// ...unless this many messages are unacknowledged.
  static let ackEvery: UInt64 = 64

  public func streamDidReceive(_ buffer: ByteBuffer) {
    guard state != .closed, stream != nil else { return }
    MsgrTrace.read(conn: id, bytes: buffer.readableBytes)
    messenger.counters.add(messenger.counters.bytesIn, buffer.readableBytes)
    if injector.enabled && injector.shouldFail() {
      fault("injected socket failure on read")
      return
    }
    inReadBatch = true
    defer { traceReceived() }
    decoder.append(buffer)
    do {
      if state == .banner {
        guard let banner = try decoder.readBanner() else { return }
        try receivedBanner(banner)
      }
      var frames = 0
      defer { messenger.counters.add(messenger.counters.framesIn, frames) }
      while stream != nil, state != .closed, state != .standby, let frame = try decoder.nextFrame()
      {
        frames += 1
        if state == .ready {
          try handleSessionFrame(frame)
        } else {
          try handleHandshakeFrame(frame)
        }
      }
    } catch {
      fault("protocol error: \(error)", protocolError: true)
    }
  }

  public func streamDidFinishReadBatch() {
    inReadBatch = false
    guard state == .ready else {
      if needsFlush { flushNow() }
      return
    }
    if !policy.lossy && inSeq > ackedInSeq {
      if inSeq - ackedInSeq >= Connection.ackEvery {
        writeAck()
      } else if delayedAck == nil {
        delayedAck = loop.scheduleTask(in: .nanoseconds(Connection.delayedAckNanoseconds)) {
          [self] in
          self.delayedAck = nil
          if self.state == .ready && self.inSeq > self.ackedInSeq {
            self.writeAck()
            self.flushNow()
          }
        }
      }
    }
    if needsFlush { flushNow() }
  }

  public func streamDidClose(error: (any Error)?) {
    let reason = error.map { "stream closed: \(describe($0))" } ?? "peer closed the connection"
    fault(reason, expected: error == nil && !isInitiator && policy.lossy)
  }

  func handleSessionFrame(_ frame: Frame) throws {
    var payload = frame.payload
    switch frame.tag {
    case .message:
      try receiveMessage(frame)
    case .ack:
      dropAcknowledged(upTo: try U64Frame(from: &payload).value)
    case .keepalive2:
      let stamp = try KeepaliveFrame(from: &payload)
      writeControl(.keepalive2Ack) { stamp.encode(to: &$0) }
    case .keepalive2Ack:
      _ = try KeepaliveFrame(from: &payload)
      keepaliveAcks &+= 1
    default:
      throw FrameError.unexpectedFrame(frame.tag, state: state.rawValue)
    }
  }

  private func receiveMessage(_ frame: Frame) throws {
    var headerBytes = frame.segments.0
    let header = try MessageHeader2.decode(&headerBytes)
    if !policy.lossy { dropAcknowledged(upTo: header.ackSeq) }
    if header.seq <= inSeq {
      msLog(2) { "\(self) dropping duplicate seq \(header.seq) (have \(self.inSeq))" }
      return
    }
    if header.seq > inSeq + 1 {
      if policy.lossy {
        msLog(1) { "\(self) missed messages \(self.inSeq + 1)..<\(header.seq)" }
      } else {
        throw FrameError.badPayload(.message, "seq \(header.seq) skips past \(inSeq + 1)")
      }
    }
    inSeq = header.seq
    let message = Message(
      type: header.type, tid: header.tid, priority: header.priority, version: header.version,
      compatVersion: header.compatVersion, front: frame.segments.1, middle: frame.segments.2,
      data: frame.segments.3)
    message.dataCRC = frame.dataCRC
    message.seq = header.seq
    message.connection = self
    message.source = peerType.map { EntityName($0, peerGID) }
    message.receivedAt = Cycles.now()
    MsgrTrace.decode(
      conn: id, seq: header.seq, type: header.type, length: message.payloadBytes)
    if let throttle = messenger.throttle {
      message.throttle = throttle
      if !throttle.take(message.payloadBytes, pausing: self) && !readPaused {
        readPaused = true
        stream?.setReadEnabled(false)
      }
    }
    MsgrTrace.dispatch(
      conn: id, seq: header.seq, type: header.type, tid: header.tid,
      length: message.payloadBytes, myType: messenger.name.type.rawValue,
      myNum: messenger.name.num, peerType: peerType?.rawValue ?? 0, peerNum: peerGID)
    if MsgrTrace.isReceivedEnabled {
      noteReceived(
        seq: header.seq, type: header.type, tid: header.tid, length: message.payloadBytes)
    }
    messenger.dispatcher?.dispatch(message)
  }

  /// Forgets sent messages the peer has (seq <= `seq`).
  func dropAcknowledged(upTo seq: UInt64) {
    var bytes = 0
    while let first = sent.first, first.seq <= seq {
      bytes += first.message.payloadBytes
      sent.removeFirst()
      if writtenCount > 0 { writtenCount -= 1 }
    }
    released(bytes)
  }

  /// Writes every queued message not yet written on this stream.
  func writeQueued() {
    guard state == .ready, let stream, writtenCount < sent.count else { return }
    // Reuse the last batch's buffer: once the transport has written it, it is ours alone
    // again and clear() keeps its memory (no allocation, no fresh pages per batch).
    var out = outBuffer ?? stream.allocator.buffer(capacity: 0)
    outBuffer = nil
    out.clear()
    out.reserveCapacity(min(estimateBatchBytes(), 256 << 10))
    var index = sent.index(sent.startIndex, offsetBy: writtenCount)
    let firstWritten = writtenCount
    var bytes = 0
    while index != sent.endIndex {
      let entry = sent[index]
      let message = entry.message
      MsgrTrace.encode(conn: id, seq: entry.seq)
      encoder.writeMessage(
        header: message.header(seq: entry.seq, ackSeq: inSeq), front: message.front,
        middle: message.middle, data: message.data, dataCRC: message.dataCRC, into: &out
      ) { head, data in
        bytes += head.readableBytes + data.readableBytes
        stream.write(head)
        stream.write(data)
        head = stream.allocator.buffer(capacity: 64)
      }
      index = sent.index(after: index)
      writtenCount += 1
    }
    ackedInSeq = inSeq
    messenger.counters.add(messenger.counters.framesOut, writtenCount - firstWritten)
    messenger.counters.add(messenger.counters.bytesOut, bytes + out.readableBytes)
    if out.readableBytes > 0 { stream.write(out) }
    outBuffer = out
    if policy.lossy {
      var bytes = 0
      while writtenCount > 0, let entry = sent.popFirst() {
        bytes += entry.message.payloadBytes
        writtenCount -= 1
      }
      released(bytes)
    }
    needsFlush = true
    if !inReadBatch { flushNow() }
  }

  private func estimateBatchBytes() -> Int {
    var total = 0
    var index = sent.index(sent.startIndex, offsetBy: writtenCount)
    while index != sent.endIndex && total < 256 << 10 {
      let message = sent[index].message
      total += 100 + message.front.readableBytes + message.middle.readableBytes
      if message.data.readableBytes <= FrameEncoder.inlineDataLimit {
        total += message.data.readableBytes
      }
      index = sent.index(after: index)
    }
    return total
  }

  func writeAck() {
    ackedInSeq = inSeq
    writeControl(.ack) { U64Frame(inSeq).encode(to: &$0) }
  }

  func writeKeepalive() {
    let now = Cycles.toNanoseconds(Cycles.now())
    let stamp = KeepaliveFrame(
      seconds: UInt32(truncatingIfNeeded: now / 1_000_000_000),
      nanoseconds: UInt32(now % 1_000_000_000))
    writeControl(.keepalive2) { stamp.encode(to: &$0) }
  }

  func flushNow() {
    guard let stream else { return }
    needsFlush = false
    if injector.enabled && injector.shouldFail() {
      fault("injected socket failure on write")
      return
    }
    MsgrTrace.write(
      conn: id, seq: outSeq, myType: messenger.name.type.rawValue, myNum: messenger.name.num,
      peerType: peerType?.rawValue ?? 0, peerNum: peerGID)
    stream.flush()
  }
}
