import LoligoCore
import NIOCore

/// The 26-byte msgr2 banner both peers send as soon as the connection opens:
/// `"ceph v2\n"`, `le16 16`, `le64 supported features`, `le64 required features`.
public struct Banner: Sendable, Equatable {
  public static let prefix: [UInt8] = Array("ceph v2\n".utf8)
  public static let msgr1Prefix: [UInt8] = Array("ceph v027".utf8)
  public static let size = 26

  /// msgr2.1: segment 1 crc inline, short epilogue, late status code words.
  public static let featureRevision1: UInt64 = 1 << 0
  public static let featureCompression: UInt64 = 1 << 1

  public var supported: UInt64
  public var required: UInt64

  /// What Loligo sends: it speaks msgr2.1 only, so it requires it.
  public static let loligo = Banner(supported: featureRevision1, required: featureRevision1)

  public init(supported: UInt64, required: UInt64) {
    self.supported = supported
    self.required = required
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeBytes(Banner.prefix)
    buffer.writeLE(UInt16(16))
    buffer.writeLE(supported)
    buffer.writeLE(required)
  }

  /// Decodes a peer's banner from exactly 26 bytes (the caller waits for them).
  public static func decode(_ buffer: inout ByteBuffer) throws(FrameError) -> Banner {
    guard let head = buffer.readBytes(length: 8) else { throw .badBanner("truncated banner") }
    if head == prefix {
      guard let length = buffer.readInteger(endianness: .little, as: UInt16.self),
        let supported = buffer.readInteger(endianness: .little, as: UInt64.self),
        let required = buffer.readInteger(endianness: .little, as: UInt64.self)
      else { throw .badBanner("truncated banner") }
      guard length == 16 else { throw .badBanner("banner payload length \(length), expected 16") }
      return Banner(supported: supported, required: required)
    }
    if head == Array(msgr1Prefix.prefix(8)) {
      throw .badBanner("peer speaks msgr v1")
    }
    throw .badBanner("not a msgr2 banner")
  }

  /// Checks both directions of feature requirements.
  public func negotiate(with peer: Banner) throws(FrameError) {
    let peerMissing = required & ~peer.supported
    if peerMissing != 0 {
      throw .badBanner("peer lacks required features 0x" + String(peerMissing, radix: 16))
    }
    let weMissing = peer.required & ~supported
    if weMissing != 0 {
      throw .badBanner("peer requires unsupported features 0x" + String(weMissing, radix: 16))
    }
  }
}
