import LoligoCore
import NIOCore

/// One received frame: its preamble and up to four segments (slices of the receive buffer).
public struct Frame: Sendable {
  public var tag: FrameTag
  public var segmentCount: Int
  public var segments: (ByteBuffer, ByteBuffer, ByteBuffer, ByteBuffer)
  /// The checked crc (seed -1) of the data segment (MESSAGE frames with `crcData` on), so a
  /// receiver that forwards or keeps the bytes need not compute it again.
  public var dataCRC: UInt32?

  /// The first segment: the whole payload of a control frame, the header of a message.
  public var payload: ByteBuffer { segments.0 }
}

/// Incremental msgr2.1 crc-mode frame reader for one connection.
///
/// Bytes are appended as they arrive; `nextFrame()` returns each complete frame after checking
/// the preamble crc, the segment bounds and every segment crc. Nothing is allocated from a
/// length the peer claims before that length has passed its limit.
public struct FrameDecoder: Sendable {
  public struct Limits: Sendable {
    /// Largest segment of a MESSAGE frame, and of the whole message.
    public var maxMessageBytes: Int
    /// Largest payload of any other frame.
    public var maxControlBytes: Int

    public init(maxMessageBytes: Int, maxControlBytes: Int = 64 << 10) {
      self.maxMessageBytes = maxMessageBytes
      self.maxControlBytes = maxControlBytes
    }
  }

  public var limits: Limits
  /// Check crcs of MESSAGE segments 2...4 (`ms_crc_data`).
  public var crcData: Bool
  private var cumulation: ByteBuffer?
  private var pending: FramePreamble?
  /// Bytes that arrived after the end of a large frame whose body has its own buffer.
  private var spill: ByteBuffer?
  /// Whether `cumulation` is the exact-size body buffer of the pending frame.
  private var bodyBuffered = false

  /// Frames whose body is at least this large get a buffer of their own, sized exactly, so the
  /// bytes are copied once, no buffer is regrown or compacted, and a message kept by its
  /// receiver (an object in a store) pins only its own bytes.
  public static let ownBufferThreshold = 64 << 10

  public init(limits: Limits, crcData: Bool = true) {
    self.limits = limits
    self.crcData = crcData
  }

  /// Bytes received and not yet consumed.
  public var bufferedBytes: Int { (cumulation?.readableBytes ?? 0) + (spill?.readableBytes ?? 0) }

  public mutating func append(_ incoming: ByteBuffer) {
    var incoming = incoming
    if spill != nil {
      spill!.writeBuffer(&incoming)
    } else if bodyBuffered {
      // Fill the body buffer up to its end; what follows belongs to the next frame.
      let room = pending!.onWireBodyLength - cumulation!.readableBytes
      if incoming.readableBytes > room {
        var head = incoming.readSlice(length: room)!
        cumulation!.writeBuffer(&head)
        spill = incoming
      } else {
        cumulation!.writeBuffer(&incoming)
      }
    } else if cumulation == nil || cumulation!.readableBytes == 0 {
      cumulation = incoming
    } else {
      cumulation!.writeBuffer(&incoming)
    }
  }

  /// Takes the peer's 26-byte banner, or nil until it has arrived.
  public mutating func readBanner() throws(FrameError) -> Banner? {
    guard var buffer = cumulation, buffer.readableBytes >= Banner.size else {
      if let buffer = cumulation, buffer.readableBytes >= 8 {
        // Refuse garbage without waiting for more of it.
        let head = buffer.getBytes(at: buffer.readerIndex, length: 8)!
        if head != Banner.prefix {
          var copy = buffer
          _ = try Banner.decode(&copy)
        }
      }
      return nil
    }
    cumulation = nil
    let banner = try Banner.decode(&buffer)
    cumulation = buffer
    return banner
  }

  /// The next complete frame, or nil when more bytes are needed. Aborted frames are skipped.
  public mutating func nextFrame() throws(FrameError) -> Frame? {
    while true {
      if !bodyBuffered, cumulation?.readableBytes ?? 0 == 0, let rest = spill {
        cumulation = rest
        spill = nil
      }
      guard var buffer = cumulation else { return nil }
      cumulation = nil  // keep the storage uniquely referenced while we slice it
      defer { cumulation = buffer.readableBytes > 0 || bodyBuffered ? buffer : nil }
      if pending == nil {
        guard buffer.readableBytes >= FramePreamble.size else { return nil }
        let preamble = try FramePreamble.decode(
          &buffer, maxSegmentLength: limits.maxMessageBytes)
        try checkLimits(preamble)
        pending = preamble
        let needed = preamble.onWireBodyLength
        if buffer.readableBytes < needed {
          if needed >= Self.ownBufferThreshold {
            // Everything buffered belongs to this frame (it is shorter than the body).
            var body = ByteBufferAllocator().buffer(capacity: needed)
            body.writeBuffer(&buffer)
            buffer = body
            bodyBuffered = true
          } else {
            // Make room for the whole frame once instead of growing by doubling.
            buffer.reserveCapacity(minimumWritableBytes: needed - buffer.readableBytes)
          }
        }
      }
      let preamble = pending!
      guard buffer.readableBytes >= preamble.onWireBodyLength else { return nil }
      pending = nil
      bodyBuffered = false
      if let frame = try takeFrame(preamble, from: &buffer) {
        compact(&buffer)
        return frame
      }
      compact(&buffer)
    }
  }

  private func checkLimits(_ p: FramePreamble) throws(FrameError) {
    if p.tag == .message {
      guard p.length(0) == UInt32(MessageHeader2.size) else {
        throw .badPayload(.message, "header segment of \(p.length(0)) bytes")
      }
      let total = Int(p.length(1)) + Int(p.length(2)) + Int(p.length(3))
      if total > limits.maxMessageBytes {
        throw .oversizeSegment(
          segment: 3, length: UInt32(clamping: total), limit: limits.maxMessageBytes)
      }
    } else {
      for i in 0..<p.segmentCount where p.length(i) > limits.maxControlBytes {
        throw .oversizeSegment(segment: i, length: p.length(i), limit: limits.maxControlBytes)
      }
    }
  }

  private func takeFrame(_ p: FramePreamble, from buffer: inout ByteBuffer) throws(FrameError)
    -> Frame?
  {
    let s0 = buffer.readSlice(length: Int(p.lengths.0))!
    if p.lengths.0 > 0 {
      let claimed: UInt32 = buffer.readInteger(endianness: .little)!
      let computed = CRC32C.checksum(s0, seed: CRC32C.segmentSeed)
      guard claimed == computed else {
        throw .badSegmentCRC(segment: 0, expected: computed, actual: claimed)
      }
    }
    var frame = Frame(
      tag: p.tag, segmentCount: p.segmentCount,
      segments: (s0, emptyBuffer, emptyBuffer, emptyBuffer)
    )
    guard p.segmentCount > 1 else { return frame }
    frame.segments.1 = buffer.readSlice(length: Int(p.lengths.1))!
    frame.segments.2 = buffer.readSlice(length: Int(p.lengths.2))!
    frame.segments.3 = buffer.readSlice(length: Int(p.lengths.3))!
    let status: UInt8 = buffer.readInteger()!
    let crcs: (UInt32, UInt32, UInt32) = (
      buffer.readInteger(endianness: .little)!, buffer.readInteger(endianness: .little)!,
      buffer.readInteger(endianness: .little)!
    )
    switch status & FrameEpilogue.statusMask {
    case FrameEpilogue.statusComplete: break
    case FrameEpilogue.statusAborted: return nil
    default: throw .badLateStatus(status)
    }
    if crcData || p.tag != .message {
      try check(frame.segments.1, 1, crcs.0, used: p.segmentCount > 1)
      try check(frame.segments.2, 2, crcs.1, used: p.segmentCount > 2)
      try check(frame.segments.3, 3, crcs.2, used: p.segmentCount > 3)
      if p.segmentCount > 3 { frame.dataCRC = crcs.2 }
    }
    return frame
  }

  private func check(_ segment: ByteBuffer, _ index: Int, _ claimed: UInt32, used: Bool)
    throws(FrameError)
  {
    let computed = used ? CRC32C.checksum(segment, seed: CRC32C.segmentSeed) : 0
    guard computed == claimed else {
      throw .badSegmentCRC(segment: index, expected: computed, actual: claimed)
    }
  }

  /// Drops consumed bytes when they dominate the buffer, so it does not grow without bound.
  private func compact(_ buffer: inout ByteBuffer) {
    if buffer.readableBytes > 0 && buffer.readerIndex > 256 << 10
      && buffer.readableBytes < buffer.readerIndex
    {
      buffer.discardReadBytes()
    }
  }
}

/// A shared zero-length buffer (copying it allocates nothing).
public let emptyBuffer = ByteBufferAllocator().buffer(capacity: 0)
