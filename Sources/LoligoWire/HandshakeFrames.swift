import LoligoCore
import NIOCore

/// Payloads of the msgr2 control frames, field order as in Ceph's `*Frame` definitions.
/// Each decoder is bounds-checked and throws on truncated or oversized input.
public enum Features {
  /// `CEPH_FEATURE_MSG_ADDR2` (bit 59): addresses in the msgr2 encoding. Always required.
  public static let msgAddr2: UInt64 = 1 << 59
  /// What a Loligo messenger supports and requires.
  public static let supported: UInt64 = msgAddr2
  public static let required: UInt64 = msgAddr2
}

/// Authentication methods and connection modes (`CEPH_AUTH_*`, `CEPH_CON_MODE_*`).
public enum AuthMethod {
  public static let none: UInt32 = 1
  public static let modeCRC: UInt32 = 1
}

/// `CEPH_MSG_CONNECT_LOSSY`, in the ident flags.
public let identFlagLossy: UInt64 = 1

public struct HelloFrame: Sendable, Equatable {
  public var entityType: EntityType
  /// The address at which the sender sees its peer.
  public var peerAddr: EntityAddr

  public init(entityType: EntityType, peerAddr: EntityAddr) {
    self.entityType = entityType
    self.peerAddr = peerAddr
  }

  public func encode(to b: inout ByteBuffer) {
    b.writeInteger(entityType.rawValue)
    peerAddr.encode(to: &b)
  }

  public init(from b: inout ByteBuffer) throws {
    let raw: UInt8 = try b.readLE(UInt8.self, "hello entity type")
    guard let type = EntityType(rawValue: raw) else {
      throw DecodeError.invalid(field: "hello entity type", reason: "\(raw)")
    }
    entityType = type
    peerAddr = try EntityAddr(from: &b)
  }
}

public struct AuthRequestFrame: Sendable, Equatable {
  public var method: UInt32
  public var preferredModes: [UInt32]
  public var payload: ByteBuffer

  public init(method: UInt32, preferredModes: [UInt32], payload: ByteBuffer) {
    self.method = method
    self.preferredModes = preferredModes
    self.payload = payload
  }

  public func encode(to b: inout ByteBuffer) {
    b.writeLE(method)
    b.writeArray(preferredModes) { $0.writeLE($1) }
    b.writeBlob(payload)
  }

  public init(from b: inout ByteBuffer) throws {
    method = try b.readLE(UInt32.self, "auth method")
    preferredModes = try b.readArray(limit: 16, minimumElementSize: 4, "auth modes") {
      try $0.readLE(UInt32.self, "auth mode")
    }
    payload = try b.readBlob(limit: 4096, "auth payload")
  }
}

public struct AuthBadMethodFrame: Sendable, Equatable {
  public var method: UInt32
  public var result: Int32
  public var allowedMethods: [UInt32]
  public var allowedModes: [UInt32]

  public init(method: UInt32, result: Int32, allowedMethods: [UInt32], allowedModes: [UInt32]) {
    self.method = method
    self.result = result
    self.allowedMethods = allowedMethods
    self.allowedModes = allowedModes
  }

  public func encode(to b: inout ByteBuffer) {
    b.writeLE(method)
    b.writeLE(result)
    b.writeArray(allowedMethods) { $0.writeLE($1) }
    b.writeArray(allowedModes) { $0.writeLE($1) }
  }

  public init(from b: inout ByteBuffer) throws {
    method = try b.readLE(UInt32.self, "method")
    result = try b.readLE(Int32.self, "result")
    allowedMethods = try b.readArray(limit: 16, minimumElementSize: 4, "methods") {
      try $0.readLE(UInt32.self)
    }
    allowedModes = try b.readArray(limit: 16, minimumElementSize: 4, "modes") {
      try $0.readLE(UInt32.self)
    }
  }
}

public struct AuthDoneFrame: Sendable, Equatable {
  public var globalID: UInt64
  public var connectionMode: UInt32
  public var payload: ByteBuffer

  public init(globalID: UInt64, connectionMode: UInt32, payload: ByteBuffer) {
    self.globalID = globalID
    self.connectionMode = connectionMode
    self.payload = payload
  }

  public func encode(to b: inout ByteBuffer) {
    b.writeLE(globalID)
    b.writeLE(connectionMode)
    b.writeBlob(payload)
  }

  public init(from b: inout ByteBuffer) throws {
    globalID = try b.readLE(UInt64.self, "global id")
    connectionMode = try b.readLE(UInt32.self, "connection mode")
    payload = try b.readBlob(limit: 4096, "auth done payload")
  }
}

/// HMAC-SHA256 of the peer's pre-auth bytes under the session key; 32 zero bytes with no key.
public struct AuthSignatureFrame: Sendable, Equatable {
  public static let size = 32
  public var signature: [UInt8]

  public init(signature: [UInt8] = [UInt8](repeating: 0, count: size)) {
    self.signature = signature
  }

  public func encode(to b: inout ByteBuffer) { b.writeBytes(signature) }

  public init(from b: inout ByteBuffer) throws {
    guard let bytes = b.readBytes(length: AuthSignatureFrame.size) else {
      throw DecodeError.truncated(
        field: "auth signature", needed: AuthSignatureFrame.size, available: b.readableBytes)
    }
    signature = bytes
  }
}

/// CLIENT_IDENT (with `target`) and SERVER_IDENT (without) share this shape.
public struct IdentFrame: Sendable, Equatable {
  public var addrs: EntityAddrVec
  /// Only in CLIENT_IDENT: the address the client meant to reach.
  public var target: EntityAddr?
  /// The sender's entity number (the N in client.N / osd.N).
  public var gid: Int64
  public var globalSeq: UInt64
  public var supportedFeatures: UInt64
  public var requiredFeatures: UInt64
  public var flags: UInt64
  public var cookie: UInt64

  public init(
    addrs: EntityAddrVec, target: EntityAddr?, gid: Int64, globalSeq: UInt64,
    supportedFeatures: UInt64, requiredFeatures: UInt64, flags: UInt64, cookie: UInt64
  ) {
    self.addrs = addrs
    self.target = target
    self.gid = gid
    self.globalSeq = globalSeq
    self.supportedFeatures = supportedFeatures
    self.requiredFeatures = requiredFeatures
    self.flags = flags
    self.cookie = cookie
  }

  public var isLossy: Bool { flags & identFlagLossy != 0 }

  public func encode(to b: inout ByteBuffer) {
    addrs.encode(to: &b)
    target?.encode(to: &b)
    b.writeLE(gid)
    b.writeLE(globalSeq)
    b.writeLE(supportedFeatures)
    b.writeLE(requiredFeatures)
    b.writeLE(flags)
    b.writeLE(cookie)
  }

  public init(from b: inout ByteBuffer, client: Bool) throws {
    addrs = try EntityAddrVec(from: &b)
    target = client ? try EntityAddr(from: &b) : nil
    gid = try b.readLE(Int64.self, "gid")
    globalSeq = try b.readLE(UInt64.self, "global seq")
    supportedFeatures = try b.readLE(UInt64.self, "supported features")
    requiredFeatures = try b.readLE(UInt64.self, "required features")
    flags = try b.readLE(UInt64.self, "flags")
    cookie = try b.readLE(UInt64.self, "cookie")
  }
}

public struct ReconnectFrame: Sendable, Equatable {
  public var addrs: EntityAddrVec
  public var clientCookie: UInt64
  public var serverCookie: UInt64
  public var globalSeq: UInt64
  public var connectSeq: UInt64
  /// The client's last received seq: the server drops what the client already has.
  public var msgSeq: UInt64

  public init(
    addrs: EntityAddrVec, clientCookie: UInt64, serverCookie: UInt64, globalSeq: UInt64,
    connectSeq: UInt64, msgSeq: UInt64
  ) {
    self.addrs = addrs
    self.clientCookie = clientCookie
    self.serverCookie = serverCookie
    self.globalSeq = globalSeq
    self.connectSeq = connectSeq
    self.msgSeq = msgSeq
  }

  public func encode(to b: inout ByteBuffer) {
    addrs.encode(to: &b)
    b.writeMultipleIntegers(
      clientCookie, serverCookie, globalSeq, connectSeq, msgSeq, endianness: .little)
  }

  public init(from b: inout ByteBuffer) throws {
    addrs = try EntityAddrVec(from: &b)
    clientCookie = try b.readLE(UInt64.self, "client cookie")
    serverCookie = try b.readLE(UInt64.self, "server cookie")
    globalSeq = try b.readLE(UInt64.self, "global seq")
    connectSeq = try b.readLE(UInt64.self, "connect seq")
    msgSeq = try b.readLE(UInt64.self, "msg seq")
  }
}

/// Frames whose payload is a single `le64`: RECONNECT_OK (msg seq), SESSION_RETRY (connect
/// seq), SESSION_RETRY_GLOBAL (global seq), IDENT_MISSING_FEATURES (features), ACK (seq).
public struct U64Frame: Sendable, Equatable {
  public var value: UInt64
  public init(_ value: UInt64) { self.value = value }
  public func encode(to b: inout ByteBuffer) { b.writeLE(value) }
  public init(from b: inout ByteBuffer) throws { value = try b.readLE(UInt64.self, "value") }
}

public struct ResetFrame: Sendable, Equatable {
  /// True when the peer must forget everything, queued messages included.
  public var full: Bool
  public init(full: Bool) { self.full = full }
  public func encode(to b: inout ByteBuffer) { b.writeBool(full) }
  public init(from b: inout ByteBuffer) throws { full = try b.readBool("reset full") }
}

/// KEEPALIVE2 and its ACK: a `utime_t` (le32 seconds, le32 nanoseconds) echoed back.
public struct KeepaliveFrame: Sendable, Equatable {
  public var seconds: UInt32
  public var nanoseconds: UInt32
  public init(seconds: UInt32, nanoseconds: UInt32) {
    self.seconds = seconds
    self.nanoseconds = nanoseconds
  }
  public func encode(to b: inout ByteBuffer) {
    b.writeLE(seconds)
    b.writeLE(nanoseconds)
  }
  public init(from b: inout ByteBuffer) throws {
    seconds = try b.readLE(UInt32.self, "keepalive seconds")
    nanoseconds = try b.readLE(UInt32.self, "keepalive nanoseconds")
  }
}
