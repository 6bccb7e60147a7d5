import Foundation
import XCTest

@testable import LoligoBench

/// The per-second table: rados's header, row layout and accounting.
final class RadosBenchTableTests: XCTestCase {
  private func snapshot(
    started: UInt64, finished: UInt64, inFlight: Int = 0, last: Double = 0.01, avg: Double = 0.01
  ) -> RadosBenchSnapshot {
    var snapshot = RadosBenchSnapshot()
    snapshot.started = started
    snapshot.finished = finished
    snapshot.inFlight = inFlight
    snapshot.lastLatency = last
    snapshot.avgLatency = avg
    snapshot.minLatency = 0.001
    snapshot.maxLatency = 0.5
    return snapshot
  }

  func testHeaderMatchesRadosAndTheAcceptanceRegex() throws {
    XCTAssertEqual(
      RadosBenchTable.header,
      "  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)")
    let regex = try NSRegularExpression(
      pattern:
        #"^ +sec +Cur ops +started +finished +avg MB/s +cur MB/s +last lat\(s\) +avg lat\(s\)"#)
    let header = RadosBenchTable.header
    XCTAssertNotNil(
      regex.firstMatch(in: header, range: NSRange(header.startIndex..., in: header)))
  }

  func testRowLayout() {
    var table = RadosBenchTable(opSize: 4096)
    let row0 = table.record(
      sec: 0, snapshot: snapshot(started: 0, finished: 0, last: 0, avg: 0), elapsedSeconds: 0,
      time: "t")
    XCTAssertEqual(
      RadosBenchTable.text(of: row0),
      "    0       0         0         0         0         0           -           0")
    let row1 = table.record(
      sec: 1, snapshot: snapshot(started: 116, finished: 100, inFlight: 16, last: 0.0123),
      elapsedSeconds: 1, time: "t")
    XCTAssertEqual(
      RadosBenchTable.text(of: row1),
      "    1      16       116       100  0.390625  0.390625      0.0123        0.01")
    XCTAssertEqual(
      RadosBenchTable.latencyLine(of: row1), "t min lat: 0.001 max lat: 0.5 avg lat: 0.01")
  }

  func testStallAndBurstAsRados() {
    var table = RadosBenchTable(opSize: 1 << 20)
    table.record(sec: 0, snapshot: snapshot(started: 16, finished: 0), elapsedSeconds: 0, time: "")
    let r1 = table.record(
      sec: 1, snapshot: snapshot(started: 116, finished: 100), elapsedSeconds: 1, time: "")
    let r2 = table.record(
      sec: 2, snapshot: snapshot(started: 116, finished: 100), elapsedSeconds: 2, time: "")
    let r3 = table.record(
      sec: 3, snapshot: snapshot(started: 316, finished: 300), elapsedSeconds: 3, time: "")
    XCTAssertEqual(r1.curBandwidth, 100)
    XCTAssertNil(r2.curBandwidth, "nothing finished: cur prints 0 and last lat -")
    XCTAssertNil(r2.lastLatency)
    XCTAssertEqual(r3.curBandwidth, 100, "200 MiB over the 2 s since the last progress")
    XCTAssertEqual(r3.avgBandwidth, 100)
    let text = RadosBenchTable.text(of: r2).split(separator: " ")
    XCTAssertEqual(text[5], "0")
    XCTAssertEqual(text[6], "-")
    XCTAssertEqual(table.bandwidth.count, 3, "one sample per row after the first")
    XCTAssertEqual(table.iops.min, 0)
    XCTAssertEqual(table.iops.max, 100)
    XCTAssertEqual(table.iops.stats.sampleStddev, 57.735_026_918_962_58, accuracy: 1e-9)
    XCTAssertEqual(table.rows.count, 4)
  }

  func testIOPSSamplesAreWholeNumbers() {
    var table = RadosBenchTable(opSize: 4096)
    table.record(sec: 0, snapshot: snapshot(started: 0, finished: 0), elapsedSeconds: 0, time: "")
    table.record(sec: 1, snapshot: snapshot(started: 9, finished: 7), elapsedSeconds: 1, time: "")
    table.record(sec: 2, snapshot: snapshot(started: 9, finished: 7), elapsedSeconds: 2, time: "")
    table.record(sec: 3, snapshot: snapshot(started: 9, finished: 8), elapsedSeconds: 3, time: "")
    XCTAssertEqual(table.iops.max, 7)
    XCTAssertEqual(table.iops.min, 0, "1 op over 2 s is int(0.5) = 0")
  }

  func testRowZeroWithProgressRecordsNoSample() {
    var table = RadosBenchTable(opSize: 4096)
    let row = table.record(
      sec: 0, snapshot: snapshot(started: 20, finished: 4, last: 0.002), elapsedSeconds: 0.001,
      time: "")
    XCTAssertEqual(row.curBandwidth, 0, "rados printed -1 here")
    XCTAssertEqual(row.lastLatency, 0.002)
    XCTAssertTrue(table.bandwidth.isEmpty)
    XCTAssertTrue(table.iops.isEmpty)
  }

  func testHeaderRepeatsEveryTwentyRowsAndCSV() {
    let row = RadosBenchRow(
      sec: 40, curOps: 1, started: 2, finished: 1, avgBandwidth: 0.5, curBandwidth: nil,
      lastLatency: nil, avgLatency: 0.25, minLatency: 0, maxLatency: 1, time: "")
    XCTAssertTrue(RadosBenchTable.needsHeader(row))
    XCTAssertEqual(
      RadosBenchTable.csv(of: row), ["40", "1", "2", "1", "0.5", "0.0", "", "0.25", "", "", ""])
    XCTAssertEqual(RadosBenchTable.csvHeader.count, RadosBenchTable.csv(of: row).count)
    var busy = row
    busy.secondLatency = LatencySummary(
      count: 3, minUs: 100, meanUs: 200, p50Us: 150, p90Us: 300, p99Us: 400, p999Us: 400,
      maxUs: 2500, stddevUs: 10)
    XCTAssertEqual(Array(RadosBenchTable.csv(of: busy).suffix(3)), ["0.00015", "0.0004", "0.0025"])
  }
}
