/// How a bucket picks one of its items. The raw values are Ceph's `CRUSH_BUCKET_*` numbers, which
/// appear in the binary map and in `allowed_bucket_algs` (as `1 << rawValue`).
public enum CrushBucketAlgorithm: UInt8, Sendable, CaseIterable, CustomStringConvertible {
  /// Equal weights; a hashed permutation of the items.
  case uniform = 1
  /// Walks the items from the last one back, each with probability weight/sum-so-far.
  case list = 2
  /// A binary tree of weights descended by hashed coin flips.
  case tree = 3
  /// Legacy straw: precomputed straw lengths scaled by a 16-bit draw.
  case straw = 4
  /// straw2: each item draws ln(u)/weight; the highest draw wins. Changing one item's weight only
  /// moves data to or from that item.
  case straw2 = 5

  /// The name used in the text form (`alg straw2`).
  public var description: String {
    switch self {
    case .uniform: return "uniform"
    case .list: return "list"
    case .tree: return "tree"
    case .straw: return "straw"
    case .straw2: return "straw2"
    }
  }

  public init?(name: String) {
    guard let match = Self.allCases.first(where: { $0.description == name }) else { return nil }
    self = match
  }
}
