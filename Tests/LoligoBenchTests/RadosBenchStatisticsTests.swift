import XCTest

@testable import LoligoBench

/// Welford's running statistics against the two-pass formulas, and the latency figures.
final class RadosBenchStatisticsTests: XCTestCase {
  func testWelfordMatchesTwoPassSampleStatistics() {
    let values: [Double] = [12, 15, 9, 30, 0, 21, 21, 8, 1e6 + 3, 1e6 + 5]
    var welford = RadosBenchWelford()
    for value in values { welford.add(value) }
    let mean = values.reduce(0, +) / Double(values.count)
    let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
    XCTAssertEqual(welford.count, values.count)
    XCTAssertEqual(welford.mean, mean, accuracy: 1e-9)
    XCTAssertEqual(welford.sampleStddev, variance.squareRoot(), accuracy: 1e-6)
  }

  func testStddevOfFewValuesIsZero() {
    var welford = RadosBenchWelford()
    XCTAssertEqual(welford.sampleStddev, 0)
    welford.add(5)
    XCTAssertEqual(welford.sampleStddev, 0)
    welford.add(7)
    XCTAssertEqual(welford.sampleStddev, 2.0.squareRoot(), accuracy: 1e-12)
  }

  func testStableForLargeEqualValues() {
    var welford = RadosBenchWelford()
    for _ in 0..<100_000 { welford.add(123_456_789.125) }
    XCTAssertEqual(welford.sampleStddev, 0)
    XCTAssertEqual(welford.mean, 123_456_789.125)
  }

  func testSeries() {
    var series = RadosBenchSeries()
    XCTAssertTrue(series.isEmpty)
    for value in [3.0, 1, 2] { series.add(value) }
    XCTAssertEqual(series.min, 1)
    XCTAssertEqual(series.max, 3)
    XCTAssertEqual(series.stats.mean, 2)
  }

  func testLatencyStatistics() {
    var latency = RadosBenchLatencyStats()
    XCTAssertEqual(latency.percentile(99), 0)
    for ms in 1...1000 { latency.record(nanoseconds: UInt64(ms) * 1_000_000) }
    XCTAssertEqual(latency.count, 1000)
    XCTAssertEqual(latency.min, 0.001)
    XCTAssertEqual(latency.max, 1.0)
    XCTAssertEqual(latency.last, 1.0)
    XCTAssertEqual(latency.mean, 0.5005, accuracy: 1e-12)
    XCTAssertEqual(latency.percentile(50), 0.5, accuracy: 0.5 * 0.001)
    XCTAssertEqual(latency.percentile(99), 0.99, accuracy: 0.99 * 0.001)
    XCTAssertEqual(latency.percentile(99.9), 0.999, accuracy: 0.999 * 0.001)
  }
}
