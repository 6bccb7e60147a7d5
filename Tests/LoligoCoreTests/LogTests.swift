import LoligoCore
import NIOConcurrencyHelpers
import XCTest

final class LogTests: XCTestCase {
  func testControlCharactersAreEscapedSoOneMessageIsOneTextLine() {
    let log = Log()
    let lines = NIOLockedValueBox<[String]>([])
    log.setSink { line in lines.withLockedValue { $0.append(line) } }
    log.error("osd", "object record O1.2a/\u{0}name\nforged ERR line\u{1b}[2J \u{7f}é")
    let written = lines.withLockedValue { $0 }
    XCTAssertEqual(written.count, 1)
    let line = written[0]
    XCTAssertEqual(line.filter { $0 == "\n" }.count, 1)
    XCTAssertTrue(line.hasSuffix("\n"))
    XCTAssertTrue(
      line.hasSuffix(
        "ERR osd: object record O1.2a/\\x00name\\x0aforged ERR line\\x1b[2J \\x7fé\n"),
      line)
    XCTAssertFalse(line.unicodeScalars.dropLast().contains { $0.value < 0x20 })
  }

  func testPlainTextIsUnchanged() {
    XCTAssertEqual(Log.oneLine("pg 1.2a: 3 objects"), "pg 1.2a: 3 objects")
  }
}
