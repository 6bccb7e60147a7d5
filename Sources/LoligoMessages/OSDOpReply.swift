import LoligoCore
import LoligoMessenger
import LoligoWire
import NIOCore

/// An OSD's answer to an `OSDOp` (the shape of Ceph's MOSDOpReply): an overall result, the
/// epoch the OSD acted on, and per-operation results; read data travels in the data segment.
/// The tid in the header matches the request's.
public struct OSDOpReply: Sendable, Equatable {
  public static let version: UInt8 = 1

  public struct OperationResult: Sendable, Equatable {
    public var result: Int32
    public var outLength: UInt32
    public init(result: Int32, outLength: UInt32 = 0) {
      self.result = result
      self.outLength = outLength
    }
  }

  public var result: Int32
  public var epoch: UInt32
  public var flags: UInt32
  public var operations: [OperationResult]

  public init(
    result: Int32, epoch: UInt32 = 0, flags: UInt32 = 0, operations: [OperationResult] = []
  ) {
    self.result = result
    self.epoch = epoch
    self.flags = flags
    self.operations = operations
  }

  public func encodeFront() -> ByteBuffer {
    var b = ByteBufferAllocator().buffer(capacity: 32 + 8 * operations.count)
    b.writeVersioned(version: OSDOpReply.version, compat: 1) { b in
      b.writeLE(result)
      b.writeLE(epoch)
      b.writeLE(flags)
      b.writeArray(operations) { b, op in
        b.writeLE(op.result)
        b.writeLE(op.outLength)
      }
    }
    return b
  }

  public func message(tid: UInt64, data: ByteBuffer = emptyBuffer) -> Message {
    Message(type: MessageType.osdOpReply, tid: tid, front: encodeFront(), data: data)
  }

  public init(front: ByteBuffer) throws {
    var b = front
    self = try b.readVersioned("osd_op_reply", supported: OSDOpReply.version, limit: 1 << 16) {
      b, _ in
      let result = try b.readLE(Int32.self, "result")
      let epoch = try b.readLE(UInt32.self, "epoch")
      let flags = try b.readLE(UInt32.self, "flags")
      let ops = try b.readArray(limit: OSDOp.maxOperations, minimumElementSize: 8, "results") {
        OperationResult(
          result: try $0.readLE(Int32.self, "op result"),
          outLength: try $0.readLE(UInt32.self, "out length"))
      }
      return OSDOpReply(result: result, epoch: epoch, flags: flags, operations: ops)
    }
  }

  public init(_ message: Message) throws {
    guard message.type == MessageType.osdOpReply else {
      throw MessageDecodeError(type: message.type, reason: "not an OSD op reply")
    }
    try self.init(front: message.front)
  }
}
