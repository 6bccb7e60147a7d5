/// Builds maps programmatically the way `crushtool --build --num_osds N LAYER...` does, so a
/// Loligo-built map is identical (ids, names, weights, rule, tunables) to Ceph's.
///
/// Each layer is `name algorithm size`: the items of the layer below (devices for the first
/// layer) are grouped `size` at a time (0: all in one bucket) into buckets of type
/// `name` named `name0, name1, ...` (just `name` when size is 0), with weights summed upward.
/// Type 0 is `osd`, devices are `osd.N` with weight 1.0, the layers get types 1, 2, ...; the
/// root is the last layer's first bucket and the rule `replicated_rule` takes it and chooses
/// one leaf per distinct bucket of type 1 (`chooseleaf firstn 0 type <first layer>`).
/// Tunables are the default (jewel) profile.
public enum CrushBuilder {
  public struct Layer: Sendable, Hashable {
    public var name: String
    public var algorithm: CrushBucketAlgorithm
    /// Items per bucket; 0 puts everything in one bucket.
    public var size: Int

    public init(name: String, algorithm: CrushBucketAlgorithm, size: Int) {
      self.name = name
      self.algorithm = algorithm
      self.size = size
    }
  }

  public enum BuildError: Error, Equatable, Sendable, CustomStringConvertible {
    case noLayers
    case invalidOSDCount(Int)
    case invalidLayer(String)
    case bucket(CrushBucket.BuildError)

    public var description: String {
      switch self {
      case .noLayers: return "must specify at least one layer"
      case .invalidOSDCount(let count): return "invalid OSD count \(count)"
      case .invalidLayer(let reason): return reason
      case .bucket(let error): return "cannot build bucket: \(error)"
      }
    }
  }

  /// Parses crushtool's layer arguments: triples `name (uniform|list|tree|straw|straw2) size`.
  public static func layers(fromArguments arguments: [String]) throws(BuildError) -> [Layer] {
    guard arguments.count % 3 == 0 else {
      throw .invalidLayer(
        "layers must be specified with 3-tuples of (name, buckettype, size); got "
          + arguments.joined(separator: " "))
    }
    var layers: [Layer] = []
    for start in stride(from: 0, to: arguments.count, by: 3) {
      let name = arguments[start]
      guard CrushTextSyntax.isName(name[...]) else {
        throw .invalidLayer("invalid layer name '\(name)'")
      }
      guard let algorithm = CrushBucketAlgorithm(name: arguments[start + 1]) else {
        throw .invalidLayer("unknown bucket type '\(arguments[start + 1])'")
      }
      guard let size = Int(arguments[start + 2]), size >= 0, size <= CrushBucket.maximumItems
      else {
        throw .invalidLayer("invalid layer size '\(arguments[start + 2])'")
      }
      layers.append(Layer(name: name, algorithm: algorithm, size: size))
    }
    return layers
  }

  public static func build(osdCount: Int, layers: [Layer]) throws(BuildError) -> CrushMap {
    guard !layers.isEmpty else { throw .noLayers }
    guard osdCount >= 0, osdCount <= Int(CrushMap.maximumDevices) else {
      throw .invalidOSDCount(osdCount)
    }
    var map = CrushMap(tunables: .default)
    var lowerItems = (0..<osdCount).map { Int32($0) }
    var lowerWeights = [UInt32](repeating: FixedPoint.one, count: osdCount)
    for device in 0..<osdCount { map.itemNames[Int32(device)] = "osd.\(device)" }
    map.typeNames[0] = "osd"
    for (offset, layer) in layers.enumerated() {
      let type = Int32(offset + 1)
      map.typeNames[type] = layer.name
      var items: [Int32] = []
      var weights: [UInt32] = []
      var position = 0
      var index = 0
      while position < lowerItems.count {
        let end = layer.size == 0 ? lowerItems.count : min(position + layer.size, lowerItems.count)
        let groupItems = Array(lowerItems[position..<end])
        let groupWeights = Array(lowerWeights[position..<end])
        position = end
        let bucket: CrushBucket
        do {
          bucket = try CrushBucket(
            id: 0, typeID: UInt16(truncatingIfNeeded: type), algorithm: layer.algorithm,
            items: groupItems, weights: groupWeights,
            strawCalcVersion: map.tunables.strawCalcVersion)
        } catch {
          throw .bucket(error)
        }
        let id: Int32
        do {
          id = try map.add(bucket)
        } catch {
          throw .invalidLayer("too many buckets")
        }
        // crushtool formats names into 20-byte C buffers, so long names are cut at 19 bytes.
        let name = layer.size == 0 ? layer.name : "\(layer.name)\(index)"
        map.itemNames[id] = String(decoding: name.utf8.prefix(19), as: UTF8.self)
        items.append(id)
        // crushtool carries the sum of the grouped weights upward, not the bucket's own total
        // (they differ for a uniform bucket whose items weigh differently).
        weights.append(groupWeights.reduce(0, &+))
        index += 1
      }
      lowerItems = items
      lowerWeights = weights
    }
    map.finalize()
    let last = layers[layers.count - 1]
    let rootName = last.size == 0 ? last.name : last.name + "0"
    guard let root = map.itemID(named: rootName) else {
      throw .invalidLayer("no bucket named '\(rootName)' to use as the root (no OSDs?)")
    }
    // The failure domain is type 1 (osd_crush_chooseleaf_type), i.e. the first layer.
    try? map.add(CrushRule.replicated(name: "replicated_rule", root: root, failureDomain: 1), id: 0)
    return map
  }
}
