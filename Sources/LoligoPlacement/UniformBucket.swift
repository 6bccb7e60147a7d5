/// uniform selection (and the "permutation" fallback any bucket uses after repeated local
/// failures): a hashed permutation of the bucket's items computed lazily up to the requested
/// position. The permutation state lives in per-call workspace, laid out per bucket as
/// `[permX, permN, perm[0], ..., perm[size-1]]`, exactly mirroring Ceph's `crush_work_bucket`
/// so partial permutations are reused within one mapping the same way.
enum UniformBucket {
  /// `perm_n` value marking "only perm[0] is valid" (Ceph's shortcut for r == 0).
  private static let firstOnly: UInt32 = 0xffff

  @inline(__always)
  static func permutationChoose(
    id: Int32, items: UnsafeBufferPointer<Int32>, hash: UInt8, x: UInt32, r: UInt32,
    work: UnsafeMutablePointer<UInt32>
  ) -> Int32 {
    let size = UInt32(items.count)
    let position = r % size
    let perm = work + 2
    if work[0] != x || work[1] == 0 {
      work[0] = x
      if position == 0 {
        let start = CrushHash.bucketHash3(hash, x, UInt32(bitPattern: id), 0) % size
        perm[0] = start
        work[1] = firstOnly
        return items[Int(start)]
      }
      for index in 0..<Int(size) { perm[index] = UInt32(index) }
      work[1] = 0
    } else if work[1] == firstOnly {
      // Expand the r == 0 shortcut into a real permutation prefix of length 1.
      for index in 1..<Int(size) { perm[index] = UInt32(index) }
      perm[Int(perm[0])] = 0
      work[1] = 1
    }
    while work[1] <= position {
      let step = work[1]
      if step < size - 1 {
        let offset = CrushHash.bucketHash3(hash, x, UInt32(bitPattern: id), step) % (size - step)
        if offset != 0 {
          let swapped = perm[Int(step + offset)]
          perm[Int(step + offset)] = perm[Int(step)]
          perm[Int(step)] = swapped
        }
      }
      work[1] += 1
    }
    return items[Int(perm[Int(position)])]
  }
}
