/// tree selection: items are the odd-labelled leaves of an implicit binary tree whose interior
/// nodes hold the weight below them; a hashed coin weighted by the left subtree decides each
/// step down. Node labels: leaf i is `2i + 1`, the root is `numNodes / 2`.
enum TreeBucket {
  /// Label of the leaf holding item `index`.
  static func node(forLeaf index: Int) -> Int { ((index + 1) << 1) - 1 }

  /// Depth of the smallest full tree with `size` leaves (root has depth 1; 0 when empty).
  static func depth(forSize size: Int) -> Int {
    guard size > 0 else { return 0 }
    var depth = 1
    var remaining = size - 1
    while remaining != 0 {
      remaining >>= 1
      depth += 1
    }
    return depth
  }

  private static func height(_ node: Int) -> Int {
    var height = 0
    var value = node
    while value & 1 == 0 && value != 0 {
      height += 1
      value >>= 1
    }
    return height
  }

  private static func parent(_ node: Int) -> Int {
    let h = height(node)
    return node & (1 << (h + 1)) != 0 ? node - (1 << h) : node + (1 << h)
  }

  /// Node weights indexed by label (`1 << depth` entries), as `crush_make_tree_bucket` fills
  /// them (sums wrap like Ceph's 32-bit arithmetic; bucket construction has already refused
  /// totals that overflow).
  static func nodeWeights(for weights: [UInt32]) -> [UInt32] {
    let depth = depth(forSize: weights.count)
    guard depth > 0 else { return [] }
    var nodes = [UInt32](repeating: 0, count: 1 << depth)
    for (index, weight) in weights.enumerated() {
      var node = node(forLeaf: index)
      nodes[node] = weight
      for _ in 1..<depth {
        node = parent(node)
        nodes[node] &+= weight
      }
    }
    return nodes
  }

  @inline(__always)
  static func choose(
    id: Int32, items: UnsafeBufferPointer<Int32>, nodeWeights: UnsafeBufferPointer<UInt32>,
    hash: UInt8, x: UInt32, r: UInt32
  ) -> Int32 {
    var node = nodeWeights.count >> 1
    // Each step halves the subtree, so this runs at most log2(numNodes) times.
    while node & 1 == 0 && node > 0 {
      let weight = UInt64(nodeWeights[node])
      let draw =
        (UInt64(
          CrushHash.bucketHash4(hash, x, UInt32(node), r, UInt32(bitPattern: id))) &* weight)
        >> 32
      let h = height(node)
      let left = node - (1 << (h - 1))
      node = draw < UInt64(nodeWeights[left]) ? left : node + (1 << (h - 1))
    }
    let leaf = node >> 1
    return leaf < items.count ? items[leaf] : items[0]
  }
}
