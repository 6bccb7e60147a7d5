/// Per-bucket overrides used by straw2 in place of the map's own weights and ids ("weight
/// sets", Ceph's `choose_args`). A map may hold several sets keyed by pool id; the set `-1` is
/// the compat set used when a pool has none of its own.
public struct CrushChooseArg: Sendable, Hashable {
  /// One weight vector per replica position; position p uses `weightSet[min(p, count - 1)]`.
  /// Each vector has one weight per bucket item. Empty: use the bucket's weights.
  public var weightSet: [[UInt32]]
  /// Ids hashed instead of the item ids (one per item). Empty: hash the items themselves.
  public var ids: [Int32]

  public init(weightSet: [[UInt32]] = [], ids: [Int32] = []) {
    self.weightSet = weightSet
    self.ids = ids
  }

  public var isEmpty: Bool { weightSet.isEmpty && ids.isEmpty }
}

/// All overrides of one choose_args set, keyed by bucket id.
public typealias CrushChooseArgMap = [Int32: CrushChooseArg]

extension CrushMap {
  /// `DEFAULT_CHOOSE_ARGS`: the compat weight set used for pools without their own.
  public static let defaultChooseArgsIndex: Int64 = -1
}
