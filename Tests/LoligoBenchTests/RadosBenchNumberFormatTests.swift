import Foundation
import XCTest

@testable import LoligoBench

/// Numbers as C++ streams print them in rados bench (`%.6g`), and the column padding.
final class RadosBenchNumberFormatTests: XCTestCase {
  func testGeneralMatchesCppDefaultFloatFormatting() {
    let cases: [(Double, String)] = [
      (0, "0"), (1, "1"), (16, "16"), (0.1, "0.1"), (142.4497, "142.45"),
      (128.605_47, "128.605"), (123_456.7, "123457"), (1_234_567, "1.23457e+06"),
      (0.000_278_133_2, "0.000278133"), (0.000_01, "1e-05"), (2.055e-05, "2.055e-05"),
      (0.039_062_5, "0.0390625"), (3.000_36, "3.00036"),
      (1.797_693_134_862_315_7e308, "1.79769e+308"),
      (-1, "-1"), (.infinity, "inf"), (999_999.5, "1e+06"),
    ]
    for (value, expected) in cases {
      XCTAssertEqual(RadosBenchNumberFormat.general(value), expected, "\(value)")
    }
    XCTAssertEqual(RadosBenchNumberFormat.general(1.0 / 3, precision: 3), "0.333")
  }

  func testPaddingIsSetwRightAlignedAndNeverCuts() {
    XCTAssertEqual(RadosBenchNumberFormat.padded("sec", 5), "  sec")
    XCTAssertEqual(RadosBenchNumberFormat.padded("1234567890", 5), "1234567890")
    XCTAssertEqual(RadosBenchNumberFormat.label("Write size:", 24), "Write size:             ")
    XCTAssertEqual(RadosBenchNumberFormat.label("Max bandwidth (MB/sec):", 24).count, 24)
  }

  func testLocalTimeHasUtimeLegacyForm() {
    let text = RadosBenchNumberFormat.localTime(seconds: 1_800_000_000, microseconds: 42)
    XCTAssertNotNil(
      text.range(
        of: #"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.000042$"#, options: .regularExpression),
      text)
    XCTAssertEqual(RadosBenchNumberFormat.localTimeNow().count, 26)
  }
}
