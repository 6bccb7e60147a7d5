import Foundation

/// Numbers as `ceph -s` prints them: Ceph's `byte_u_t` (`480 KiB`, `1.2 MiB`, `0 B`) and
/// `si_u_t` (`120`, `1.53 k`), and its percentages (`2.083%`).
enum CephUnits {
  static func bytes(_ value: Int64) -> String {
    format(value, base: 1024, units: [" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"])
  }

  static func si(_ value: Int64) -> String {
    format(value, base: 1000, units: ["", " k", " M", " G", " T", " P", " E"])
  }

  static func percent(_ ratio: Double) -> String { String(format: "%.3f%%", ratio * 100) }

  /// Ceph's format_u: whole numbers when exact, else the most decimals (2, 1, 0) that keep
  /// the text within 7 characters.
  private static func format(_ value: Int64, base: UInt64, units: [String]) -> String {
    let v = UInt64(max(0, value))
    var n = v
    var index = 0
    var mult: UInt64 = 1
    while n >= base && index < units.count - 1 {
      n /= base
      index += 1
      mult *= base
    }
    if index == 0 || v % mult == 0 { return "\(n)\(units[index])" }
    for precision in stride(from: 2, through: 0, by: -1) {
      let text = String(format: "%.*f%@", precision, Double(v) / Double(mult), units[index])
      if text.count <= 7 || precision == 0 { return text }
    }
    return "\(n)\(units[index])"
  }
}
