import Foundation

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
