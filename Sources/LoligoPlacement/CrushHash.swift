/// CRUSH's 32-bit hash family: Robert Jenkins' 96-bit mix applied to one to five inputs
/// (`CRUSH_HASH_RJENKINS1`, the only hash Ceph defines). Every draw in the mapper goes through
/// these, so they must agree with Ceph bit for bit: straw2 uses `hash3(x, item, r)`, the "is this
/// device out" test uses `hash2(x, osd)`, and a pool's placement seed uses `hash2(ps, pool)`.
///
/// All arithmetic wraps modulo 2^32, exactly like the C unsigned arithmetic it mirrors.
public enum CrushHash {
  /// `CRUSH_HASH_RJENKINS1`, the value of `hash 0` in a bucket.
  public static let rjenkins1: UInt8 = 0

  private static let seed: UInt32 = 1_315_423_911
  private static let fillX: UInt32 = 231_232
  private static let fillY: UInt32 = 1232

  /// Jenkins' mixing step; mutates all three words, the result is read from `c`.
  @inline(__always)
  private static func mix(_ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32) {
    a = a &- b &- c
    a ^= c >> 13
    b = b &- c &- a
    b ^= a << 8
    c = c &- a &- b
    c ^= b >> 13
    a = a &- b &- c
    a ^= c >> 12
    b = b &- c &- a
    b ^= a << 16
    c = c &- a &- b
    c ^= b >> 5
    a = a &- b &- c
    a ^= c >> 3
    b = b &- c &- a
    b ^= a << 10
    c = c &- a &- b
    c ^= b >> 15
  }

  public static func hash1(_ input: UInt32) -> UInt32 {
    var hash = seed ^ input
    var a = input
    var b = input
    var x = fillX
    var y = fillY
    mix(&b, &x, &hash)
    mix(&y, &a, &hash)
    return hash
  }

  public static func hash2(_ inputA: UInt32, _ inputB: UInt32) -> UInt32 {
    var hash = seed ^ inputA ^ inputB
    var a = inputA
    var b = inputB
    var x = fillX
    var y = fillY
    mix(&a, &b, &hash)
    mix(&x, &a, &hash)
    mix(&b, &y, &hash)
    return hash
  }

  public static func hash3(_ inputA: UInt32, _ inputB: UInt32, _ inputC: UInt32) -> UInt32 {
    var hash = seed ^ inputA ^ inputB ^ inputC
    var a = inputA
    var b = inputB
    var c = inputC
    var x = fillX
    var y = fillY
    mix(&a, &b, &hash)
    mix(&c, &x, &hash)
    mix(&y, &a, &hash)
    mix(&b, &x, &hash)
    mix(&y, &c, &hash)
    return hash
  }

  public static func hash4(
    _ inputA: UInt32, _ inputB: UInt32, _ inputC: UInt32, _ inputD: UInt32
  ) -> UInt32 {
    var hash = seed ^ inputA ^ inputB ^ inputC ^ inputD
    var a = inputA
    var b = inputB
    var c = inputC
    var d = inputD
    var x = fillX
    var y = fillY
    mix(&a, &b, &hash)
    mix(&c, &d, &hash)
    mix(&a, &x, &hash)
    mix(&y, &b, &hash)
    mix(&c, &x, &hash)
    mix(&y, &d, &hash)
    return hash
  }

  public static func hash5(
    _ inputA: UInt32, _ inputB: UInt32, _ inputC: UInt32, _ inputD: UInt32, _ inputE: UInt32
  ) -> UInt32 {
    var hash = seed ^ inputA ^ inputB ^ inputC ^ inputD ^ inputE
    var a = inputA
    var b = inputB
    var c = inputC
    var d = inputD
    var e = inputE
    var x = fillX
    var y = fillY
    mix(&a, &b, &hash)
    mix(&c, &d, &hash)
    mix(&e, &x, &hash)
    mix(&y, &a, &hash)
    mix(&b, &x, &hash)
    mix(&y, &c, &hash)
    mix(&d, &x, &hash)
    mix(&y, &e, &hash)
    return hash
  }

  /// The hash a bucket with hash type `type` uses. Ceph returns 0 for any type it does not
  /// know, so a bucket compiled with, say, `hash 3` draws with a constant; we keep that.
  @inline(__always)
  static func bucketHash3(_ type: UInt8, _ a: UInt32, _ b: UInt32, _ c: UInt32) -> UInt32 {
    type == rjenkins1 ? hash3(a, b, c) : 0
  }

  @inline(__always)
  static func bucketHash4(_ type: UInt8, _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32)
    -> UInt32
  {
    type == rjenkins1 ? hash4(a, b, c, d) : 0
  }
}
