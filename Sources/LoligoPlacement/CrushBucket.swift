/// One interior node of the CRUSH hierarchy: a typed bucket (host, rack, root, ...) holding
/// devices (ids >= 0) and other buckets (ids < 0), each with a 16.16 fixed-point weight.
///
/// The weight a parent bucket uses for a child is the one stored in the parent's item list,
/// not the child's own total: a hand-edited map may make them differ and Ceph honours the
/// parent's number. `weight` is the bucket's own total as Ceph keeps it (the sum of its item
/// weights, or size times the common weight for uniform buckets).
public struct CrushBucket: Sendable, Hashable {
  public var id: Int32
  /// Index into the map's type names (`type 1 host`). 16 bits in Ceph's encoding.
  public var typeID: UInt16
  public private(set) var algorithm: CrushBucketAlgorithm
  /// Hash function id; 0 is rjenkins1. Ceph hashes every other value to 0 and so do we.
  public var hash: UInt8
  public private(set) var weight: UInt32
  public private(set) var items: [Int32]
  /// Per-item weights (16.16). For uniform buckets every entry is the bucket's item weight.
  public private(set) var itemWeights: [UInt32]
  /// list: running sums of item weights; tree: node weights (index = node label);
  /// straw: straw lengths. Empty for uniform and straw2.
  public private(set) var auxiliary: [UInt32]

  /// Why a bucket could not be built.
  public enum BuildError: Error, Equatable, Sendable {
    case weightOverflow
    case uniformWeightsDiffer(expected: UInt32, found: UInt32)
    /// Ceph cannot build a non-empty uniform bucket whose items weigh nothing.
    case uniformZeroWeight
    case tooManyItems(Int)
  }

  /// The most items a bucket may hold; bounds every loop that walks a bucket.
  public static let maximumItems = 1 << 20

  /// Builds a bucket the way Ceph's `crush_make_bucket` does, computing the derived data of
  /// list, tree and straw buckets. `strawCalcVersion` only matters for `.straw`. A uniform
  /// bucket takes its single item weight from the first item.
  public init(
    id: Int32, typeID: UInt16, algorithm: CrushBucketAlgorithm, hash: UInt8 = CrushHash.rjenkins1,
    items: [Int32], weights: [UInt32], strawCalcVersion: UInt8 = 1
  ) throws(BuildError) {
    precondition(items.count == weights.count, "one weight per item")
    guard items.count <= Self.maximumItems else { throw .tooManyItems(items.count) }
    self.id = id
    self.typeID = typeID
    self.algorithm = algorithm
    self.hash = hash
    self.items = items
    self.auxiliary = []
    switch algorithm {
    case .uniform:
      // Like crush_make_bucket, the first weight is the bucket's single item weight; the
      // others are ignored (the text compiler rejects differing weights before this).
      let common = weights.first ?? 0
      if common == 0 && !items.isEmpty { throw .uniformZeroWeight }
      let total = UInt64(common) * UInt64(items.count)
      guard total <= UInt64(UInt32.max) else { throw .weightOverflow }
      self.itemWeights = Array(repeating: common, count: items.count)
      self.weight = UInt32(total)
    case .list, .straw, .straw2, .tree:
      var total: UInt32 = 0
      var sums: [UInt32] = []
      for itemWeight in weights {
        let (sum, overflow) = total.addingReportingOverflow(itemWeight)
        guard !overflow else { throw .weightOverflow }
        total = sum
        if algorithm == .list { sums.append(total) }
      }
      self.itemWeights = weights
      self.weight = total
      switch algorithm {
      case .list: auxiliary = sums
      case .tree: auxiliary = TreeBucket.nodeWeights(for: weights)
      case .straw: auxiliary = StrawBucket.straws(for: weights, version: strawCalcVersion)
      default: break
      }
    }
  }

  /// A bucket exactly as stored in a binary map (no recomputation): `auxiliary` is the list
  /// sums, tree node weights or straws read from the encoding.
  public init(
    decodedID id: Int32, typeID: UInt16, algorithm: CrushBucketAlgorithm, hash: UInt8,
    weight: UInt32, items: [Int32], itemWeights: [UInt32], auxiliary: [UInt32]
  ) {
    self.id = id
    self.typeID = typeID
    self.algorithm = algorithm
    self.hash = hash
    self.weight = weight
    self.items = items
    self.itemWeights = itemWeights
    self.auxiliary = auxiliary
  }

  public var size: Int { items.count }

  /// The weight this bucket gives its item at `position` (what the text form prints).
  public func weight(at position: Int) -> UInt32 {
    switch algorithm {
    case .tree:
      let node = TreeBucket.node(forLeaf: position)
      return node < auxiliary.count ? auxiliary[node] : 0
    default:
      return itemWeights[position]
    }
  }

  /// Appends an item the way `crush_bucket_add_item` does (used when cloning per-class shadow
  /// trees).
  public mutating func append(item: Int32, weight itemWeight: UInt32, strawCalcVersion: UInt8)
    throws(BuildError)
  {
    guard items.count < Self.maximumItems else { throw .tooManyItems(items.count + 1) }
    let (total, overflow) = weight.addingReportingOverflow(itemWeight)
    guard !overflow else { throw .weightOverflow }
    if algorithm == .uniform {
      // Ceph refuses an item whose weight differs from the bucket's single item weight, and
      // an empty uniform bucket's item weight is 0.
      let common = itemWeights.first ?? 0
      guard itemWeight == common else {
        throw .uniformWeightsDiffer(expected: common, found: itemWeight)
      }
    }
    items.append(item)
    switch algorithm {
    case .uniform:
      itemWeights.append(itemWeight)
    case .list:
      itemWeights.append(itemWeight)
      auxiliary.append(total)
    case .tree:
      itemWeights.append(itemWeight)
      auxiliary = TreeBucket.nodeWeights(for: itemWeights)
    case .straw:
      itemWeights.append(itemWeight)
      auxiliary = StrawBucket.straws(for: itemWeights, version: strawCalcVersion)
    case .straw2:
      itemWeights.append(itemWeight)
    }
    weight = total
  }
}
