import Foundation
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

/// Everything a run takes from the process and the machine, so tests can fix it: the clock,
/// the host and pid in object names, local time for `--show-time`, the random op order of
/// `rand`, and whether the per-second table runs on its own thread.
public struct RadosBenchEnvironment: Sendable {
  public enum Reporting: Sendable {
    /// A thread prints a row each second, as rados's status thread does.
    case thread
    /// The engine prints the rows that are due each time it handles completions. With a
    /// clock the I/O advances, the whole output is deterministic (tests).
    case inline
  }

  public var clock: any RadosBenchClock
  public var hostname: String
  public var pid: Int32
  public var localTime: @Sendable () -> String
  public var randomSeed: UInt64
  public var reporting: Reporting
  /// Completions issue the next ops on the I/O threads (live runs); off, this thread issues
  /// every op, which keeps runs with a test clock deterministic.
  public var issueFromCompletions = false

  public init(
    clock: any RadosBenchClock, hostname: String, pid: Int32,
    localTime: @escaping @Sendable () -> String, randomSeed: UInt64, reporting: Reporting
  ) {
    self.clock = clock
    self.hostname = hostname
    self.pid = pid
    self.localTime = localTime
    self.randomSeed = randomSeed
    self.reporting = reporting
  }

  /// This process: Cycles clock, `gethostname`, `getpid`, local time, a random seed.
  public static func live() -> RadosBenchEnvironment {
    var environment = RadosBenchEnvironment(
      clock: RadosBenchCyclesClock(), hostname: RadosBenchNaming.currentHostname(),
      pid: getpid(), localTime: { RadosBenchNumberFormat.localTimeNow() },
      randomSeed: UInt64.random(in: 0...UInt64.max), reporting: .thread)
    environment.issueFromCompletions = true
    return environment
  }
}

/// SplitMix64: a small, seedable generator for `rand`'s op choice (rados uses `rand()`
/// seeded with the time; a seed makes a run repeatable).
struct RadosBenchRandom: RandomNumberGenerator, Sendable {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
