import Foundation

/// Numbers as rados bench prints them with C++ streams: a double in the default float field
/// with precision 6 is exactly C's `%.6g` (libstdc++ formats it with that conversion), so
/// `0.0` prints `0`, `1e-05` stays in exponent form and 6 significant digits are kept; integers
/// print in decimal. `setw(n)` pads on the left.
public enum RadosBenchNumberFormat {
  /// `%.<precision>g` through the C library, so every corner case (rounding, exponent form,
  /// `inf`, `nan`, `-0`) is the one C++ produces.
  public static func general(_ value: Double, precision: Int = 6) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    let written = withVaList([Int32(precision), value]) { arguments in
      buffer.withUnsafeMutableBufferPointer {
        vsnprintf($0.baseAddress, $0.count, "%.*g", arguments)
      }
    }
    guard written > 0 else { return "" }
    return String(
      decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// `std::setw(width)` with the default right adjustment: spaces on the left, never cut.
  public static func padded(_ text: String, _ width: Int) -> String {
    let missing = width - text.count
    return missing > 0 ? String(repeating: " ", count: missing) + text : text
  }

  /// A label padded on the right to `width` (the summary's label column).
  public static func label(_ text: String, _ width: Int) -> String {
    let missing = width - text.count
    return missing > 0 ? text + String(repeating: " ", count: missing) : text
  }

  /// `utime_t::localtime` in its default (legacy) form: `2026-11-22 04:05:06.123456`, local
  /// time, microseconds — what `--show-time` and the every-20-rows latency line print.
  public static func localTime(seconds: Int, microseconds: Int) -> String {
    var time = time_t(seconds)
    var parts = tm()
    localtime_r(&time, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    let micro = String(microseconds)
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
      + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
      + String(repeating: "0", count: max(0, 6 - micro.count)) + micro
  }

  /// The local time now, in `localTime` form.
  public static func localTimeNow() -> String {
    var now = timeval()
    gettimeofday(&now, nil)
    return localTime(seconds: Int(now.tv_sec), microseconds: Int(now.tv_usec))
  }
}
