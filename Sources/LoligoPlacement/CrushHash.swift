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

  public static func hash1(_ input: UInt32) -> UInt32 {
    var hash = seed ^ input
    var a = input
    var b = input
    var x = fillX
    var y = fillY
    jenkinsMix(&b, &x, &hash)
    jenkinsMix(&y, &a, &hash)
    return hash
  }

  public static func hash2(_ inputA: UInt32, _ inputB: UInt32) -> UInt32 {
    var hash = seed ^ inputA ^ inputB
    var a = inputA
    var b = inputB
    var x = fillX
    var y = fillY
    jenkinsMix(&a, &b, &hash)
    jenkinsMix(&x, &a, &hash)
    jenkinsMix(&b, &y, &hash)
    return hash
  }

  public static func hash3(_ inputA: UInt32, _ inputB: UInt32, _ inputC: UInt32) -> UInt32 {
    var hash = seed ^ inputA ^ inputB ^ inputC
    var a = inputA
    var b = inputB
    var c = inputC
    var x = fillX
    var y = fillY
    jenkinsMix(&a, &b, &hash)
    jenkinsMix(&c, &x, &hash)
    jenkinsMix(&y, &a, &hash)
    jenkinsMix(&b, &x, &hash)
    jenkinsMix(&y, &c, &hash)
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
    jenkinsMix(&a, &b, &hash)
    jenkinsMix(&c, &d, &hash)
    jenkinsMix(&a, &x, &hash)
    jenkinsMix(&y, &b, &hash)
    jenkinsMix(&c, &x, &hash)
    jenkinsMix(&y, &d, &hash)
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
    jenkinsMix(&a, &b, &hash)
    jenkinsMix(&c, &d, &hash)
    jenkinsMix(&e, &x, &hash)
    jenkinsMix(&y, &a, &hash)
    jenkinsMix(&b, &x, &hash)
    jenkinsMix(&y, &c, &hash)
    jenkinsMix(&d, &x, &hash)
    jenkinsMix(&y, &e, &hash)
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
