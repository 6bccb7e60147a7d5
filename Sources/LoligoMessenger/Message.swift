import LoligoCore
import LoligoWire
import NIOCore

/// One message as the messenger carries it: a type, a transaction id, and three payload
/// segments (front: the encoded message; middle: rarely used; data: bulk bytes such as the
/// contents of a write). Typed messages (OSD op, reply, ...) encode to and decode from this.
///
/// A received message holds slices of the receive buffer (no copy) and counts against the
/// messenger's dispatch throttle until it is released.
// handed on, never shared: sender, then connection loop, then dispatcher
public final class Message: @unchecked Sendable {
  public var type: UInt16
  public var tid: UInt64
  public var priority: UInt16
  /// Payload encoding version and the oldest version able to read it.
  public var version: UInt16
  public var compatVersion: UInt16
  public var front: ByteBuffer
  public var middle: ByteBuffer
  public var data: ByteBuffer {
    didSet { dataCRC = nil }
  }
  /// The crc32c (seed -1) of `data` when already known: checked on receipt, or given by a
  /// sender that knows it (a stored object's, a forwarded message's). Changing `data` forgets it.
  public var dataCRC: UInt32?

  /// Who sent it (received messages only).
  public internal(set) var source: EntityName?
  /// The connection it arrived on; replies go back on it.
  public internal(set) var connection: Connection?
  /// Its sequence number in that session.
  public internal(set) var seq: UInt64 = 0
  /// `Cycles.now()` when its frame was complete.
  public internal(set) var receivedAt: UInt64 = 0

  var throttle: DispatchThrottle?

  public init(
    type: UInt16, tid: UInt64 = 0, priority: UInt16 = MessageHeader2.defaultPriority,
    version: UInt16 = 1, compatVersion: UInt16 = 1, front: ByteBuffer = emptyBuffer,
    middle: ByteBuffer = emptyBuffer, data: ByteBuffer = emptyBuffer
  ) {
    self.type = type
    self.tid = tid
    self.priority = priority
    self.version = version
    self.compatVersion = compatVersion
    self.front = front
    self.middle = middle
    self.data = data
  }

  deinit {
    throttle?.release(payloadBytes)
  }

  /// Bytes of front, middle and data.
  public var payloadBytes: Int {
    front.readableBytes + middle.readableBytes + data.readableBytes
  }

  func header(seq: UInt64, ackSeq: UInt64) -> MessageHeader2 {
    MessageHeader2(
      seq: seq, tid: tid, type: type, priority: priority, version: version, ackSeq: ackSeq,
      compatVersion: compatVersion)
  }
}
