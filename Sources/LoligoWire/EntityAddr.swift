import LoligoCore
import NIOCore

/// `entity_addr_t`: where an entity listens (or is seen to connect from), with a nonce that tells
/// apart two processes that used the same address. Encoded as Ceph does with MSG_ADDR2:
///
///     u8 1 (marker), u8 version 1, u8 compat 1, le32 length,
///     le32 type, le32 nonce, le32 sockaddr length, le16 family, rest of sockaddr
///
/// The sockaddr keeps Linux's layout: port in network order, then the address bytes.
public struct EntityAddr: Hashable, Sendable, CustomStringConvertible {
  public enum AddrType: UInt32, Sendable {
    case none = 0
    case legacy = 1
    case msgr2 = 2
    case any = 3
  }

  public static let familyIPv4: UInt16 = 2
  public static let familyIPv6: UInt16 = 10

  public var type: AddrType
  public var nonce: UInt32
  /// 0 (no address), 2 (IPv4) or 10 (IPv6).
  public var family: UInt16
  public var port: UInt16
  /// 4 bytes for IPv4, 16 for IPv6, empty for none.
  public var ip: [UInt8]

  public init(type: AddrType = .msgr2, nonce: UInt32 = 0, family: UInt16, port: UInt16, ip: [UInt8])
  {
    self.type = type
    self.nonce = nonce
    self.family = family
    self.port = port
    self.ip = ip
  }

  /// The empty address (`-`).
  public static let blank = EntityAddr(type: .none, family: 0, port: 0, ip: [])

  public var isBlank: Bool { family == 0 }

  /// Parses `127.0.0.1:6800`, `[::1]:6800`, `v2:127.0.0.1:6800`, or `host:port` with an IP.
  public init(parsing text: String, nonce: UInt32 = 0) throws(AddressError) {
    var body = Substring(text)
    if body.hasPrefix("v2:") { body = body.dropFirst(3) }
    let host: Substring
    let portText: Substring
    if body.hasPrefix("[") {
      guard let close = body.firstIndex(of: "]"),
        body.index(after: close) < body.endIndex, body[body.index(after: close)] == ":"
      else { throw .malformed(text) }
      host = body[body.index(after: body.startIndex)..<close]
      portText = body[body.index(close, offsetBy: 2)...]
    } else {
      guard let colon = body.lastIndex(of: ":"), !body[..<colon].contains(":") else {
        throw .malformed(text)
      }
      host = body[..<colon]
      portText = body[body.index(after: colon)...]
    }
    guard let port = UInt16(portText) else { throw .badPort(text) }
    let socketAddress: SocketAddress
    do {
      socketAddress = try SocketAddress(ipAddress: String(host), port: Int(port))
    } catch {
      throw .malformed(text)
    }
    self.init(socketAddress, nonce: nonce)
  }

  public init(_ address: SocketAddress, type: AddrType = .msgr2, nonce: UInt32 = 0) {
    switch address {
    case .v4(let a):
      var raw = a.address.sin_addr.s_addr  // network order already
      let ip = withUnsafeBytes(of: &raw) { Array($0) }
      self.init(
        type: type, nonce: nonce, family: EntityAddr.familyIPv4, port: UInt16(address.port ?? 0),
        ip: ip)
    case .v6(let a):
      var raw = a.address.sin6_addr
      let ip = withUnsafeBytes(of: &raw) { Array($0) }
      self.init(
        type: type, nonce: nonce, family: EntityAddr.familyIPv6, port: UInt16(address.port ?? 0),
        ip: ip)
    default:
      self = .blank
    }
  }

  /// The address as NIO needs it to connect or bind.
  public func socketAddress() throws(AddressError) -> SocketAddress {
    do {
      return try SocketAddress(ipAddress: ipString, port: Int(port))
    } catch {
      throw .malformed(description)
    }
  }

  public var ipString: String {
    switch family {
    case EntityAddr.familyIPv4 where ip.count == 4:
      return ip.map(String.init).joined(separator: ".")
    case EntityAddr.familyIPv6 where ip.count == 16:
      return stride(from: 0, to: 16, by: 2).map {
        String(UInt16(ip[$0]) << 8 | UInt16(ip[$0 + 1]), radix: 16)
      }.joined(separator: ":")
    default:
      return "-"
    }
  }

  /// `127.0.0.1:6800/1234` (the nonce after the slash, as Ceph prints it).
  public var description: String {
    if isBlank { return "-" }
    let host = family == EntityAddr.familyIPv6 ? "[\(ipString)]" : ipString
    return "\(host):\(port)/\(nonce)"
  }

  /// `host:port` without the nonce.
  public var hostPort: String {
    family == EntityAddr.familyIPv6 ? "[\(ipString)]:\(port)" : "\(ipString):\(port)"
  }

  public func withNonce(_ nonce: UInt32) -> EntityAddr {
    var copy = self
    copy.nonce = nonce
    return copy
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeInteger(UInt8(1))
    buffer.writeVersioned(version: 1, compat: 1) { b in
      b.writeLE(type.rawValue)
      b.writeLE(nonce)
      if isBlank {
        b.writeLE(UInt32(0))
        return
      }
      let length = family == EntityAddr.familyIPv6 ? 28 : 16
      b.writeLE(UInt32(length))
      b.writeLE(family)
      b.writeInteger(port, endianness: .big)
      if family == EntityAddr.familyIPv6 {
        b.writeLE(UInt32(0))  // flowinfo
        b.writeBytes(ip)
        b.writeLE(UInt32(0))  // scope id
      } else {
        b.writeBytes(ip)
        b.writeRepeatingByte(0, count: 8)
      }
    }
  }

  public init(from buffer: inout ByteBuffer) throws {
    let marker: UInt8 = try buffer.readLE(UInt8.self, "entity_addr marker")
    guard marker == 1 else {
      throw DecodeError.invalid(field: "entity_addr marker", reason: "\(marker), expected 1")
    }
    self = try buffer.readVersioned("entity_addr_t", supported: 1, limit: 256) { b, _ in
      let rawType: UInt32 = try b.readLE(UInt32.self, "entity_addr type")
      guard let type = AddrType(rawValue: rawType) else {
        throw DecodeError.invalid(field: "entity_addr type", reason: "\(rawType)")
      }
      let nonce: UInt32 = try b.readLE(UInt32.self, "entity_addr nonce")
      let length = try b.readLength(limit: 128, "sockaddr")
      if length == 0 { return EntityAddr(type: type, nonce: nonce, family: 0, port: 0, ip: []) }
      var sockaddr = try b.readSliceChecked(length, "sockaddr")
      let family: UInt16 = try sockaddr.readLE(UInt16.self, "sockaddr family")
      guard let port = sockaddr.readInteger(endianness: .big, as: UInt16.self) else {
        throw DecodeError.truncated(field: "sockaddr port", needed: 2, available: 0)
      }
      switch (family, length) {
      case (EntityAddr.familyIPv4, 16):
        let ip = sockaddr.readBytes(length: 4)!
        return EntityAddr(type: type, nonce: nonce, family: family, port: port, ip: ip)
      case (EntityAddr.familyIPv6, 28):
        sockaddr.moveReaderIndex(forwardBy: 4)
        let ip = sockaddr.readBytes(length: 16)!
        return EntityAddr(type: type, nonce: nonce, family: family, port: port, ip: ip)
      default:
        throw DecodeError.invalid(field: "sockaddr", reason: "family \(family) length \(length)")
      }
    }
  }
}

/// `entity_addrvec_t`: `u8 2`, `le32 count`, then each address.
public struct EntityAddrVec: Hashable, Sendable {
  public var addrs: [EntityAddr]

  public init(_ addrs: [EntityAddr]) { self.addrs = addrs }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeInteger(UInt8(2))
    buffer.writeArray(addrs) { b, a in a.encode(to: &b) }
  }

  public init(from buffer: inout ByteBuffer) throws {
    let marker: UInt8 = try buffer.readLE(UInt8.self, "entity_addrvec marker")
    guard marker == 2 else {
      throw DecodeError.invalid(field: "entity_addrvec marker", reason: "\(marker), expected 2")
    }
    addrs = try buffer.readArray(limit: 16, minimumElementSize: 10, "entity_addrvec") {
      try EntityAddr(from: &$0)
    }
  }
}

public enum AddressError: Error, Equatable, CustomStringConvertible {
  case malformed(String)
  case badPort(String)

  public var description: String {
    switch self {
    case .malformed(let text): return "invalid address '\(text)': expected IP:PORT"
    case .badPort(let text): return "invalid port in '\(text)': expected 0...65535"
    }
  }
}
