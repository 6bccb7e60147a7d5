/// straw2 selection: every item draws `ln(u) / weight` with `u` a 16-bit hash of (x, item, r) and
/// the largest draw wins. Because each item's draw depends only on its own id and weight,
/// changing one weight only moves placements to or from that item, which is why Ceph made it
/// the default.
enum Straw2Bucket {
  /// The winning item. `ids` are the values hashed (normally the items themselves, or a
  /// choose_args id override); `weights` the 16.16 weights in effect. A zero weight never wins
  /// while any sibling has weight; with all weights zero the first item is returned.
  @inline(__always)
  static func choose(
    items: UnsafeBufferPointer<Int32>, ids: UnsafeBufferPointer<Int32>,
    weights: UnsafeBufferPointer<UInt32>, hash: UInt8, x: UInt32, r: UInt32
  ) -> Int32 {
    var winner = 0
    var highest = Int64.min
    for index in 0..<items.count {
      let draw = Self.draw(
        id: ids[index], weight: weights[index], hash: hash, x: x, r: r)
      if index == 0 || draw > highest {
        winner = index
        highest = draw
      }
    }
    return items[winner]
  }

  /// One item's draw: a non-positive fixed-point logarithm divided by the weight, so heavier
  /// items draw values closer to zero.
  @inline(__always)
  static func draw(id: Int32, weight: UInt32, hash: UInt8, x: UInt32, r: UInt32) -> Int64 {
    guard weight != 0 else { return Int64.min }
    let u = CrushHash.bucketHash3(hash, x, UInt32(bitPattern: id), r) & 0xffff
    // log2Scaled is at most 2^48, so this is in [-2^48, 0].
    let logarithm = Int64(bitPattern: CrushLn.log2Scaled(u)) &- 0x1_0000_0000_0000
    return logarithm / Int64(weight)
  }
}
