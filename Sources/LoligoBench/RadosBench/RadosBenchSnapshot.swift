/// The engine's counters at one instant, as the per-second table reads them.
public struct RadosBenchSnapshot: Sendable, Equatable {
  public var started: UInt64 = 0
  public var finished: UInt64 = 0
  public var inFlight = 0
  /// Seconds; the latest completion's latency.
  public var lastLatency = 0.0
  public var avgLatency = 0.0
  public var minLatency = 0.0
  public var maxLatency = 0.0
  /// The ops finished since the previous snapshot; nil when none did.
  public var secondLatency: LatencySummary?

  public init() {}
}
