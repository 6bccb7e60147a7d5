import Histogram

/// Latencies in nanoseconds, recorded into an HdrHistogram (3 significant digits, 1 ns to
/// 100 s), so percentiles stay exact to 0.1 % at any count with fixed memory.
public struct LatencyHistogram: Sendable {
  public private(set) var histogram = Histogram<UInt64>(
    lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000,
    numberOfSignificantValueDigits: .three)
  public private(set) var sum: Double = 0

  public init() {}

  @inline(__always)
  public mutating func record(nanoseconds: UInt64) {
    _ = histogram.record(min(max(nanoseconds, 1), 100_000_000_000))
    sum += Double(nanoseconds)
  }

  public mutating func add(_ other: LatencyHistogram) {
    histogram.add(other.histogram)
    sum += other.sum
  }

  public var count: UInt64 { histogram.totalCount }

  /// Back to no samples, keeping the memory.
  public mutating func reset() {
    histogram.reset()
    sum = 0
  }

  /// HdrHistogram's compressed base64 form (`HdrHistogramEncoding`), what results store.
  public var encoded: String { HdrHistogramEncoding.encode(histogram) }

  /// A histogram read back from its compressed base64 form, every count as it was. The exact
  /// sum of the samples is not in the encoding: the mean becomes the histogram's own (each
  /// sample at its bucket's middle), within the 0.1 % resolution.
  public init(encoded: String) throws(HdrHistogramDecodingError) {
    histogram = try HdrHistogramEncoding.decode(encoded)
    sum = histogram.mean * Double(histogram.totalCount)
  }

  /// Why two histograms cannot be merged exactly.
  public enum MergeError: Error, Equatable {
    /// Different lowest, highest or significant digits: buckets do not line up.
    case differentLayouts
    /// More than 2^64 - 1 samples together.
    case countOverflow
  }

  /// One histogram holding both sets of samples, count for count (e.g. several clients'
  /// results, decoded). Only histograms with the same layout merge: re-bucketing would not be
  /// exact.
  public func merging(_ other: LatencyHistogram) throws(MergeError) -> LatencyHistogram {
    guard histogram.lowestDiscernibleValue == other.histogram.lowestDiscernibleValue,
      histogram.highestTrackableValue == other.histogram.highestTrackableValue,
      histogram.numberOfSignificantValueDigits == other.histogram.numberOfSignificantValueDigits
    else { throw .differentLayouts }
    guard !count.addingReportingOverflow(other.count).overflow else { throw .countOverflow }
    var merged = self
    merged.add(other)
    return merged
  }

  public func summary() -> LatencySummary {
    guard count > 0 else { return LatencySummary() }
    func us(_ ns: UInt64) -> Double { Double(ns) / 1000 }
    return LatencySummary(
      count: count,
      minUs: us(histogram.min), meanUs: sum / Double(count) / 1000,
      p50Us: us(histogram.valueAtPercentile(50)), p90Us: us(histogram.valueAtPercentile(90)),
      p99Us: us(histogram.valueAtPercentile(99)), p999Us: us(histogram.valueAtPercentile(99.9)),
      maxUs: us(histogram.max), stddevUs: histogram.stdDeviation / 1000)
  }
}

/// Latency figures in microseconds, as results report them.
public struct LatencySummary: Codable, Sendable, Equatable {
  public var count: UInt64 = 0
  public var minUs: Double = 0
  public var meanUs: Double = 0
  public var p50Us: Double = 0
  public var p90Us: Double = 0
  public var p99Us: Double = 0
  public var p999Us: Double = 0
  public var maxUs: Double = 0
  public var stddevUs: Double = 0

  public init() {}

  public init(
    count: UInt64, minUs: Double, meanUs: Double, p50Us: Double, p90Us: Double, p99Us: Double,
    p999Us: Double, maxUs: Double, stddevUs: Double
  ) {
    self.count = count
    self.minUs = minUs
    self.meanUs = meanUs
    self.p50Us = p50Us
    self.p90Us = p90Us
    self.p99Us = p99Us
    self.p999Us = p999Us
    self.maxUs = maxUs
    self.stddevUs = stddevUs
  }

  enum CodingKeys: String, CodingKey {
    case count
    case minUs = "min_us"
    case meanUs = "mean_us"
    case p50Us = "p50_us"
    case p90Us = "p90_us"
    case p99Us = "p99_us"
    case p999Us = "p99_9_us"
    case maxUs = "max_us"
    case stddevUs = "stddev_us"
  }
}
