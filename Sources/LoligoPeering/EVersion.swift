import LoligoCore
import LoligoPlacement
import NIOCore

/// A PG log position, Ceph's `eversion_t`: the map epoch in which the primary assigned it and a
/// version that counts up by one per logged write for the whole life of the PG (a new primary
/// continues from the authoritative log's head). Two primaries never share an epoch for one PG,
/// so an `EVersion` names one log entry everywhere.
public struct EVersion: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var epoch: UInt32
  public var version: UInt64

  public init(epoch: UInt32, version: UInt64) {
    self.epoch = epoch
    self.version = version
  }

  public static let zero = EVersion(epoch: 0, version: 0)

  public var isZero: Bool { epoch == 0 && version == 0 }

  public static func < (a: EVersion, b: EVersion) -> Bool {
    (a.epoch, a.version) < (b.epoch, b.version)
  }

  /// `12'345`, Ceph's spelling.
  public var description: String { "\(epoch)'\(version)" }

  /// A key that sorts as the version does (for the log's keys in the store).
  public var sortKey: String {
    // Fixed-width decimal digits written straight into the UTF-8 bytes (one allocation).
    String(unsafeUninitializedCapacity: 31) { bytes in
      var e = epoch
      for index in stride(from: 9, through: 0, by: -1) {
        bytes[index] = UInt8(ascii: "0") + UInt8(e % 10)
        e /= 10
      }
      bytes[10] = UInt8(ascii: ".")
      var v = version
      for index in stride(from: 30, through: 11, by: -1) {
        bytes[index] = UInt8(ascii: "0") + UInt8(v % 10)
        v /= 10
      }
      return 31
    }
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeLE(epoch)
    buffer.writeLE(version)
  }

  public init(from buffer: inout ByteBuffer) throws {
    epoch = try buffer.readLE(UInt32.self, "eversion epoch")
    version = try buffer.readLE(UInt64.self, "eversion version")
  }

  public static let encodedSize = 12
}

/// A client request's identity, Ceph's `osd_reqid_t`: the client's entity number and its tid.
/// A resent request carries the same one, so the PG log answers it instead of applying it twice.
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
  public var client: Int64
  public var tid: UInt64

  public init(client: Int64, tid: UInt64) {
    self.client = client
    self.tid = tid
  }

  public var description: String { "client.\(client):\(tid)" }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeLE(client)
    buffer.writeLE(tid)
  }

  public init(from buffer: inout ByteBuffer) throws {
    client = try buffer.readLE(Int64.self, "reqid client")
    tid = try buffer.readLE(UInt64.self, "reqid tid")
  }
}

/// Encoding of `ObjectID` for PG messages and records.
enum ObjectIDCoding {
  static func write(_ object: ObjectID, to buffer: inout ByteBuffer) {
    buffer.writeCephString(object.name)
    buffer.writeCephString(object.namespace)
  }

  static func read(from buffer: inout ByteBuffer, limits: PGDecodeLimits) throws -> ObjectID {
    let name = try buffer.readCephString(limit: limits.maxNameBytes, "object name")
    let namespace = try buffer.readCephString(limit: limits.maxNameBytes, "object namespace")
    return ObjectID(name, namespace: namespace)
  }
}
