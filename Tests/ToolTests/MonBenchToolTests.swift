import Foundation
import LoligoBench
import XCTest

/// `loligo mon-bench` against a real monitor.
final class MonBenchToolTests: XCTestCase {
  func testJSONCarriesTheLatencyHistogramOfEveryCommittedSet() throws {
    let cluster = try TestCluster(mons: 1)
    defer { cluster.tearDown() }
    let (status, stdout, stderr) = try cluster.loligo([
      "mon-bench", "--clients", "2", "--seconds", "1", "--json",
    ])
    XCTAssertEqual(status, 0, stderr)
    let document = jsonObject(stdout)
    let ops = try XCTUnwrap(document["ops"] as? Int, stdout)
    XCTAssertGreaterThan(ops, 0)
    let encoded = try XCTUnwrap(document["latency_histogram_ns"] as? String, stdout)
    XCTAssertTrue(encoded.hasPrefix("HISTFAA"), encoded)
    let histogram = try LatencyHistogram(encoded: encoded)
    XCTAssertEqual(Int(histogram.count), ops)
    // Its median is the one the document reports (milliseconds), within the 0.1 %.
    let p50 = try XCTUnwrap(document["p50_ms"] as? Double)
    XCTAssertEqual(histogram.summary().p50Us / 1000, p50, accuracy: p50 / 500 + 0.001)
  }
}
