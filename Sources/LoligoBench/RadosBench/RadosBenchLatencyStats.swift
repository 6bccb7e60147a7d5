/// Per-op latencies: rados's min/avg/max/stddev in seconds, plus an HdrHistogram for the
/// percentiles rados does not report.
public struct RadosBenchLatencyStats: Sendable {
  public private(set) var stats = RadosBenchWelford()
  public private(set) var min = 0.0
  public private(set) var max = 0.0
  public private(set) var last = 0.0
  public private(set) var histogram = LatencyHistogram()
  /// Only the latencies since `takeSecond()` last ran: the per-second percentiles.
  private var second = LatencyHistogram()

  public init() {}

  public mutating func record(nanoseconds: UInt64) {
    let seconds = Double(nanoseconds) / 1e9
    min = stats.count == 0 ? seconds : Swift.min(min, seconds)
    max = Swift.max(max, seconds)
    last = seconds
    stats.add(seconds)
    histogram.record(nanoseconds: nanoseconds)
    second.record(nanoseconds: nanoseconds)
  }

  /// The figures of the latencies recorded since the previous call (nil when none), and a
  /// fresh start for the next second.
  public mutating func takeSecond() -> LatencySummary? {
    defer { second.reset() }
    return second.count > 0 ? second.summary() : nil
  }

  public var count: Int { stats.count }
  public var mean: Double { stats.mean }
  public var sampleStddev: Double { stats.sampleStddev }

  /// The latency at `percentile` (0...100), in seconds; 0 without samples.
  public func percentile(_ percentile: Double) -> Double {
    guard histogram.count > 0 else { return 0 }
    return Double(histogram.histogram.valueAtPercentile(percentile)) / 1e9
  }
}
