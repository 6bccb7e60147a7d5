/// A CRUSH map: devices, typed buckets forming a hierarchy, placement rules and the tunables
/// that steer the mapper. This is the editable model; `CrushMapper` compiles it for fast,
/// allocation-free placement. Ids follow Ceph: devices are `0...`, buckets `-1, -2, ...`
/// (bucket `id` sits at index `-1 - id` of `buckets`), rules are `0...`.
public struct CrushMap: Sendable, Equatable {
  public var tunables: CrushTunables
  /// Index `-1 - id`. Gaps are nil; the count is Ceph's `max_buckets` (it grows by doubling).
  public private(set) var buckets: [CrushBucket?]
  /// Index = rule id; the count is Ceph's `max_rules`.
  public private(set) var rules: [CrushRule?]
  /// One more than the highest device id in any bucket or device name (`max_devices`).
  public private(set) var maxDevices: Int32
  /// Type id -> name (`type 1 host`). Type 0 is the device type.
  public var typeNames: [Int32: String]
  /// Item id -> name, for devices and buckets (`osd.3`, `host1`, shadow `host1~ssd`).
  public var itemNames: [Int32: String]
  /// Item id -> device class id, for devices and per-class shadow buckets.
  public var itemClasses: [Int32: Int32]
  /// Class id -> class name (`hdd`, `ssd`).
  public var classNames: [Int32: String]
  /// Bucket id -> (class id -> shadow bucket id): where `take BUCKET class C` starts.
  public var classBuckets: [Int32: [Int32: Int32]]
  /// Weight sets keyed by choose_args index (pool id, or -1 for the compat set).
  public var chooseArgs: [Int64: CrushChooseArgMap]

  /// An empty map. Text maps start from legacy tunables, built maps from the default profile.
  public init(tunables: CrushTunables = .default) {
    self.tunables = tunables
    self.buckets = []
    self.rules = []
    self.maxDevices = 0
    self.typeNames = [:]
    self.itemNames = [:]
    self.itemClasses = [:]
    self.classNames = [:]
    self.classBuckets = [:]
    self.chooseArgs = [:]
  }

  /// The largest rule id a map may hold (Ceph stores rule ids in 8 bits).
  public static let maximumRules = 256
  /// Bound on bucket ids accepted from text or binary input (Ceph has no explicit limit; this
  /// keeps a hostile `id -2000000000` from allocating gigabytes).
  public static let maximumBuckets = 1 << 20
  /// Bound on device ids accepted from input.
  public static let maximumDevices: Int32 = 1 << 24

  public enum EditError: Error, Equatable, Sendable {
    case bucketExists(Int32)
    case invalidBucketID(Int32)
    case ruleExists(Int)
    case invalidRuleID(Int)
  }

  // MARK: lookups

  public var maxBuckets: Int { buckets.count }
  public var maxRules: Int { rules.count }

  public func bucket(_ id: Int32) -> CrushBucket? {
    guard id < 0 else { return nil }
    let index = Int(-1 - Int64(id))
    return index < buckets.count ? buckets[index] : nil
  }

  public func bucketExists(_ id: Int32) -> Bool { bucket(id) != nil }

  public func rule(_ id: Int) -> CrushRule? {
    id >= 0 && id < rules.count ? rules[id] : nil
  }

  /// The id of a rule by name.
  public func ruleID(named name: String) -> Int? {
    rules.indices.first { rules[$0]?.name == name }
  }

  /// The id of a device or bucket by name.
  public func itemID(named name: String) -> Int32? {
    itemNames.first { $0.value == name }?.key
  }

  public func typeID(named name: String) -> Int32? {
    typeNames.first { $0.value == name }?.key
  }

  public func classID(named name: String) -> Int32? {
    classNames.first { $0.value == name }?.key
  }

  /// Shadow buckets (`host1~ssd`) are generated per device class and never written as text.
  public func isShadow(_ id: Int32) -> Bool {
    id < 0 && (itemNames[id]?.contains("~") ?? false)
  }

  /// All existing buckets, highest id (-1) first.
  public var allBuckets: [CrushBucket] { buckets.compactMap { $0 } }

  /// True when `item` sits in some bucket (`check_item_present`): such devices get full
  /// weight by default in `crushtool --test`.
  public func isItemPresent(_ item: Int32) -> Bool {
    buckets.contains { $0?.items.contains(item) ?? false }
  }

  /// Buckets that are no bucket's item, in ascending id order (`find_roots`).
  public func roots(includingShadow: Bool = true) -> [Int32] {
    var referenced = Set<Int32>()
    for bucket in allBuckets { referenced.formUnion(bucket.items.lazy.filter { $0 < 0 }) }
    return allBuckets.map(\.id).filter {
      !referenced.contains($0) && (includingShadow || !isShadow($0))
    }.sorted()
  }

  /// The CRUSH weight of `item` in the first bucket that holds it (`get_item_weight`).
  public func itemWeight(_ item: Int32) -> UInt32? {
    for bucket in allBuckets {
      if let position = bucket.items.firstIndex(of: item) { return bucket.weight(at: position) }
    }
    return nil
  }

  /// Sorted ids of devices with names (what the text form lists under `# devices`).
  public var namedDevices: [Int32] { itemNames.keys.filter { $0 >= 0 }.sorted() }

  // MARK: editing

  /// Adds `bucket` with its own id, or with the lowest free id when that id is 0
  /// (`crush_add_bucket`). The bucket array grows by doubling, starting at 8, like Ceph's,
  /// which keeps `max_buckets` and therefore the binary encoding identical.
  @discardableResult
  public mutating func add(_ bucket: CrushBucket) throws(EditError) -> Int32 {
    var bucket = bucket
    if bucket.id == 0 {
      let free = buckets.firstIndex { $0 == nil } ?? buckets.count
      bucket.id = Int32(-1 - free)
    }
    guard bucket.id < 0, -Int64(bucket.id) <= Int64(Self.maximumBuckets) else {
      throw .invalidBucketID(bucket.id)
    }
    let index = Int(-1 - Int64(bucket.id))
    var capacity = buckets.count
    while index >= capacity { capacity = capacity == 0 ? 8 : capacity * 2 }
    if capacity > buckets.count {
      buckets.append(contentsOf: repeatElement(nil, count: capacity - buckets.count))
    }
    guard buckets[index] == nil else { throw .bucketExists(bucket.id) }
    buckets[index] = bucket
    return bucket.id
  }

  /// Replaces an existing bucket (same id).
  public mutating func replace(_ bucket: CrushBucket) {
    let index = Int(-1 - Int64(bucket.id))
    precondition(bucket.id < 0 && index < buckets.count && buckets[index] != nil)
    buckets[index] = bucket
  }

  /// Adds a rule at `id` (`crush_add_rule`): `max_rules` becomes at least `id + 1`.
  public mutating func add(_ rule: CrushRule, id: Int) throws(EditError) {
    guard id >= 0, id < Self.maximumRules else { throw .invalidRuleID(id) }
    if id >= rules.count {
      rules.append(contentsOf: repeatElement(nil, count: id + 1 - rules.count))
    }
    guard rules[id] == nil else { throw .ruleExists(id) }
    rules[id] = rule
  }

  public mutating func replaceRule(_ rule: CrushRule, id: Int) {
    precondition(id >= 0 && id < rules.count && rules[id] != nil)
    rules[id] = rule
  }

  /// Recomputes `max_devices` from bucket contents and device names (`CrushWrapper::finalize`).
  public mutating func finalize() {
    var highest: Int32 = -1
    for bucket in allBuckets {
      if let top = bucket.items.max(), top > highest { highest = top }
    }
    if let top = itemNames.keys.max(), top > highest { highest = top }
    maxDevices = highest + 1
  }

  /// Sets `max_devices` directly (binary decoding keeps the stored value before finalizing).
  mutating func setMaxDevices(_ value: Int32) { maxDevices = value }

  /// Sets the sizes of the bucket and rule arrays exactly (binary decoding).
  mutating func setStorage(buckets: [CrushBucket?], rules: [CrushRule?]) {
    self.buckets = buckets
    self.rules = rules
  }
}
