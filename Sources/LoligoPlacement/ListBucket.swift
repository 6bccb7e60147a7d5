/// list selection: walk the items from the last one back and stop at the first whose share of
/// the running sum beats a 16-bit hash. Cheap to extend at the end (hence "list"), expensive to
/// change in the middle.
enum ListBucket {
  @inline(__always)
  static func choose(
    id: Int32, items: UnsafeBufferPointer<Int32>, weights: UnsafeBufferPointer<UInt32>,
    sums: UnsafeBufferPointer<UInt32>, hash: UInt8, x: UInt32, r: UInt32
  ) -> Int32 {
    var index = items.count - 1
    while index >= 0 {
      var draw = UInt64(
        CrushHash.bucketHash4(
          hash, x, UInt32(bitPattern: items[index]), r, UInt32(bitPattern: id)) & 0xffff)
      draw = (draw &* UInt64(sums[index])) >> 16
      if draw < UInt64(weights[index]) { return items[index] }
      index -= 1
    }
    return items[0]
  }
}
