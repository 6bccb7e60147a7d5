/// Message type numbers, Ceph's where Ceph has the message (include/ceph_fs.h, msgr.h).
public enum MessageType {
  public static let osdOp: UInt16 = 42
  public static let osdOpReply: UInt16 = 43
}

/// Why a received message could not be turned into its typed form.
public struct MessageDecodeError: Error, CustomStringConvertible {
  public let type: UInt16
  public let reason: String
  public var description: String { "cannot decode message type \(type): \(reason)" }
}
