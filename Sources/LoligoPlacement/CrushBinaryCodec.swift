import LoligoCore
import NIOCore

/// Ceph's binary CRUSH map encoding (`CrushWrapper::encode` with the feature set Ceph 16.2
/// tools write): what `crushtool -o` writes, `crushtool -i` and `osdmaptool --import-crush`
/// read, and what an OSD map carries. Encoding a map compiled from text gives the same bytes
/// as `crushtool -c`, so maps move freely between Ceph and Loligo.
///
/// Decoding treats the bytes as untrusted: every count is checked against what is left and
/// against a limit, bucket ids must match their slots, and unknown algorithms are refused.
public enum CrushBinaryCodec {
  /// `CRUSH_MAGIC`.
  public static let magic: UInt32 = 0x0001_0000

  /// True if `bytes` start like a binary CRUSH map (so a file can be told from text).
  public static func looksBinary(_ bytes: some Collection<UInt8>) -> Bool {
    Array(bytes.prefix(4)) == [0x00, 0x00, 0x01, 0x00]
  }

  public static func encode(_ map: CrushMap, to buffer: inout ByteBuffer) {
    buffer.writeLE(magic)
    buffer.writeLE(Int32(map.maxBuckets))
    buffer.writeLE(UInt32(map.maxRules))
    buffer.writeLE(map.maxDevices)

    for slot in map.buckets {
      guard let bucket = slot else {
        buffer.writeLE(UInt32(0))
        continue
      }
      buffer.writeLE(UInt32(bucket.algorithm.rawValue))
      buffer.writeLE(bucket.id)
      buffer.writeLE(bucket.typeID)
      buffer.writeLE(bucket.algorithm.rawValue)
      buffer.writeLE(bucket.hash)
      buffer.writeLE(bucket.weight)
      buffer.writeLE(UInt32(bucket.size))
      for item in bucket.items { buffer.writeLE(item) }
      switch bucket.algorithm {
      case .uniform:
        buffer.writeLE(bucket.itemWeights.first ?? 0)
      case .list, .straw:
        for position in 0..<bucket.size {
          buffer.writeLE(bucket.itemWeights[position])
          buffer.writeLE(
            position < bucket.auxiliary.count ? bucket.auxiliary[position] : 0)
        }
      case .tree:
        // Ceph stores the node count in 8 bits.
        buffer.writeLE(UInt8(truncatingIfNeeded: bucket.auxiliary.count))
        for weight in bucket.auxiliary { buffer.writeLE(weight) }
      case .straw2:
        for weight in bucket.itemWeights { buffer.writeLE(weight) }
      }
    }

    for (id, slot) in map.rules.enumerated() {
      guard let rule = slot else {
        buffer.writeLE(UInt32(0))
        continue
      }
      buffer.writeLE(UInt32(1))
      buffer.writeLE(UInt32(rule.steps.count))
      buffer.writeLE(UInt8(truncatingIfNeeded: id))
      buffer.writeLE(rule.type)
      buffer.writeLE(rule.minSize)
      buffer.writeLE(rule.maxSize)
      for step in rule.steps {
        buffer.writeLE(step.op.rawValue)
        buffer.writeLE(step.arg1)
        buffer.writeLE(step.arg2)
      }
    }

    writeNames(map.typeNames, to: &buffer)
    writeNames(map.itemNames, to: &buffer)
    var ruleNames: [Int32: String] = [:]
    for (id, rule) in map.rules.enumerated() {
      if let name = rule?.name { ruleNames[Int32(id)] = name }
    }
    writeNames(ruleNames, to: &buffer)

    let tunables = map.tunables
    buffer.writeLE(tunables.chooseLocalTries)
    buffer.writeLE(tunables.chooseLocalFallbackTries)
    buffer.writeLE(tunables.chooseTotalTries)
    buffer.writeLE(tunables.chooseleafDescendOnce)
    buffer.writeLE(tunables.chooseleafVaryR)
    buffer.writeLE(tunables.strawCalcVersion)
    buffer.writeLE(tunables.allowedBucketAlgorithms)
    buffer.writeLE(tunables.chooseleafStable)

    buffer.writeLE(UInt32(map.itemClasses.count))
    for key in map.itemClasses.keys.sorted() {
      buffer.writeLE(key)
      buffer.writeLE(map.itemClasses[key]!)
    }
    writeNames(map.classNames, to: &buffer)
    buffer.writeLE(UInt32(map.classBuckets.count))
    for key in map.classBuckets.keys.sorted() {
      let inner = map.classBuckets[key]!
      buffer.writeLE(key)
      buffer.writeLE(UInt32(inner.count))
      for classID in inner.keys.sorted() {
        buffer.writeLE(classID)
        buffer.writeLE(inner[classID]!)
      }
    }

    buffer.writeLE(UInt32(map.chooseArgs.count))
    for index in map.chooseArgs.keys.sorted() {
      let args = map.chooseArgs[index]!
      buffer.writeLE(index)
      let used = args.filter { !$0.value.isEmpty }
      buffer.writeLE(UInt32(used.count))
      // Ceph walks bucket positions upward, i.e. bucket ids downward from -1.
      for bucketID in used.keys.sorted(by: >) {
        let arg = used[bucketID]!
        buffer.writeLE(UInt32(-1 - Int64(bucketID)))
        buffer.writeLE(UInt32(arg.weightSet.count))
        for weights in arg.weightSet {
          buffer.writeLE(UInt32(weights.count))
          for weight in weights { buffer.writeLE(weight) }
        }
        buffer.writeLE(UInt32(arg.ids.count))
        for id in arg.ids { buffer.writeLE(id) }
      }
    }
  }

  public static func encode(_ map: CrushMap) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 1024)
    encode(map, to: &buffer)
    return buffer
  }

  /// The encoding as bytes (what `crushtool -o` writes to a file).
  public static func encodedBytes(_ map: CrushMap) -> [UInt8] {
    Array(encode(map).readableBytesView)
  }

  private static func writeNames(_ names: [Int32: String], to buffer: inout ByteBuffer) {
    buffer.writeLE(UInt32(names.count))
    for key in names.keys.sorted() {
      buffer.writeLE(key)
      buffer.writeCephString(names[key]!)
    }
  }

  // MARK: decoding

  /// Decodes a whole binary map; trailing bytes are an error.
  public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> CrushMap {
    var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    let map = try decode(from: &buffer)
    guard buffer.readableBytes == 0 else {
      throw .invalid(field: "crush map", reason: "\(buffer.readableBytes) trailing bytes")
    }
    return map
  }

  /// Decodes one map from `buffer`, leaving anything after it unread.
  public static func decode(from buffer: inout ByteBuffer) throws(DecodeError) -> CrushMap {
    do {
      return try decodeUnchecked(from: &buffer)
    } catch let error as DecodeError {
      throw error
    } catch {
      throw .invalid(field: "crush map", reason: "\(error)")
    }
  }

  private static func decodeUnchecked(from buffer: inout ByteBuffer) throws -> CrushMap {
    let magicValue: UInt32 = try buffer.readLE(UInt32.self, "crush magic")
    guard magicValue == magic else {
      throw DecodeError.invalid(field: "crush magic", reason: "0x\(String(magicValue, radix: 16))")
    }
    let maxBuckets = Int(try buffer.readLE(Int32.self, "max_buckets"))
    let maxRules = Int(try buffer.readLE(UInt32.self, "max_rules"))
    let maxDevices = try buffer.readLE(Int32.self, "max_devices")
    guard maxBuckets >= 0, maxBuckets <= CrushMap.maximumBuckets else {
      throw DecodeError.oversized(
        field: "max_buckets", length: maxBuckets, limit: CrushMap.maximumBuckets)
    }
    guard maxRules <= CrushMap.maximumRules else {
      throw DecodeError.oversized(
        field: "max_rules", length: maxRules, limit: CrushMap.maximumRules)
    }
    guard maxDevices >= 0, maxDevices <= CrushMap.maximumDevices else {
      throw DecodeError.invalid(field: "max_devices", reason: "\(maxDevices)")
    }
    // Each empty slot still takes 4 bytes, so the counts are bounded by the input size too.
    guard maxBuckets * 4 <= buffer.readableBytes else {
      throw DecodeError.truncated(
        field: "buckets", needed: maxBuckets * 4, available: buffer.readableBytes)
    }

    var map = CrushMap(tunables: .legacy)
    var buckets: [CrushBucket?] = []
    buckets.reserveCapacity(maxBuckets)
    for index in 0..<maxBuckets {
      buckets.append(try decodeBucket(from: &buffer, index: index))
    }

    var rules: [CrushRule?] = []
    for index in 0..<maxRules {
      let present: UInt32 = try buffer.readLE(UInt32.self, "rule present")
      guard present != 0 else {
        rules.append(nil)
        continue
      }
      let length = try buffer.readCount(limit: 1 << 16, minimumElementSize: 12, "rule length")
      let ruleset: UInt8 = try buffer.readLE(UInt8.self, "ruleset")
      guard Int(ruleset) == index else {
        throw DecodeError.invalid(field: "rule \(index)", reason: "ruleset \(ruleset) != rule id")
      }
      let type: UInt8 = try buffer.readLE(UInt8.self, "rule type")
      let minSize: UInt8 = try buffer.readLE(UInt8.self, "rule min_size")
      let maxSize: UInt8 = try buffer.readLE(UInt8.self, "rule max_size")
      var steps: [CrushRuleStep] = []
      for _ in 0..<length {
        let opcode: UInt32 = try buffer.readLE(UInt32.self, "step op")
        let arg1: Int32 = try buffer.readLE(Int32.self, "step arg1")
        let arg2: Int32 = try buffer.readLE(Int32.self, "step arg2")
        guard let op = CrushRuleOp(rawValue: opcode) else {
          throw DecodeError.invalid(field: "rule \(index) step", reason: "unknown op \(opcode)")
        }
        steps.append(CrushRuleStep(op, arg1, arg2))
      }
      rules.append(
        CrushRule(name: nil, type: type, minSize: minSize, maxSize: maxSize, steps: steps))
    }

    map.typeNames = try readNames(from: &buffer, "type names")
    map.itemNames = try readNames(from: &buffer, "item names")
    let ruleNames = try readNames(from: &buffer, "rule names")
    for (id, name) in ruleNames where id >= 0 && Int(id) < rules.count {
      rules[Int(id)]?.name = name
    }
    map.setStorage(buckets: buckets, rules: rules)

    var tunables = CrushTunables.legacy
    if buffer.readableBytes > 0 {
      tunables.chooseLocalTries = try buffer.readLE(UInt32.self, "choose_local_tries")
      tunables.chooseLocalFallbackTries = try buffer.readLE(
        UInt32.self, "choose_local_fallback_tries")
      tunables.chooseTotalTries = try buffer.readLE(UInt32.self, "choose_total_tries")
    }
    if buffer.readableBytes > 0 {
      tunables.chooseleafDescendOnce = try buffer.readLE(UInt32.self, "chooseleaf_descend_once")
    }
    if buffer.readableBytes > 0 {
      tunables.chooseleafVaryR = try buffer.readLE(UInt8.self, "chooseleaf_vary_r")
    }
    if buffer.readableBytes > 0 {
      tunables.strawCalcVersion = try buffer.readLE(UInt8.self, "straw_calc_version")
    }
    if buffer.readableBytes > 0 {
      tunables.allowedBucketAlgorithms = try buffer.readLE(UInt32.self, "allowed_bucket_algs")
    }
    if buffer.readableBytes > 0 {
      tunables.chooseleafStable = try buffer.readLE(UInt8.self, "chooseleaf_stable")
    }
    map.tunables = tunables

    if buffer.readableBytes > 0 {
      let classCount = try buffer.readCount(
        limit: 1 << 24, minimumElementSize: 8, "class map count")
      for _ in 0..<classCount {
        let item: Int32 = try buffer.readLE(Int32.self, "class map item")
        map.itemClasses[item] = try buffer.readLE(Int32.self, "class map class")
      }
      map.classNames = try readNames(from: &buffer, "class names")
      let shadowCount = try buffer.readCount(
        limit: 1 << 20, minimumElementSize: 8, "class bucket count")
      for _ in 0..<shadowCount {
        let bucketID: Int32 = try buffer.readLE(Int32.self, "class bucket id")
        let inner = try buffer.readCount(limit: 1 << 16, minimumElementSize: 8, "class count")
        var classes: [Int32: Int32] = [:]
        for _ in 0..<inner {
          let classID: Int32 = try buffer.readLE(Int32.self, "class id")
          classes[classID] = try buffer.readLE(Int32.self, "shadow id")
        }
        map.classBuckets[bucketID] = classes
      }
    }
    if buffer.readableBytes > 0 {
      let setCount = try buffer.readCount(limit: 1 << 16, minimumElementSize: 12, "choose_args")
      for _ in 0..<setCount {
        let index: Int64 = try buffer.readLE(Int64.self, "choose_args index")
        let entries = try buffer.readCount(
          limit: maxBuckets, minimumElementSize: 12, "choose_args entries")
        var args: CrushChooseArgMap = [:]
        for _ in 0..<entries {
          let position = Int(try buffer.readLE(UInt32.self, "choose_args bucket"))
          guard position < maxBuckets, let bucket = buckets[position] else {
            throw DecodeError.invalid(
              field: "choose_args", reason: "no bucket at position \(position)")
          }
          let positions = try buffer.readCount(
            limit: 1 << 10, minimumElementSize: 4, "weight_set positions")
          var weightSet: [[UInt32]] = []
          for _ in 0..<positions {
            let size = try buffer.readCount(
              limit: CrushBucket.maximumItems, minimumElementSize: 4, "weight_set size")
            var weights: [UInt32] = []
            weights.reserveCapacity(size)
            for _ in 0..<size { weights.append(try buffer.readLE(UInt32.self, "weight")) }
            weightSet.append(weights)
          }
          let idCount = try buffer.readCount(
            limit: CrushBucket.maximumItems, minimumElementSize: 4, "choose_args ids")
          guard idCount == 0 || idCount == bucket.size else {
            throw DecodeError.invalid(
              field: "choose_args ids", reason: "\(idCount) ids for \(bucket.size) items")
          }
          var ids: [Int32] = []
          for _ in 0..<idCount { ids.append(try buffer.readLE(Int32.self, "choose_args id")) }
          args[bucket.id] = CrushChooseArg(weightSet: weightSet, ids: ids)
        }
        map.chooseArgs[index] = args
      }
    }
    // Later encodings (Ceph 17+) append msr tunables; they do not affect these rules.
    if buffer.readableBytes >= 8 {
      _ = try buffer.readLE(UInt32.self, "msr_descents")
      _ = try buffer.readLE(UInt32.self, "msr_collision_tries")
    }
    map.setMaxDevices(maxDevices)
    map.finalize()
    return map
  }

  private static func decodeBucket(from buffer: inout ByteBuffer, index: Int) throws
    -> CrushBucket?
  {
    let leading: UInt32 = try buffer.readLE(UInt32.self, "bucket alg")
    guard leading != 0 else { return nil }
    guard leading <= 0xff, let algorithm = CrushBucketAlgorithm(rawValue: UInt8(leading)) else {
      throw DecodeError.invalid(
        field: "bucket \(index)", reason: "unsupported algorithm \(leading)")
    }
    let id: Int32 = try buffer.readLE(Int32.self, "bucket id")
    guard Int64(id) == -1 - Int64(index) else {
      throw DecodeError.invalid(field: "bucket \(index)", reason: "id \(id) in slot \(index)")
    }
    let type: UInt16 = try buffer.readLE(UInt16.self, "bucket type")
    let storedAlgorithm: UInt8 = try buffer.readLE(UInt8.self, "bucket alg")
    guard storedAlgorithm == algorithm.rawValue else {
      throw DecodeError.invalid(field: "bucket \(id)", reason: "algorithm mismatch")
    }
    let hash: UInt8 = try buffer.readLE(UInt8.self, "bucket hash")
    let weight: UInt32 = try buffer.readLE(UInt32.self, "bucket weight")
    let size = try buffer.readCount(
      limit: CrushBucket.maximumItems, minimumElementSize: 4, "bucket size")
    var items: [Int32] = []
    items.reserveCapacity(size)
    for _ in 0..<size {
      let item: Int32 = try buffer.readLE(Int32.self, "bucket item")
      guard item < CrushMap.maximumDevices else {
        throw DecodeError.invalid(field: "bucket \(id) item", reason: "device id \(item)")
      }
      items.append(item)
    }
    var itemWeights: [UInt32] = []
    var auxiliary: [UInt32] = []
    switch algorithm {
    case .uniform:
      let common: UInt32 = try buffer.readLE(UInt32.self, "uniform item weight")
      itemWeights = Array(repeating: common, count: size)
    case .list, .straw:
      for _ in 0..<size {
        itemWeights.append(try buffer.readLE(UInt32.self, "item weight"))
        auxiliary.append(try buffer.readLE(UInt32.self, algorithm == .list ? "sum" : "straw"))
      }
    case .tree:
      let nodes = Int(try buffer.readLE(UInt8.self, "tree node count"))
      for _ in 0..<nodes { auxiliary.append(try buffer.readLE(UInt32.self, "node weight")) }
      guard nodes == (size == 0 ? 0 : 1 << TreeBucket.depth(forSize: size)) else {
        throw DecodeError.invalid(
          field: "tree bucket \(id)", reason: "\(nodes) nodes for \(size) items")
      }
      itemWeights = (0..<size).map { auxiliary[TreeBucket.node(forLeaf: $0)] }
    case .straw2:
      for _ in 0..<size { itemWeights.append(try buffer.readLE(UInt32.self, "item weight")) }
    }
    return CrushBucket(
      decodedID: id, typeID: type, algorithm: algorithm, hash: hash, weight: weight,
      items: items, itemWeights: itemWeights, auxiliary: auxiliary)
  }

  /// A `map<int32, string>`, tolerating the old encoding with 64-bit keys (a zero length means
  /// the key had four more bytes), as Ceph does.
  private static func readNames(from buffer: inout ByteBuffer, _ field: String) throws
    -> [Int32: String]
  {
    let count = try buffer.readCount(limit: 1 << 24, minimumElementSize: 8, field)
    var names: [Int32: String] = [:]
    for _ in 0..<count {
      let key: Int32 = try buffer.readLE(Int32.self, field)
      var length = Int(try buffer.readLE(UInt32.self, field))
      if length == 0 { length = Int(try buffer.readLE(UInt32.self, field)) }
      guard length <= 4096, length <= buffer.readableBytes else {
        throw DecodeError.oversized(field: field, length: length, limit: 4096)
      }
      guard let name = buffer.readString(length: length) else {
        throw DecodeError.truncated(field: field, needed: length, available: buffer.readableBytes)
      }
      names[key] = name
    }
    return names
  }
}
