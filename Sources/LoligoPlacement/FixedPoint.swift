/// Conversions between text weights and CRUSH's 16.16 fixed point, reproducing the C
/// conversions Ceph performs so that text maps compile to the same integers.
public enum FixedPoint {
  /// 1.0 in 16.16.
  public static let one: UInt32 = 0x10000

  /// What C's `(unsigned)double` yields on x86-64 (gcc converts through a signed 64-bit
  /// integer and keeps the low 32 bits; NaN and out-of-range values become 2^63). Swift traps
  /// on such conversions, so they are spelled out here.
  public static func cUnsigned(_ value: Double) -> UInt32 {
    guard value.isFinite, value > -9.223_372_036_854_775_808e18,
      value < 9.223_372_036_854_775_808e18
    else { return 0 }
    return UInt32(truncatingIfNeeded: Int64(value))
  }

  /// `(unsigned)(strtof(text) * (float)0x10000)`: how the CRUSH compiler turns `weight 1.819`
  /// into 119209. Returns nil when `text` is not a number.
  public static func weight(fromText text: some StringProtocol) -> UInt32? {
    guard let value = Float(String(text)) else { return nil }
    return cUnsigned(Double(value * Float(65536)))
  }

  /// The text form of a 16.16 weight: `%.3f` of `(float)w / (float)0x10000`.
  public static func text(of weight: UInt32) -> String {
    formatThreeDecimals(Double(Float(weight) / Float(65536)))
  }

  /// `%.3f` without Foundation's locale handling (the value is never negative here).
  static func formatThreeDecimals(_ value: Double) -> String {
    // Round half to even at the third decimal like printf does on the exact binary value:
    // scaling by 1000 in Double is exact enough for weights below 2^32 / 65536.
    let scaled = (value * 1000).rounded(.toNearestOrEven)
    let thousandths = UInt64(scaled)
    let whole = thousandths / 1000
    let fraction = thousandths % 1000
    let padded = String(fraction)
    return "\(whole)." + String(repeating: "0", count: 3 - padded.count) + padded
  }
}
