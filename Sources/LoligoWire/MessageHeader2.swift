import LoligoCore
import NIOCore

/// `ceph_msg_header2`: the 41-byte packed first segment of a MESSAGE frame.
public struct MessageHeader2: Sendable, Equatable {
  public static let size = 41
  public static let defaultPriority: UInt16 = 127

  /// Position of the message in its session (1, 2, ...).
  public var seq: UInt64
  /// Transaction id chosen by the sender to match replies.
  public var tid: UInt64
  public var type: UInt16
  public var priority: UInt16
  /// Encoding version of the message payload.
  public var version: UInt16
  public var dataPrePaddingLength: UInt32
  public var dataOffset: UInt16
  /// The sender's last received seq: an acknowledgement carried for free.
  public var ackSeq: UInt64
  public var flags: UInt8
  /// Oldest payload version that can decode this message.
  public var compatVersion: UInt16
  public var reserved: UInt16

  public init(
    seq: UInt64 = 0, tid: UInt64 = 0, type: UInt16, priority: UInt16 = defaultPriority,
    version: UInt16 = 1, dataPrePaddingLength: UInt32 = 0, dataOffset: UInt16 = 0,
    ackSeq: UInt64 = 0, flags: UInt8 = 0, compatVersion: UInt16 = 1, reserved: UInt16 = 0
  ) {
    self.seq = seq
    self.tid = tid
    self.type = type
    self.priority = priority
    self.version = version
    self.dataPrePaddingLength = dataPrePaddingLength
    self.dataOffset = dataOffset
    self.ackSeq = ackSeq
    self.flags = flags
    self.compatVersion = compatVersion
    self.reserved = reserved
  }

  /// Field offsets in the packed 41-byte layout.
  private enum Offset {
    static let seq = 0, tid = 8, type = 16, priority = 18, version = 20, padding = 22
    static let dataOffset = 26, ackSeq = 28, flags = 36, compat = 37, reserved = 39
  }

  @inline(__always)
  public func encode(to buffer: inout ByteBuffer) {
    // Plain stores into reserved space: this runs once per message sent.
    let offset = buffer.writerIndex - buffer.readerIndex
    buffer.writeRepeatingByte(0, count: MessageHeader2.size)
    buffer.withUnsafeMutableReadableBytes { all in
      let p = UnsafeMutableRawBufferPointer(rebasing: all[offset...])
      p.storeBytes(of: seq.littleEndian, toByteOffset: Offset.seq, as: UInt64.self)
      p.storeBytes(of: tid.littleEndian, toByteOffset: Offset.tid, as: UInt64.self)
      p.storeBytes(of: type.littleEndian, toByteOffset: Offset.type, as: UInt16.self)
      p.storeBytes(of: priority.littleEndian, toByteOffset: Offset.priority, as: UInt16.self)
      p.storeBytes(of: version.littleEndian, toByteOffset: Offset.version, as: UInt16.self)
      p.storeBytes(
        of: dataPrePaddingLength.littleEndian, toByteOffset: Offset.padding, as: UInt32.self)
      p.storeBytes(of: dataOffset.littleEndian, toByteOffset: Offset.dataOffset, as: UInt16.self)
      p.storeBytes(of: ackSeq.littleEndian, toByteOffset: Offset.ackSeq, as: UInt64.self)
      p.storeBytes(of: flags, toByteOffset: Offset.flags, as: UInt8.self)
      p.storeBytes(of: compatVersion.littleEndian, toByteOffset: Offset.compat, as: UInt16.self)
      p.storeBytes(of: reserved.littleEndian, toByteOffset: Offset.reserved, as: UInt16.self)
    }
  }

  /// Decodes exactly 41 bytes (the frame decoder has checked the segment length).
  public static func decode(_ buffer: inout ByteBuffer) throws(FrameError) -> MessageHeader2 {
    guard buffer.readableBytes >= size else { throw .badPayload(.message, "truncated header") }
    let header = buffer.withUnsafeReadableBytes { p -> MessageHeader2 in
      func u64(_ o: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self))
      }
      func u32(_ o: Int) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self))
      }
      func u16(_ o: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: o, as: UInt16.self))
      }
      return MessageHeader2(
        seq: u64(Offset.seq), tid: u64(Offset.tid), type: u16(Offset.type),
        priority: u16(Offset.priority), version: u16(Offset.version),
        dataPrePaddingLength: u32(Offset.padding), dataOffset: u16(Offset.dataOffset),
        ackSeq: u64(Offset.ackSeq), flags: p[Offset.flags], compatVersion: u16(Offset.compat),
        reserved: u16(Offset.reserved))
    }
    buffer.moveReaderIndex(forwardBy: size)
    return header
  }
}
