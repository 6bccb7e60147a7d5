import Foundation
import XCTest

@testable import LoligoBench

/// The final summary: rados's labels byte for byte, values in `%g` form, sane figures for
/// short runs, and the JSON members.
final class RadosBenchSummaryTests: XCTestCase {
  private func table(_ finished: [UInt64], opSize: UInt64 = 4096) -> RadosBenchTable {
    var table = RadosBenchTable(opSize: opSize)
    for (second, count) in finished.enumerated() {
      var snapshot = RadosBenchSnapshot()
      snapshot.finished = count
      snapshot.started = count
      table.record(
        sec: second, snapshot: snapshot, elapsedSeconds: Double(second), time: "")
    }
    return table
  }

  private func latency(_ milliseconds: [UInt64]) -> RadosBenchLatencyStats {
    var latency = RadosBenchLatencyStats()
    for ms in milliseconds { latency.record(nanoseconds: ms * 1_000_000) }
    return latency
  }

  func testWriteSummaryText() {
    let summary = RadosBenchSummary(
      mode: .write, totalTime: 3, ops: 300, opSize: 1 << 20, objectSize: 1 << 20,
      table: table([0, 100, 100, 300], opSize: 1 << 20), latency: latency([10, 20, 30]),
      mismatches: 0)
    let lines = summary.textLines
    XCTAssertEqual(
      Array(lines.prefix(16)),
      [
        "Total time run:         3",
        "Total writes made:      300",
        "Write size:             1048576",
        "Object size:            1048576",
        "Bandwidth (MB/sec):     100",
        "Stddev Bandwidth:       57.735",
        "Max bandwidth (MB/sec): 100",
        "Min bandwidth (MB/sec): 0",
        "Average IOPS:           100",
        "Stddev IOPS:            57.735",
        "Max IOPS:               100",
        "Min IOPS:               0",
        "Average Latency(s):     0.02",
        "Stddev Latency(s):      0.01",
        "Max latency(s):         0.03",
        "Min latency(s):         0.01",
      ])
    XCTAssertEqual(lines.count, 19)
    XCTAssertTrue(lines[16].hasPrefix("p50 latency(s):         0.02"))
    XCTAssertTrue(lines[17].hasPrefix("p99 latency(s):         0.03"))
    XCTAssertTrue(lines[18].hasPrefix("p99.9 latency(s):       0.03"))
  }

  func testReadSummaryLabelsAsRados() {
    let summary = RadosBenchSummary(
      mode: .seq, totalTime: 1.5, ops: 30, opSize: 4096, objectSize: 16384,
      table: table([0, 20]), latency: latency([5, 5]), mismatches: 0)
    let labels = summary.textLines.map { String($0.prefix(22)) }
    XCTAssertEqual(
      labels,
      [
        "Total time run:       ", "Total reads made:     ", "Read size:            ",
        "Object size:          ", "Bandwidth (MB/sec):   ", "Average IOPS:         ",
        "Stddev IOPS:          ", "Max IOPS:             ", "Min IOPS:             ",
        "Average Latency(s):   ", "Max latency(s):       ", "Min latency(s):       ",
        "p50 latency(s):       ", "p99 latency(s):       ", "p99.9 latency(s):     ",
      ])
    XCTAssertEqual(summary.textLines[1], "Total reads made:     30")
    XCTAssertEqual(summary.textLines[5], "Average IOPS:         20")
  }

  func testSubSecondRunHasSaneMinimums() {
    let summary = RadosBenchSummary(
      mode: .write, totalTime: 0.5, ops: 50, opSize: 1 << 20, objectSize: 1 << 20,
      table: table([0]), latency: latency([10]), mismatches: 0)
    XCTAssertEqual(summary.averageIOPS, 100)
    XCTAssertEqual(summary.minIOPS, 100)
    XCTAssertEqual(summary.maxIOPS, 100)
    XCTAssertEqual(summary.stddevIOPS, 0)
    XCTAssertEqual(summary.minBandwidth, 100, "not 1.79769e+308")
    XCTAssertEqual(summary.maxBandwidth, 100)
    let empty = RadosBenchSummary(
      mode: .write, totalTime: 0, ops: 0, opSize: 4096, objectSize: 4096, table: table([0]),
      latency: RadosBenchLatencyStats(), mismatches: 0)
    XCTAssertEqual(empty.bandwidth, 0)
    XCTAssertEqual(empty.minLatency, 0, "rados printed 9999")
  }

  func testJSONMembersAreNumbers() throws {
    let summary = RadosBenchSummary(
      mode: .rand, totalTime: 2, ops: 40, opSize: 4096, objectSize: 4096,
      table: table([0, 20, 40]), latency: latency([1, 2]), mismatches: 3)
    let text = RadosBenchJSON.object(summary.jsonMembers).rendered(pretty: false)
    let object = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    XCTAssertEqual(object["total_reads_made"] as? Int, 40)
    XCTAssertEqual(object["read_size"] as? Int, 4096)
    XCTAssertEqual(object["average_iops"] as? Int, 20)
    XCTAssertEqual(object["stddev_iops"] as? Double, 0)
    XCTAssertEqual(object["mismatches"] as? Int, 3)
    XCTAssertEqual(object["total_time_run"] as? Double, 2)
    for key in ["bandwidth", "average_latency", "max_latency", "min_latency", "p99_latency"] {
      XCTAssertNotNil(object[key] as? Double, key)
      XCTAssertNil(object[key] as? String, key)
    }
    XCTAssertNil(object["stddev_latency"], "rados reports no latency stddev for reads")
  }

  func testJSONRendering() {
    let value = RadosBenchJSON.object([
      ("a", .int(-1)), ("b", .double(0.5)), ("c", .string("q\"\\\n\u{1}")),
      ("d", .array([.bool(true), .uint(2)])), ("e", .double(.infinity)), ("f", .array([])),
    ])
    XCTAssertEqual(
      value.rendered(pretty: false),
      #"{"a":-1,"b":0.5,"c":"q\"\\\n\u0001","d":[true,2],"e":null,"f":[]}"#)
    XCTAssertEqual(
      RadosBenchJSON.object([("k", .array([.int(1)]))]).rendered(pretty: true),
      "{\n    \"k\": [\n        1\n    ]\n}")
  }
}
