import LoligoCore
import LoligoMessenger
import LoligoWire
import NIOCore

/// Operation codes inside an OSD op, with Ceph's values (`CEPH_OSD_OP_*`: mode | type | n).
public enum OSDOpCode: UInt16, Sendable {
  case read = 0x1201
  case stat = 0x1202
  case omapGetValues = 0x1211
  case getXattr = 0x1301
  /// List the objects of the addressed placement group (Ceph's PGLS): `name` is the cursor
  /// (list after it), `length` the most entries.
  case listObjects = 0x1501
  case write = 0x2201
  case writeFull = 0x2202
  case truncate = 0x2203
  case delete = 0x2205
  case create = 0x220D
  case omapSetValues = 0x2215
  case setXattr = 0x2301

  public var isWrite: Bool { rawValue & 0x2000 != 0 }
}

/// One operation on an object: what, where, and how many data bytes it carries.
public struct OSDOperation: Sendable, Equatable {
  public var code: OSDOpCode
  public var offset: UInt64
  public var length: UInt64
  /// Bytes of the message's data segment that belong to this operation (writes).
  public var payloadLength: UInt32
  /// The xattr name, or the list cursor.
  public var name: String

  public init(
    code: OSDOpCode, offset: UInt64, length: UInt64, payloadLength: UInt32 = 0, name: String = ""
  ) {
    self.code = code
    self.offset = offset
    self.length = length
    self.payloadLength = payloadLength
    self.name = name
  }
}

/// A client's request to an OSD (the shape of Ceph's MOSDOp): the placement group and object
/// it addresses, the map epoch it was computed on, and a list of operations whose write
/// payloads travel in the message's data segment. The tid is in the message header.
public struct OSDOp: Sendable, Equatable {
  public static let version: UInt8 = 2
  public static let maxOperations = 16
  public static let maxObjectName = 2048

  public var pool: Int64
  public var placementSeed: UInt32
  public var objectName: String
  public var namespace: String
  public var epoch: UInt32
  public var flags: UInt32
  /// Resend attempt number; the (client, tid) pair identifies the request across attempts.
  public var attempt: UInt32
  public var operations: [OSDOperation]

  public init(
    pool: Int64 = 0, placementSeed: UInt32 = 0, objectName: String, namespace: String = "",
    epoch: UInt32 = 0, flags: UInt32 = 0, attempt: UInt32 = 0, operations: [OSDOperation]
  ) {
    self.pool = pool
    self.placementSeed = placementSeed
    self.objectName = objectName
    self.namespace = namespace
    self.epoch = epoch
    self.flags = flags
    self.attempt = attempt
    self.operations = operations
  }

  /// A write of `data` at `offset` (what perf-msgr sends: Ceph's `MOSDOp::write`).
  public static func write(object: String, offset: UInt64, length: Int) -> OSDOp {
    OSDOp(
      objectName: object,
      operations: [
        OSDOperation(
          code: .write, offset: offset, length: UInt64(length), payloadLength: UInt32(length))
      ])
  }

  public func encodeFront() -> ByteBuffer {
    var b = ByteBufferAllocator().buffer(capacity: 64 + objectName.utf8.count)
    b.writeVersioned(version: OSDOp.version, compat: 2) { b in
      b.writeLE(pool)
      b.writeLE(placementSeed)
      b.writeCephString(objectName)
      b.writeCephString(namespace)
      b.writeLE(epoch)
      b.writeLE(flags)
      b.writeLE(attempt)
      b.writeArray(operations) { b, op in
        b.writeLE(op.code.rawValue)
        b.writeLE(op.offset)
        b.writeLE(op.length)
        b.writeLE(op.payloadLength)
        b.writeCephString(op.name)
      }
    }
    return b
  }

  /// A message carrying this op; `data` holds the write payloads back to back.
  public func message(tid: UInt64, data: ByteBuffer = emptyBuffer) -> Message {
    Message(type: MessageType.osdOp, tid: tid, front: encodeFront(), data: data)
  }

  public init(front: ByteBuffer) throws {
    var b = front
    self = try b.readVersioned("osd_op", supported: OSDOp.version, limit: 1 << 20) { b, _ in
      let pool = try b.readLE(Int64.self, "pool")
      let seed = try b.readLE(UInt32.self, "placement seed")
      let name = try b.readCephString(limit: OSDOp.maxObjectName, "object name")
      let namespace = try b.readCephString(limit: 4096, "namespace")
      let epoch = try b.readLE(UInt32.self, "epoch")
      let flags = try b.readLE(UInt32.self, "flags")
      let attempt = try b.readLE(UInt32.self, "attempt")
      let ops = try b.readArray(
        limit: OSDOp.maxOperations, minimumElementSize: 26, "operations"
      ) { b -> OSDOperation in
        let raw = try b.readLE(UInt16.self, "op code")
        guard let code = OSDOpCode(rawValue: raw) else {
          throw DecodeError.invalid(field: "op code", reason: "unknown 0x\(String(raw, radix: 16))")
        }
        return OSDOperation(
          code: code, offset: try b.readLE(UInt64.self, "offset"),
          length: try b.readLE(UInt64.self, "length"),
          payloadLength: try b.readLE(UInt32.self, "payload length"),
          name: try b.readCephString(limit: 4096, "op name"))
      }
      return OSDOp(
        pool: pool, placementSeed: seed, objectName: name, namespace: namespace, epoch: epoch,
        flags: flags, attempt: attempt, operations: ops)
    }
  }

  /// Decodes a received message, checking that the data segment holds the declared payloads.
  public init(_ message: Message) throws {
    guard message.type == MessageType.osdOp else {
      throw MessageDecodeError(type: message.type, reason: "not an OSD op")
    }
    try self.init(front: message.front)
    let declared = operations.reduce(0) { $0 + Int($1.payloadLength) }
    guard declared == message.data.readableBytes else {
      throw MessageDecodeError(
        type: message.type,
        reason: "ops declare \(declared) data bytes, message has \(message.data.readableBytes)")
    }
  }
}
