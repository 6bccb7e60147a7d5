/// Byte counts as rados reads them (`strict_iecstrtoll`): a decimal number with an optional
/// binary unit, `B`, `K`/`Ki`, `M`/`Mi`, `G`/`Gi`, `T`/`Ti`, `P`/`Pi`, `E`/`Ei`, each a power of
/// 1024, so `-b 4K` and `-b 4Ki` are both 4096. A trailing `B` after the unit (`4KiB`, `4KB`) is
/// accepted too because users type it; rados rejects `4KiB` but takes `4KB` as 4096.
public enum RadosBenchSize {
  public static func parse(_ text: String) -> UInt64? {
    let digits = text.prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty, let value = UInt64(digits) else { return nil }
    let unit = text.dropFirst(digits.count)
    guard let shift = shift(of: unit) else { return nil }
    guard value <= UInt64.max >> shift else { return nil }
    return value << shift
  }

  private static let prefixes: [Character: UInt64] = [
    "K": 10, "k": 10, "M": 20, "G": 30, "T": 40, "P": 50, "E": 60,
  ]

  private static func shift(of unit: Substring) -> UInt64? {
    if unit.isEmpty || unit == "B" { return 0 }
    guard let first = unit.first, let shift = prefixes[first] else { return nil }
    switch unit.dropFirst() {
    case "", "i", "B", "iB": return shift
    default: return nil
    }
  }
}
