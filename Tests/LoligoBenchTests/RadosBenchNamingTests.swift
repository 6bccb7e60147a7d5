import XCTest

@testable import LoligoBench

/// Object names and the metadata object, as rados bench forms them.
final class RadosBenchNamingTests: XCTestCase {
  func testObjectNames() {
    let naming = RadosBenchNaming(hostname: "node1")
    XCTAssertEqual(naming.prefixWithoutPID, "benchmark_data_node1")
    XCTAssertEqual(naming.prefix(pid: 1234), "benchmark_data_node1_1234")
    XCTAssertEqual(naming.objectName(0, pid: 1234), "benchmark_data_node1_1234_object0")
    XCTAssertEqual(naming.objectName(17, pid: 99), "benchmark_data_node1_99_object17")
  }

  func testHostnameIsCutTo29Bytes() {
    let long = "abcdefghijklmnopqrstuvwxyz0123456789.example.com"
    let naming = RadosBenchNaming(hostname: long)
    XCTAssertEqual(naming.hostname, "abcdefghijklmnopqrstuvwxyz012")
    XCTAssertEqual(naming.hostname.utf8.count, 29)
    XCTAssertEqual(
      naming.objectName(3, pid: 7), "benchmark_data_abcdefghijklmnopqrstuvwxyz012_7_object3")
    XCTAssertEqual(RadosBenchNaming(hostname: "short").hostname, "short")
    // Never half a character.
    let accented = String(repeating: "a", count: 28) + "é"
    XCTAssertEqual(RadosBenchNaming(hostname: accented).hostname, String(repeating: "a", count: 28))
    XCTAssertLessThanOrEqual(RadosBenchNaming.currentHostname().utf8.count, 29)
    XCTAssertFalse(RadosBenchNaming.currentHostname().isEmpty)
  }

  func testMetadataObjectName() {
    XCTAssertEqual(RadosBenchNaming.metadataObject(runName: nil), "benchmark_last_metadata")
    XCTAssertEqual(RadosBenchNaming.metadataObject(runName: ""), "benchmark_last_metadata")
    XCTAssertEqual(RadosBenchNaming.metadataObject(runName: "client7"), "client7")
  }
}
