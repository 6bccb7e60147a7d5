extension CrushMap {
  /// Sets the CRUSH weight of `item` wherever it appears and carries the change up the
  /// hierarchy (`crushtool --reweight-item NAME W`, `ceph osd crush reweight`): each parent's
  /// entry for a changed bucket becomes that bucket's new total. Returns how many bucket entries
  /// changed (0 if the item is in no bucket).
  @discardableResult
  public mutating func reweightItem(_ item: Int32, to weight: UInt32) -> Int {
    var changed = 0
    var pending: [(item: Int32, weight: UInt32, depth: Int)] = [(item, weight, 0)]
    while let (current, newWeight, depth) = pending.popLast() {
      // A well-formed hierarchy is a DAG no deeper than its bucket count.
      guard depth <= maxBuckets else { break }
      for slot in buckets.indices {
        guard var bucket = buckets[slot], let position = bucket.items.firstIndex(of: current)
        else { continue }
        guard
          (try? bucket.setWeight(
            at: position, to: newWeight, strawCalcVersion: tunables.strawCalcVersion)) != nil
        else { continue }
        replace(bucket)
        changed += 1
        pending.append((bucket.id, bucket.weight, depth + 1))
      }
    }
    return changed
  }

  /// `(int)(w * 0x10000)` in single precision, as `crushtool --reweight-item` converts.
  public static func weight(fromFloat value: Float) -> UInt32 {
    FixedPoint.cUnsigned(Double(value * Float(65536)))
  }
}

extension CrushBucket {
  /// Changes one item's weight (`crush_bucket_adjust_item_weight`), keeping totals and derived
  /// data consistent. A uniform bucket has a single weight, so all its items change.
  mutating func setWeight(at position: Int, to newWeight: UInt32, strawCalcVersion: UInt8)
    throws(BuildError)
  {
    if algorithm == .uniform {
      // One weight for every item; Ceph allows it to become 0 here (unlike at creation).
      let total = UInt64(newWeight) * UInt64(items.count)
      guard total <= UInt64(UInt32.max) else { throw .weightOverflow }
      self = CrushBucket(
        decodedID: id, typeID: typeID, algorithm: .uniform, hash: hash, weight: UInt32(total),
        items: items, itemWeights: Array(repeating: newWeight, count: items.count), auxiliary: [])
      return
    }
    var weights = itemWeights
    weights[position] = newWeight
    let rebuilt = try CrushBucket(
      id: id, typeID: typeID, algorithm: algorithm, hash: hash, items: items, weights: weights,
      strawCalcVersion: strawCalcVersion)
    self = rebuilt
  }
}
