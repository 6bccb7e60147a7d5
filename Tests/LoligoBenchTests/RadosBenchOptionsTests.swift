import XCTest

@testable import LoligoBench

/// Defaults as in rados, sizes with units, and rados's messages for bad command lines.
final class RadosBenchOptionsTests: XCTestCase {
  private func parse(
    _ seconds: String = "5", _ mode: String = "write",
    _ configure: (inout RadosBenchArguments) -> Void = { _ in }
  ) throws(RadosBenchUsageError) -> RadosBenchOptions {
    var arguments = RadosBenchArguments(seconds: seconds, mode: mode)
    configure(&arguments)
    return try RadosBenchOptions(parsing: arguments)
  }

  private func message(
    _ seconds: String = "5", _ mode: String = "write",
    _ configure: (inout RadosBenchArguments) -> Void = { _ in }
  ) -> String? {
    do {
      _ = try parse(seconds, mode, configure)
      return nil
    } catch {
      return error.description
    }
  }

  func testDefaultsAreRados() throws {
    let options = try parse()
    XCTAssertEqual(options.seconds, 5)
    XCTAssertEqual(options.mode, .write)
    XCTAssertEqual(options.concurrentIOs, 16)
    XCTAssertEqual(options.opSize, 4 << 20)
    XCTAssertEqual(options.objectSize, 4 << 20)
    XCTAssertEqual(options.writesPerObject, 1)
    XCTAssertEqual(options.maxObjects, 0)
    XCTAssertTrue(options.cleanup)
    XCTAssertTrue(options.verify)
    XCTAssertEqual(options.format, .plain)
    XCTAssertNil(options.runName)
    XCTAssertNil(options.results)
  }

  func testResultsGoToANewRunDirectoryOrToTheOneGiven() throws {
    XCTAssertEqual(try parse { $0.resultsDirectory = "R" }.results, .newRunDirectory(under: "R"))
    XCTAssertEqual(
      try parse { $0.resultDirectory = "R/steps/01-write" }.results, .directory("R/steps/01-write"))
    XCTAssertEqual(
      message {
        $0.resultsDirectory = "R"
        $0.resultDirectory = "S"
      }, "give --results or --result-dir, not both")
  }

  func testSizesAndTheirRelation() throws {
    var options = try parse {
      $0.blockSize = "4K"
      $0.concurrentIOs = "32"
    }
    XCTAssertEqual(options.opSize, 4096)
    XCTAssertEqual(options.objectSize, 4096, "no -O: one op per object")
    XCTAssertEqual(options.concurrentIOs, 32)
    options = try parse {
      $0.blockSize = "4096"
      $0.objectSize = "16K"
    }
    XCTAssertEqual(options.writesPerObject, 4)
    options = try parse {
      $0.blockSize = "1M"
      $0.objectSize = "64K"
    }
    XCTAssertEqual(options.opSize, 65536, "an object smaller than the op shrinks the op")
    XCTAssertEqual(options.objectSize, 65536)
    options = try parse {
      $0.noCleanup = true
      $0.runName = "run1"
      $0.maxObjects = "10"
      $0.format = "json"
      $0.output = "/tmp/x.json"
      $0.noVerify = true
      $0.showTime = true
    }
    XCTAssertFalse(options.cleanup)
    XCTAssertEqual(options.runName, "run1")
    XCTAssertEqual(options.maxObjects, 10)
    XCTAssertEqual(options.format, .json)
    XCTAssertEqual(options.outputPath, "/tmp/x.json")
    XCTAssertFalse(options.verify)
    XCTAssertTrue(options.showTime)
    XCTAssertEqual(try parse { $0.format = "json-pretty" }.format, .jsonPretty)
  }

  func testSizeUnits() {
    XCTAssertEqual(RadosBenchSize.parse("4096"), 4096)
    XCTAssertEqual(RadosBenchSize.parse("4K"), 4096)
    XCTAssertEqual(RadosBenchSize.parse("4Ki"), 4096)
    XCTAssertEqual(RadosBenchSize.parse("4KiB"), 4096)
    XCTAssertEqual(RadosBenchSize.parse("4KB"), 4096)
    XCTAssertEqual(RadosBenchSize.parse("4M"), 4 << 20)
    XCTAssertEqual(RadosBenchSize.parse("1G"), 1 << 30)
    XCTAssertEqual(RadosBenchSize.parse("12B"), 12)
    for bad in ["", "K", "4X", "4Bi", "-4", "4 K", "4.5K", "99999999999999999999E"] {
      XCTAssertNil(RadosBenchSize.parse(bad), bad)
    }
  }

  func testRadosMessagesForBadArguments() {
    XCTAssertEqual(message("x"), "Invalid value for seconds: 'x'")
    XCTAssertEqual(message("5s"), "Invalid value for seconds: '5s'")
    XCTAssertEqual(message("-1"), "Invalid value for seconds: '-1'")
    XCTAssertEqual(message("99999999999"), "Invalid value for seconds: '99999999999'")
    XCTAssertEqual(message("5", "read"), "Invalid bench mode: 'read' (expected write, seq or rand)")
    XCTAssertEqual(
      message("5", "seq") { $0.blockSize = "4K" },
      "-b|--block_size option can be used only with 'write' bench test")
    XCTAssertEqual(
      message("5", "rand") { $0.objectSize = "4K" },
      "-O|--object_size option can be used only with 'write' bench test")
    XCTAssertEqual(
      message { $0.output = "x.json" },
      "-o|--output option can only be used with '--format' option")
    XCTAssertEqual(
      message { $0.concurrentIOs = "0" },
      "Invalid value for concurrent-ios: '0' (must be 1...65536)")
    XCTAssertEqual(
      message { $0.blockSize = "4X" },
      "Invalid value for block-size: '4X' (a byte count from 1 to 1G, e.g. 4096, 4K, 4M)")
    XCTAssertEqual(
      message { $0.objectSize = "0" },
      "Invalid value for object-size: '0' (a byte count from 1 to 1G, e.g. 4096, 4K, 4M)")
    XCTAssertEqual(message { $0.maxObjects = "-3" }, "Invalid value for max-objects: '-3'")
    XCTAssertEqual(
      message { $0.format = "xml" },
      "Invalid value for format: 'xml' (expected plain, json or json-pretty)")
    XCTAssertNil(message("0"), "0 seconds is valid: only the first window of ops")
  }
}
