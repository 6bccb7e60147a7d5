/// Running mean and variance by Welford's method (as rados keeps them since it dropped its
/// history vectors): numerically stable, constant memory, one pass.
public struct RadosBenchWelford: Sendable, Equatable {
  public private(set) var count = 0
  public private(set) var mean = 0.0
  /// Sum of squared differences from the running mean (rados's `diff_sum`).
  public private(set) var m2 = 0.0

  public init() {}

  public mutating func add(_ value: Double) {
    count += 1
    let delta = value - mean
    mean += delta / Double(count)
    m2 += delta * (value - mean)
  }

  /// Sample standard deviation, `sqrt(M2 / (n - 1))`; 0 for fewer than two values.
  public var sampleStddev: Double {
    count > 1 ? (m2 / Double(count - 1)).squareRoot() : 0
  }
}

/// One per-second series (bandwidth or IOPS): mean and stddev with min and max.
public struct RadosBenchSeries: Sendable, Equatable {
  public private(set) var stats = RadosBenchWelford()
  public private(set) var min = Double.infinity
  public private(set) var max = -Double.infinity

  public init() {}

  public mutating func add(_ value: Double) {
    stats.add(value)
    min = Swift.min(min, value)
    max = Swift.max(max, value)
  }

  public var count: Int { stats.count }
  public var isEmpty: Bool { stats.count == 0 }
}

/// Per-op latencies: rados's min/avg/max/stddev in seconds, plus an HdrHistogram for the
/// percentiles rados does not report.
public struct RadosBenchLatencyStats: Sendable {
  public private(set) var stats = RadosBenchWelford()
  public private(set) var min = 0.0
  public private(set) var max = 0.0
  public private(set) var last = 0.0
  public private(set) var histogram = LatencyHistogram()

  public init() {}

  public mutating func record(nanoseconds: UInt64) {
    let seconds = Double(nanoseconds) / 1e9
    min = stats.count == 0 ? seconds : Swift.min(min, seconds)
    max = Swift.max(max, seconds)
    last = seconds
    stats.add(seconds)
    histogram.record(nanoseconds: nanoseconds)
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
