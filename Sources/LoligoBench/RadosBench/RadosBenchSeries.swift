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
