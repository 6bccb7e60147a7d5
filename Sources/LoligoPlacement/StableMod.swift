/// `ceph_stable_mod`: x modulo b, computed so that growing b from 2^k toward 2^(k+1) moves as
/// few inputs as possible (each new bucket splits exactly one old one). `mask` is
/// `2^ceil(log2(b)) - 1`. Ceph computes with C `int`, so a b of 2^31 or more never satisfies
/// the comparison and always falls back to `x & (mask >> 1)`; this reproduces that.
public enum StableMod {
  @inline(__always)
  public static func apply(_ x: UInt32, _ b: UInt32, mask: UInt32) -> UInt32 {
    let masked = Int32(bitPattern: x & mask)
    if masked < Int32(bitPattern: b) { return x & mask }
    return x & (mask >> 1)
  }

  /// `(1 << bitlength(n - 1)) - 1`: the mask Ceph keeps next to `pg_num` and `pgp_num`.
  public static func mask(for count: UInt32) -> UInt32 {
    guard count > 1 else { return 0 }
    let bits = 32 - (count - 1).leadingZeroBitCount
    return bits >= 32 ? UInt32.max : (UInt32(1) << bits) - 1
  }
}
