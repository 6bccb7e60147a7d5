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
