import LoligoCore
import LoligoMessenger
import LoligoWire
import NIOCore

/// Primary → replica: apply these operations to this object of this placement group, as
/// version `version` of the PG log (Ceph's MOSDRepOp). Write payloads travel in the data
/// segment, as in the client's op. The primary's tid (header) matches the reply.
public struct OSDRepOp: Sendable, Equatable {
  public static let version: UInt8 = 1

  public var pool: Int64
  public var seed: UInt32
  /// Map epoch of the primary when it sent this.
  public var epoch: UInt32
  public var logVersion: UInt64
  /// The client request this comes from (client entity number and tid).
  public var client: Int64
  public var clientTid: UInt64
  public var objectName: String
  public var namespace: String
  public var operations: [OSDOperation]

  public init(
    pool: Int64, seed: UInt32, epoch: UInt32, logVersion: UInt64, client: Int64, clientTid: UInt64,
    objectName: String, namespace: String, operations: [OSDOperation]
  ) {
    self.pool = pool
    self.seed = seed
    self.epoch = epoch
    self.logVersion = logVersion
    self.client = client
    self.clientTid = clientTid
    self.objectName = objectName
    self.namespace = namespace
    self.operations = operations
  }

  public func message(tid: UInt64, data: ByteBuffer) -> Message {
    var front = ByteBuffer()
    front.writeVersioned(version: Self.version, compat: 1) { b in
      b.writeLE(pool)
      b.writeLE(seed)
      b.writeLE(epoch)
      b.writeLE(logVersion)
      b.writeLE(client)
      b.writeLE(clientTid)
      b.writeCephString(objectName)
      b.writeCephString(namespace)
      // The same per-operation layout as the client's op.
      let ops = OSDOp(objectName: "", operations: operations).encodeFront()
      b.writeBlob(ops)
    }
    return Message(type: MessageType.osdRepOp, tid: tid, front: front, data: data)
  }

  public init(_ message: Message) throws {
    var front = message.front
    self = try front.readVersioned("rep_op", supported: Self.version, limit: 1 << 20) { b, _ in
      let pool = try b.readLE(Int64.self, "pool")
      let seed = try b.readLE(UInt32.self, "seed")
      let epoch = try b.readLE(UInt32.self, "epoch")
      let logVersion = try b.readLE(UInt64.self, "log version")
      let client = try b.readLE(Int64.self, "client")
      let clientTid = try b.readLE(UInt64.self, "client tid")
      let name = try b.readCephString(limit: OSDOp.maxObjectName, "object name")
      let namespace = try b.readCephString(limit: 4096, "namespace")
      let ops = try OSDOp(front: try b.readBlob(limit: 1 << 16, "operations")).operations
      return OSDRepOp(
        pool: pool, seed: seed, epoch: epoch, logVersion: logVersion, client: client,
        clientTid: clientTid, objectName: name, namespace: namespace, operations: ops)
    }
    let declared = operations.reduce(0) { $0 + Int($1.payloadLength) }
    guard declared == message.data.readableBytes else {
      throw MessageDecodeError(type: message.type, reason: "payload length mismatch")
    }
  }
}

/// Replica → primary: the operation is durable here (`result` 0), or failed.
public struct OSDRepOpReply: Sendable, Equatable {
  public static let version: UInt8 = 1
  public var pool: Int64
  public var seed: UInt32
  public var logVersion: UInt64
  public var result: Int32

  public init(pool: Int64, seed: UInt32, logVersion: UInt64, result: Int32) {
    self.pool = pool
    self.seed = seed
    self.logVersion = logVersion
    self.result = result
  }

  public func message(tid: UInt64) -> Message {
    var front = ByteBuffer()
    front.writeVersioned(version: Self.version, compat: 1) { b in
      b.writeLE(pool)
      b.writeLE(seed)
      b.writeLE(logVersion)
      b.writeLE(result)
    }
    return Message(type: MessageType.osdRepOpReply, tid: tid, front: front)
  }

  public init(_ message: Message) throws {
    var front = message.front
    self = try front.readVersioned("rep_op_reply", supported: Self.version, limit: 4096) { b, _ in
      OSDRepOpReply(
        pool: try b.readLE(Int64.self, "pool"), seed: try b.readLE(UInt32.self, "seed"),
        logVersion: try b.readLE(UInt64.self, "log version"),
        result: try b.readLE(Int32.self, "result"))
    }
  }
}

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
