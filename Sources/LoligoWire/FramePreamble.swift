import LoligoCore
import NIOCore

/// The 32-byte msgr2 preamble, always plaintext in crc mode:
///
///     off size
///       0    1  tag
///       1    1  number of segments (1...4)
///       2   24  4 x { le32 length, le16 alignment }, unused entries zero
///      26    1  flags
///      27    1  reserved
///      28    4  le32 crc32c of bytes 0..<28, seed 0
public struct FramePreamble: Sendable, Equatable {
  public static let size = 32
  public static let maxSegments = 4
  /// Alignment Ceph announces for control segments (sizeof(void*)).
  public static let defaultAlignment: UInt16 = 8
  /// Alignment Ceph announces for a message's data segment (a page).
  public static let pageAlignment: UInt16 = 4096

  public var tag: FrameTag
  public var segmentCount: Int
  public var lengths: (UInt32, UInt32, UInt32, UInt32)
  public var alignments: (UInt16, UInt16, UInt16, UInt16)
  public var flags: UInt8

  public init(
    tag: FrameTag, lengths: (UInt32, UInt32, UInt32, UInt32),
    alignments: (UInt16, UInt16, UInt16, UInt16), flags: UInt8 = 0
  ) {
    self.tag = tag
    self.lengths = lengths
    self.alignments = alignments
    self.flags = flags
    // Trailing empty segments are not sent; a frame always has at least one.
    var count = 4
    while count > 1 && FramePreamble.length(lengths, count - 1) == 0 { count -= 1 }
    self.segmentCount = count
  }

  public static func == (a: FramePreamble, b: FramePreamble) -> Bool {
    a.tag == b.tag && a.segmentCount == b.segmentCount && a.lengths == b.lengths
      && a.alignments == b.alignments && a.flags == b.flags
  }

  public func length(_ index: Int) -> UInt32 { FramePreamble.length(lengths, index) }

  @inline(__always)
  static func length(_ l: (UInt32, UInt32, UInt32, UInt32), _ index: Int) -> UInt32 {
    switch index {
    case 0: return l.0
    case 1: return l.1
    case 2: return l.2
    default: return l.3
    }
  }

  /// Bytes that follow the preamble on the wire in msgr2.1 crc mode: the segments, the crc
  /// after a non-empty first segment, and the 13-byte epilogue when there are several segments.
  public var onWireBodyLength: Int {
    var total = Int(lengths.0) + Int(lengths.1) + Int(lengths.2) + Int(lengths.3)
    if lengths.0 > 0 { total += 4 }
    if segmentCount > 1 { total += FrameEpilogue.size }
    return total
  }

  public func encode(to buffer: inout ByteBuffer) {
    // Plain stores into reserved space, then the crc over the first 28 bytes.
    let offset = buffer.writerIndex - buffer.readerIndex
    buffer.writeRepeatingByte(0, count: FramePreamble.size)
    buffer.withUnsafeMutableReadableBytes { all in
      let p = UnsafeMutableRawBufferPointer(rebasing: all[offset...])
      p[0] = tag.rawValue
      p[1] = UInt8(segmentCount)
      func segment(_ i: Int, _ length: UInt32, _ alignment: UInt16) {
        p.storeBytes(of: length.littleEndian, toByteOffset: 2 + 6 * i, as: UInt32.self)
        p.storeBytes(of: alignment.littleEndian, toByteOffset: 6 + 6 * i, as: UInt16.self)
      }
      segment(0, lengths.0, alignments.0)
      segment(1, lengths.1, alignments.1)
      segment(2, lengths.2, alignments.2)
      segment(3, lengths.3, alignments.3)
      p[26] = flags
      let crc = CRC32C.checksum(
        UnsafeRawBufferPointer(rebasing: p[..<28]), seed: CRC32C.preambleSeed)
      p.storeBytes(of: crc.littleEndian, toByteOffset: 28, as: UInt32.self)
    }
  }

  /// Decodes and checks 32 bytes. `maxSegmentLength` bounds every segment.
  public static func decode(_ buffer: inout ByteBuffer, maxSegmentLength: Int) throws(FrameError)
    -> FramePreamble
  {
    precondition(buffer.readableBytes >= size)
    let computed = buffer.withUnsafeReadableBytes { bytes in
      CRC32C.checksum(
        UnsafeRawBufferPointer(rebasing: bytes[..<28]), seed: CRC32C.preambleSeed)
    }
    let start = buffer.readerIndex
    let claimed: UInt32 = buffer.getInteger(at: start + 28, endianness: .little)!
    guard computed == claimed else {
      throw .badPreambleCRC(expected: computed, actual: claimed)
    }
    let rawTag: UInt8 = buffer.getInteger(at: start)!
    let count = Int(buffer.getInteger(at: start + 1, as: UInt8.self)!)
    guard let tag = FrameTag(rawValue: rawTag) else { throw .unknownTag(rawTag) }
    guard (1...maxSegments).contains(count) else { throw .badSegmentCount(count) }
    func field(_ i: Int) -> (UInt32, UInt16) {
      (
        buffer.getInteger(at: start + 2 + 6 * i, endianness: .little)!,
        buffer.getInteger(at: start + 6 + 6 * i, endianness: .little)!
      )
    }
    let (l0, a0) = field(0)
    let (l1, a1) = field(1)
    let (l2, a2) = field(2)
    let (l3, a3) = field(3)
    let lengths = (l0, l1, l2, l3)
    for i in 0..<4 {
      let length = FramePreamble.length(lengths, i)
      if i >= count && length != 0 { throw .badSegmentCount(count) }
      if length > maxSegmentLength {
        throw .oversizeSegment(segment: i, length: length, limit: maxSegmentLength)
      }
    }
    if count > 1 && FramePreamble.length(lengths, count - 1) == 0 { throw .emptyLastSegment }
    let flags: UInt8 = buffer.getInteger(at: start + 26)!
    buffer.moveReaderIndex(forwardBy: size)
    var preamble = FramePreamble(
      tag: tag, lengths: lengths, alignments: (a0, a1, a2, a3), flags: flags)
    preamble.segmentCount = count
    return preamble
  }
}

/// msgr2.1 crc-mode epilogue, present when a frame has more than one segment:
/// `u8 late_status` then `3 x le32 crc` for segments 2...4.
public enum FrameEpilogue {
  public static let size = 13
  /// Low nibble code words, Hamming distance 4 apart.
  public static let statusComplete: UInt8 = 0x0E
  public static let statusAborted: UInt8 = 0x01
  public static let statusMask: UInt8 = 0x0F
}
