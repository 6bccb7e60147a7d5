import Foundation

/// Legacy straw selection: each item's 16-bit hash is scaled by a precomputed straw length and
/// the longest straw wins. The lengths come from a floating-point recurrence over the sorted
/// weights (`crush_calc_straw`); version 0 of it mishandles equal weights and version 1
/// (`straw_calc_version 1`) fixes that. Kept so maps that still use straw buckets map the same.
enum StrawBucket {
  @inline(__always)
  static func choose(
    items: UnsafeBufferPointer<Int32>, straws: UnsafeBufferPointer<UInt32>, hash: UInt8,
    x: UInt32, r: UInt32
  ) -> Int32 {
    var winner = 0
    var highest: UInt64 = 0
    for index in 0..<items.count {
      var draw = UInt64(
        CrushHash.bucketHash3(hash, x, UInt32(bitPattern: items[index]), r) & 0xffff)
      draw &*= UInt64(straws[index])
      if index == 0 || draw > highest {
        winner = index
        highest = draw
      }
    }
    return items[winner]
  }

  /// Straw lengths for `weights`, reproducing Ceph's double-precision arithmetic step by step
  /// (including its 32-bit unsigned products) so the truncated results agree.
  static func straws(for weights: [UInt32], version: UInt8) -> [UInt32] {
    let size = weights.count
    var straws = [UInt32](repeating: 0, count: size)
    guard size > 0 else { return straws }
    // Indices in ascending weight order; insertion sort keeps equal weights in input order.
    var order = [Int](repeating: 0, count: size)
    for index in 1..<size {
      var slot = 0
      while slot < index {
        if weights[index] < weights[order[slot]] {
          var move = index
          while move > slot {
            order[move] = order[move - 1]
            move -= 1
          }
          order[slot] = index
          break
        }
        slot += 1
      }
      if slot == index { order[index] = index }
    }

    var remaining = size
    var straw = 1.0
    var weightBelow = 0.0
    var lastWeight = 0.0
    var position = 0
    while position < size {
      let current = weights[order[position]]
      if current == 0 {
        straws[order[position]] = 0
        position += 1
        if version >= 1 { remaining -= 1 }
        continue
      }
      straws[order[position]] = FixedPoint.cUnsigned(straw * 65536.0)
      position += 1
      if position == size { break }
      let previous = weights[order[position - 1]]
      let next = weights[order[position]]
      if version == 0 {
        if next == previous { continue }
        weightBelow += (Double(previous) - lastWeight) * Double(remaining)
        var scan = position
        while scan < size && weights[order[scan]] == next {
          remaining -= 1
          scan += 1
        }
      } else {
        weightBelow += (Double(previous) - lastWeight) * Double(remaining)
        remaining -= 1
      }
      let weightNext = Double(UInt32(truncatingIfNeeded: remaining) &* (next &- previous))
      let fractionBelow = weightBelow / (weightBelow + weightNext)
      straw *= pow(1.0 / fractionBelow, 1.0 / Double(remaining))
      lastWeight = Double(previous)
    }
    return straws
  }
}
