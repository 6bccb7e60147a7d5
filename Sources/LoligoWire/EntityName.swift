import LoligoCore
import NIOCore

/// Kinds of entity, with Ceph's `CEPH_ENTITY_TYPE_*` values (sent in HELLO).
public enum EntityType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
  case mon = 0x01
  case mds = 0x02
  case osd = 0x04
  case client = 0x08
  case mgr = 0x10

  public var description: String {
    switch self {
    case .mon: return "mon"
    case .mds: return "mds"
    case .osd: return "osd"
    case .client: return "client"
    case .mgr: return "mgr"
    }
  }

  public init?(name: String) {
    guard let match = EntityType.allCases.first(where: { $0.description == name }) else {
      return nil
    }
    self = match
  }
}

/// `entity_name_t`: a type and a number, printed `osd.3`, `client.4121`.
public struct EntityName: Hashable, Sendable, CustomStringConvertible {
  public var type: EntityType
  public var num: Int64

  public init(_ type: EntityType, _ num: Int64) {
    self.type = type
    self.num = num
  }

  public var description: String { "\(type).\(num)" }

  /// Parses `osd.3`.
  public init?(parsing text: String) {
    guard let dot = text.firstIndex(of: "."),
      let type = EntityType(name: String(text[..<dot])),
      let num = Int64(text[text.index(after: dot)...])
    else { return nil }
    self.init(type, num)
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeInteger(type.rawValue)
    buffer.writeLE(num)
  }

  public init(from buffer: inout ByteBuffer) throws {
    let raw: UInt8 = try buffer.readLE(UInt8.self, "entity type")
    guard let type = EntityType(rawValue: raw) else {
      throw DecodeError.invalid(field: "entity type", reason: "unknown value \(raw)")
    }
    self.init(type, try buffer.readLE(Int64.self, "entity num"))
  }
}
