import Foundation

/// Loligo's versioned result of one bench run (schema `loligo.rados-bench/2`), written with
/// `--results DIR` (or `--result-dir`) through `ResultsWriter` beside a per-second CSV. Unlike
/// rados's `--format json`, it says where and how it was measured (`RunEnvironment`) and gives
/// latency percentiles and the whole latency HdrHistogram (compressed base64), so runs can be
/// merged and re-analysed. Version 1 had no histogram; it still decodes (`latencyHistogram`
/// nil).
public struct RadosBenchResult: Codable, Sendable {
  public struct Parameters: Codable, Sendable {
    public var mode: RadosBenchMode
    public var pool: String?
    public var seconds: Int
    public var concurrentIOs: Int
    public var opSize: UInt64
    public var objectSize: UInt64
    public var maxObjects: UInt64
    public var runName: String
    public var objectPrefix: String
    public var verify: Bool
    public var cleanup: Bool

    enum CodingKeys: String, CodingKey {
      case mode, pool, seconds, verify, cleanup
      case concurrentIOs = "concurrent_ios"
      case opSize = "op_size"
      case objectSize = "object_size"
      case maxObjects = "max_objects"
      case runName = "run_name"
      case objectPrefix = "object_prefix"
    }
  }

  public struct Totals: Codable, Sendable {
    public var totalTimeSeconds: Double
    public var ops: UInt64
    public var bytes: UInt64
    public var bandwidthMiBPerSecond: Double
    public var stddevBandwidth: Double
    public var maxBandwidth: Double
    public var minBandwidth: Double
    /// Ops over the whole run, unrounded (rados prints it truncated).
    public var iops: Double
    public var stddevIOPS: Double
    public var maxIOPS: Int
    public var minIOPS: Int
    /// rados's latency figures, seconds.
    public var averageLatencySeconds: Double
    public var stddevLatencySeconds: Double
    public var maxLatencySeconds: Double
    public var minLatencySeconds: Double
    /// From the HdrHistogram, microseconds.
    public var latency: LatencySummary
    /// Every op's latency in nanoseconds, HdrHistogram's compressed base64 form
    /// (`LatencyHistogram(encoded:)` reads it back); nil in version 1 results.
    public var latencyHistogram: String?
    public var mismatches: Int

    enum CodingKeys: String, CodingKey {
      case ops, bytes, iops, latency, mismatches
      case totalTimeSeconds = "total_time_s"
      case bandwidthMiBPerSecond = "bandwidth_mib_s"
      case stddevBandwidth = "stddev_bandwidth_mib_s"
      case maxBandwidth = "max_bandwidth_mib_s"
      case minBandwidth = "min_bandwidth_mib_s"
      case stddevIOPS = "stddev_iops"
      case maxIOPS = "max_iops"
      case minIOPS = "min_iops"
      case latencyHistogram = "latency_histogram_ns"
      case averageLatencySeconds = "average_latency_s"
      case stddevLatencySeconds = "stddev_latency_s"
      case maxLatencySeconds = "max_latency_s"
      case minLatencySeconds = "min_latency_s"
    }
  }

  public static let schema = "loligo.rados-bench/2"
  public var schema = Self.schema
  public var tool = "loligo bench"
  public var name: String
  public var environment: RunEnvironment
  public var parameters: Parameters
  public var result: Totals
  public var perSecondCSV: String?

  enum CodingKeys: String, CodingKey {
    case schema, tool, name, environment, parameters, result
    case perSecondCSV = "per_second_csv"
  }

  /// Writes `result.json` and `per-second.csv` where `location` says; returns the JSON's path.
  static func write(
    _ location: ResultsLocation, parameters: Parameters, summary: RadosBenchSummary,
    latency: RadosBenchLatencyStats, rows: [RadosBenchRow]
  ) throws -> String {
    let name = "rados-bench-\(parameters.mode.rawValue)-\(parameters.opSize)"
    let writer = try ResultsWriter(location, name: name)
    let totals = Totals(
      totalTimeSeconds: summary.totalTime, ops: summary.ops,
      bytes: summary.ops * summary.opSize, bandwidthMiBPerSecond: summary.bandwidth,
      stddevBandwidth: summary.stddevBandwidth, maxBandwidth: summary.maxBandwidth,
      minBandwidth: summary.minBandwidth,
      iops: summary.totalTime > 0 ? Double(summary.ops) / summary.totalTime : 0,
      stddevIOPS: summary.stddevIOPS, maxIOPS: summary.maxIOPS, minIOPS: summary.minIOPS,
      averageLatencySeconds: summary.averageLatency,
      stddevLatencySeconds: summary.stddevLatency, maxLatencySeconds: summary.maxLatency,
      minLatencySeconds: summary.minLatency, latency: latency.histogram.summary(),
      latencyHistogram: latency.histogram.encoded, mismatches: summary.mismatches)
    let document = RadosBenchResult(
      name: name, environment: RunEnvironment.current(), parameters: parameters,
      result: totals, perSecondCSV: writer.csvURL.lastPathComponent)
    try writer.write(json: document)
    try writer.write(csvHeader: RadosBenchTable.csvHeader, rows: rows.map(RadosBenchTable.csv))
    return writer.jsonURL.path
  }
}
