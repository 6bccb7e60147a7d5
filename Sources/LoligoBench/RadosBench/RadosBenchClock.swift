import LoligoCore

/// A monotonic clock in nanoseconds.
public protocol RadosBenchClock: Sendable {
  func now() -> UInt64
}

/// `Cycles` (the calibrated TSC, or CLOCK_MONOTONIC_RAW where the TSC is not trusted),
/// counted from the clock's creation.
public struct RadosBenchCyclesClock: RadosBenchClock {
  private let origin: UInt64

  public init() {
    Cycles.initialize()
    origin = Cycles.now()
  }

  public func now() -> UInt64 { Cycles.toNanoseconds(Cycles.now() &- origin) }
}
