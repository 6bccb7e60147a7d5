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

  @inline(__always)
  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeMultipleIntegers(
      seq, tid, type, priority, version, dataPrePaddingLength, dataOffset, ackSeq, flags,
      compatVersion, reserved, endianness: .little)
  }

  /// Decodes exactly 41 bytes (the frame decoder has checked the segment length).
  public static func decode(_ buffer: inout ByteBuffer) throws(FrameError) -> MessageHeader2 {
    guard
      let (seq, tid, type, priority, version, padding, offset, ack, flags, compat, reserved) =
        buffer.readMultipleIntegers(
          endianness: .little,
          as: (
            UInt64, UInt64, UInt16, UInt16, UInt16, UInt32, UInt16, UInt64, UInt8, UInt16,
            UInt16
          ).self)
    else { throw .badPayload(.message, "truncated header") }
    return MessageHeader2(
      seq: seq, tid: tid, type: type, priority: priority, version: version,
      dataPrePaddingLength: padding, dataOffset: offset, ackSeq: ack, flags: flags,
      compatVersion: compat, reserved: reserved)
  }
}
