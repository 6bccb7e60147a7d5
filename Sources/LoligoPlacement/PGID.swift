/// A placement group: a pool and a seed ("ps", the object hash folded to the pool's pg_num).
/// Printed like Ceph, pool in decimal and seed in lowercase hex: `1.2a`.
public struct PGID: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var pool: Int64
  public var seed: UInt32

  public init(pool: Int64, seed: UInt32) {
    self.pool = pool
    self.seed = seed
  }

  /// Parses `POOL.HEXSEED` (`1.2a`); nil if malformed.
  public init?(_ text: some StringProtocol) {
    guard let dot = text.firstIndex(of: "."),
      let pool = Int64(text[..<dot]),
      case let hex = text[text.index(after: dot)...], !hex.isEmpty, hex.count <= 8,
      let seed = UInt32(hex, radix: 16)
    else { return nil }
    self.init(pool: pool, seed: seed)
  }

  public var description: String { "\(pool).\(String(seed, radix: 16))" }

  public static func < (lhs: PGID, rhs: PGID) -> Bool {
    (lhs.pool, lhs.seed) < (rhs.pool, rhs.seed)
  }
}
