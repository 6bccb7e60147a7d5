import LoligoCore
import LoligoMessenger
import LoligoWire
import NIOCore

/// OSD ↔ OSD heartbeat (Ceph's MOSDPing): a ping and its echo.
public struct OSDPing: Sendable, Equatable {
  public static let version: UInt8 = 1
  public var isReply: Bool
  public var epoch: UInt32
  public var stamp: UInt64

  public init(isReply: Bool, epoch: UInt32, stamp: UInt64) {
    self.isReply = isReply
    self.epoch = epoch
    self.stamp = stamp
  }

  public func message() -> Message {
    var front = ByteBuffer()
    front.writeVersioned(version: Self.version, compat: 1) { b in
      b.writeBool(isReply)
      b.writeLE(epoch)
      b.writeLE(stamp)
    }
    return Message(type: MessageType.osdPing, front: front)
  }

  public init(_ message: Message) throws {
    var front = message.front
    self = try front.readVersioned("osd_ping", supported: Self.version, limit: 4096) { b, _ in
      OSDPing(
        isReply: try b.readBool(), epoch: try b.readLE(UInt32.self),
        stamp: try b.readLE(UInt64.self))
    }
  }
}
