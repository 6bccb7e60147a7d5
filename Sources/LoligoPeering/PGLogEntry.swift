import LoligoCore
import LoligoPlacement
import NIOCore

/// One logged change to one object, Ceph's `pg_log_entry_t` for a replicated pool.
public struct PGLogEntry: Sendable, Equatable {
  public enum Kind: UInt8, Sendable {
    /// The object was written (created or changed).
    case modify = 1
    /// The object was removed.
    case delete = 2
  }

  public var kind: Kind
  public var object: ObjectID
  public var version: EVersion
  /// The object's version before this change (zero: it did not exist). A divergent entry rolls
  /// the object back to it.
  public var priorVersion: EVersion
  /// Who asked for it; a resend with the same id is answered from the log.
  public var reqid: RequestID

  public init(
    kind: Kind, object: ObjectID, version: EVersion, priorVersion: EVersion, reqid: RequestID
  ) {
    self.kind = kind
    self.object = object
    self.version = version
    self.priorVersion = priorVersion
    self.reqid = reqid
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(kind.rawValue)
      ObjectIDCoding.write(object, to: &$0)
      version.encode(to: &$0)
      priorVersion.encode(to: &$0)
      reqid.encode(to: &$0)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: PGDecodeLimits) throws {
    self = try buffer.readVersioned("pg_log_entry", supported: 1, limit: limits.maxRecordBytes) {
      inner, _ in
      let raw: UInt8 = try inner.readLE(UInt8.self, "log entry kind")
      guard let kind = Kind(rawValue: raw) else {
        throw DecodeError.invalid(field: "log entry kind", reason: "\(raw)")
      }
      let object = try ObjectIDCoding.read(from: &inner, limits: limits)
      let version = try EVersion(from: &inner)
      let prior = try EVersion(from: &inner)
      guard prior < version else {
        throw DecodeError.invalid(
          field: "log entry", reason: "prior \(prior) not before \(version)")
      }
      let reqid = try RequestID(from: &inner)
      return PGLogEntry(
        kind: kind, object: object, version: version, priorVersion: prior, reqid: reqid)
    }
  }

  /// Smallest possible encoding (for bounding counts before allocating).
  static let minimumEncodedSize = 6 + 1 + 8 + 2 * EVersion.encodedSize + 16
}
