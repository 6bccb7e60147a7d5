/// One row of the per-second table.
public struct RadosBenchRow: Sendable, Equatable {
  public var sec: Int
  public var curOps: Int
  public var started: UInt64
  public var finished: UInt64
  /// MiB/s since the start.
  public var avgBandwidth: Double
  /// MiB/s since the previous row with progress; nil when nothing finished since the previous
  /// row (rados prints `0` and `-` then).
  public var curBandwidth: Double?
  /// Seconds; nil when nothing finished since the previous row.
  public var lastLatency: Double?
  public var avgLatency: Double
  public var minLatency: Double
  public var maxLatency: Double
  /// Local time of the row (`--show-time` prefix, the every-20-rows latency line).
  public var time: String
  /// Percentiles of the ops finished in this row's second (nil: none finished).
  public var secondLatency: LatencySummary? = nil
}
