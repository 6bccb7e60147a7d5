import Foundation

/// Number formatting that matches what Ceph's tools print with C++ streams, so summary lines can
/// be compared with theirs verbatim.
enum CNumberFormat {
  /// `printf("%g")`: 6 significant digits, trailing zeros dropped (what `ostream << double`
  /// prints by default), including glibc's spelling of infinities and NaNs.
  static func general(_ value: Double) -> String {
    withVaList([value]) { arguments in
      var buffer = [CChar](repeating: 0, count: 64)
      _ = vsnprintf(&buffer, buffer.count, "%g", arguments)
      return String(
        decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
  }
}
