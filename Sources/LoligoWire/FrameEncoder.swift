import LoligoCore
import NIOCore

/// Writes msgr2.1 crc-mode frames.
///
/// Control frames are assembled in one buffer. A MESSAGE frame's data segment is handed to the
/// caller as its own buffer when it is large (no copy: the kernel gathers the pieces with
/// writev); small ones are copied inline so a batch of small messages is one contiguous write.
public struct FrameEncoder: Sendable {
  /// Data segments up to this size are copied into the frame buffer.
  public static let inlineDataLimit = 16 << 10

  /// Compute crcs of the front, middle and data segments (`ms_crc_data`); zero when off.
  public var crcData: Bool
  private var scratch: ByteBuffer

  public init(crcData: Bool = true, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
    self.crcData = crcData
    self.scratch = allocator.buffer(capacity: 256)
  }

  /// Appends a control frame whose single segment is what `payload` writes.
  public mutating func writeControl(
    _ tag: FrameTag, into out: inout ByteBuffer, payload: (inout ByteBuffer) -> Void
  ) {
    scratch.clear()
    payload(&scratch)
    let length = UInt32(scratch.readableBytes)
    FramePreamble(
      tag: tag, lengths: (length, 0, 0, 0), alignments: (FramePreamble.defaultAlignment, 0, 0, 0)
    ).encode(to: &out)
    if length > 0 {
      out.writeImmutableBuffer(scratch)
      out.writeLE(CRC32C.checksum(scratch, seed: CRC32C.segmentSeed))
    }
  }

  /// Appends a MESSAGE frame: segments header (41 bytes), front, middle, data.
  /// `emit` receives `out` (then continues with a fresh one) and the data segment when the
  /// data is too large to copy; the pieces must be written in the order emitted. `dataCRC`,
  /// when known, is the data segment's crc (seed -1) and is used instead of computing it.
  public mutating func writeMessage(
    header: MessageHeader2, front: ByteBuffer, middle: ByteBuffer, data: ByteBuffer,
    dataCRC: UInt32? = nil, into out: inout ByteBuffer, emit: (inout ByteBuffer, ByteBuffer) -> Void
  ) {
    let frontLength = UInt32(front.readableBytes)
    let middleLength = UInt32(middle.readableBytes)
    let dataLength = UInt32(data.readableBytes)
    let preamble = FramePreamble(
      tag: .message,
      lengths: (UInt32(MessageHeader2.size), frontLength, middleLength, dataLength),
      alignments: (
        FramePreamble.defaultAlignment, FramePreamble.defaultAlignment,
        FramePreamble.defaultAlignment, FramePreamble.pageAlignment
      ))
    preamble.encode(to: &out)
    let headerStart = out.writerIndex
    header.encode(to: &out)
    let headerCRC = out.withUnsafeReadableBytes { bytes in
      CRC32C.checksum(
        UnsafeRawBufferPointer(rebasing: bytes[(headerStart - out.readerIndex)...]),
        seed: CRC32C.segmentSeed)
    }
    out.writeLE(headerCRC)
    guard preamble.segmentCount > 1 else { return }
    out.writeImmutableBuffer(front)
    out.writeImmutableBuffer(middle)
    if dataLength > FrameEncoder.inlineDataLimit {
      emit(&out, data)
    } else {
      out.writeImmutableBuffer(data)
    }
    out.writeInteger(FrameEpilogue.statusComplete)
    if crcData {
      out.writeLE(segmentCRC(front, used: preamble.segmentCount > 1))
      out.writeLE(segmentCRC(middle, used: preamble.segmentCount > 2))
      out.writeLE(
        preamble.segmentCount > 3 ? dataCRC ?? segmentCRC(data, used: true) : 0)
    } else {
      out.writeLE(UInt32(0))
      out.writeLE(UInt32(0))
      out.writeLE(UInt32(0))
    }
  }

  /// Unused segments carry 0; used ones (even empty) the crc with seed -1.
  @inline(__always)
  private func segmentCRC(_ segment: ByteBuffer, used: Bool) -> UInt32 {
    used ? CRC32C.checksum(segment, seed: CRC32C.segmentSeed) : 0
  }
}
