/// Why bytes from a peer or a file could not be decoded. Decoders never trap on bad input:
/// every length is checked against what is left and against a named limit first.
public enum DecodeError: Error, Equatable, CustomStringConvertible {
  /// Fewer bytes remain than the field needs.
  case truncated(field: String, needed: Int, available: Int)
  /// A length or count is larger than the limit for that field.
  case oversized(field: String, length: Int, limit: Int)
  /// The struct's compat version is newer than this reader understands.
  case incompatible(structure: String, compat: UInt8, supported: UInt8)
  /// A value that cannot occur in a well-formed encoding.
  case invalid(field: String, reason: String)

  public var description: String {
    switch self {
    case .truncated(let field, let needed, let available):
      return "truncated \(field): needs \(needed) bytes, \(available) left"
    case .oversized(let field, let length, let limit):
      return "oversized \(field): \(length) exceeds limit \(limit)"
    case .incompatible(let structure, let compat, let supported):
      return "\(structure) needs decoder version \(compat), this build reads up to \(supported)"
    case .invalid(let field, let reason):
      return "invalid \(field): \(reason)"
    }
  }
}
