import LoligoCore
import XCTest

final class ConfigTests: XCTestCase {
  func testDefaults() {
    let config = Config()
    XCTAssertEqual(config.string(.msType), "tcp")
    XCTAssertEqual(config.int(.msAsyncOpThreads), 3)
    XCTAssertTrue(config.bool(.msCrcData))
    XCTAssertEqual(config.origin(of: .msType), "default")
  }

  func testSetFromTextValidates() throws {
    var config = Config()
    try config.set("ms_async_op_threads", "5")
    XCTAssertEqual(config.int(.msAsyncOpThreads), 5)
    try config.set("ms-type", "async+posix")
    XCTAssertEqual(config.string(.msType), "tcp", "Ceph's name maps to ours")
    try config.set("ms_max_message_size", "64M")
    XCTAssertEqual(config.int(.msMaxMessageSize), 64 << 20)
    XCTAssertThrowsError(try config.set("ms_async_op_threads", "0")) { error in
      guard case .outOfRange = error as? ConfigError else { return XCTFail("\(error)") }
    }
    XCTAssertThrowsError(try config.set("ms_crc_data", "maybe"))
    XCTAssertThrowsError(try config.set("ms_type", "carrier-pigeon"))
    XCTAssertThrowsError(try config.set("no_such_option", "1")) { error in
      XCTAssertEqual(error as? ConfigError, .unknownOption("no_such_option"))
    }
  }

  /// Block sizes are powers of two in range, from text and from TOML integers alike.
  func testPowerOfTwoSizes() throws {
    var config = Config()
    XCTAssertEqual(config.int(.osdStoreCsumBlock), 4096)
    XCTAssertEqual(config.string(.osdStoreCsumType), "crc32c")
    try config.set("osd_store_csum_block", "64K")
    XCTAssertEqual(config.int(.osdStoreCsumBlock), 65_536)
    try config.set("osd_store_csum_block", "1M")
    for bad in ["12288", "2K", "2M", "4097"] {
      XCTAssertThrowsError(try config.set("osd_store_csum_block", bad), bad)
    }
    XCTAssertThrowsError(try ConfigOption.osdStoreCsumBlock.validate(.int(12288)))
    XCTAssertEqual(try ConfigOption.osdStoreCsumBlock.validate(.int(8192)), .int(8192))
    try config.set("osd_store_csum_type", "none")
    XCTAssertThrowsError(try config.set("osd_store_csum_type", "xxhash64"))
    XCTAssertTrue(ConfigOption.osdStoreCsumBlock.typeDescription.contains("power of two"))
  }

  func testTOMLSectionsApplyInOrder() throws {
    let toml = """
      [global]
      ms_async_op_threads = 2
      ms_crc_data = false
      [osd]
      ms_async_op_threads = 4
      [osd.3]
      ms_async_op_threads = 6
      ms_max_message_size = "1M"
      [cluster]
      name = "ignored by Config"
      """
    var osd3 = Config()
    try osd3.load(toml: toml, origin: "test.toml", entity: "osd.3")
    XCTAssertEqual(osd3.int(.msAsyncOpThreads), 6)
    XCTAssertEqual(osd3.int(.msMaxMessageSize), 1 << 20)
    XCTAssertFalse(osd3.bool(.msCrcData))
    XCTAssertEqual(osd3.origin(of: .msAsyncOpThreads), "test.toml [osd.3]")
    var osd1 = Config()
    try osd1.load(toml: toml, origin: "test.toml", entity: "osd.1")
    XCTAssertEqual(osd1.int(.msAsyncOpThreads), 4)
    var client = Config()
    try client.load(toml: toml, origin: "test.toml", entity: "client.0")
    XCTAssertEqual(client.int(.msAsyncOpThreads), 2)
  }

  func testTOMLErrorsNameTheProblem() {
    var config = Config()
    XCTAssertThrowsError(try config.load(toml: "[global]\nms_typo = 1\n", origin: "a.toml")) {
      XCTAssertTrue("\($0)".contains("ms_typo"), "\($0)")
    }
    XCTAssertThrowsError(try config.load(toml: "[global]\nms_type = \n", origin: "b.toml")) {
      XCTAssertTrue("\($0)".contains("line 2"), "\($0)")
    }
    XCTAssertThrowsError(
      try config.load(toml: "[global]\nms_async_op_threads = 99\n", origin: "c.toml"))
  }

  func testExtractOverridesLeavesOtherArguments() throws {
    var config = Config()
    let rest = try config.extractOverrides(from: [
      "127.0.0.1:1", "--ms_async_op_threads", "2", "--json", "x.json", "--ms-crc-data=false", "4",
    ])
    XCTAssertEqual(rest, ["127.0.0.1:1", "--json", "x.json", "4"])
    XCTAssertEqual(config.int(.msAsyncOpThreads), 2)
    XCTAssertFalse(config.bool(.msCrcData))
    XCTAssertThrowsError(try config.extractOverrides(from: ["--ms_type"]))
  }

  func testParseSize() {
    XCTAssertEqual(parseSize("4096"), 4096)
    XCTAssertEqual(parseSize("4K"), 4096)
    XCTAssertEqual(parseSize("4KiB"), 4096)
    XCTAssertEqual(parseSize("1m"), 1 << 20)
    XCTAssertEqual(parseSize("2G"), 2 << 30)
    XCTAssertNil(parseSize("4X"))
    XCTAssertNil(parseSize("-1"))
    XCTAssertNil(parseSize("99999999999999T"))
  }
}
