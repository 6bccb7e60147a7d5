import CLoligoSys
import Foundation

/// Time measured in CPU time-stamp-counter cycles, the way Ceph's `Cycles` does it.
///
/// The counter is read by a C shim (`rdtsc` on x86_64, `cntvct_el0` on aarch64) that Swift
/// inlines. On x86 the tick rate is calibrated once, against `CLOCK_MONOTONIC_RAW`, in windows of
/// 10 ms until two consecutive estimates agree within 0.1 %. The TSC is only trusted when the CPU
/// says it is invariant (`constant_tsc` and `nonstop_tsc`); otherwise — or when
/// `LOLIGO_CLOCK=monotonic` is set — every reading comes from `CLOCK_MONOTONIC_RAW` in
/// nanoseconds and `Cycles.source` says so, so results can report which clock they used.
public enum Cycles {
  public enum Source: String, Sendable, Codable {
    /// The invariant time-stamp counter (or the aarch64 virtual counter).
    case tsc
    /// `CLOCK_MONOTONIC_RAW`, one "cycle" per nanosecond.
    case monotonic
  }

  public struct Calibration: Sendable, Codable, Equatable {
    public var source: Source
    /// Counter ticks per second (1e9 for the monotonic fallback).
    public var cyclesPerSecond: Double
    /// Number of 10 ms windows the calibration needed.
    public var windows: Int
    /// Why the TSC was not used, when it was not.
    public var fallbackReason: String?

    public var description: String {
      switch source {
      case .tsc:
        return "tsc \(formatHz(cyclesPerSecond)) (calibrated in \(windows) windows)"
      case .monotonic:
        return "CLOCK_MONOTONIC_RAW (\(fallbackReason ?? "fallback"))"
      }
    }
  }

  /// The process-wide calibration, computed on first use (about 20–30 ms).
  public static let calibration: Calibration = calibrate(environment: currentEnvironment())

  /// The clock's source, fixed for the life of the process.
  public static var source: Source { calibration.source }
  public static var cyclesPerSecond: Double { calibration.cyclesPerSecond }

  /// Calibrates now if not done yet; returns the result. Call at start so it is not timed.
  @discardableResult
  public static func initialize() -> Calibration { calibration }

  /// The current counter value. Compare readings with `&-` (wrapping).
  @inline(__always)
  public static func now() -> UInt64 {
    useTSC ? loligo_rdtsc() : loligo_monotonic_raw_ns()
  }

  private static let useTSC: Bool = calibration.source == .tsc

  public static func toSeconds(_ cycles: UInt64) -> Double {
    Double(cycles) / cyclesPerSecond
  }

  public static func toNanoseconds(_ cycles: UInt64) -> UInt64 {
    UInt64(1e9 * Double(cycles) / cyclesPerSecond + 0.5)
  }

  /// Truncating, as Ceph's `to_microseconds` (nanoseconds / 1000).
  public static func toMicroseconds(_ cycles: UInt64) -> UInt64 {
    toNanoseconds(cycles) / 1000
  }

  public static func fromNanoseconds(_ ns: UInt64) -> UInt64 {
    UInt64(Double(ns) * cyclesPerSecond / 1e9 + 0.5)
  }

  public static func fromSeconds(_ s: Double) -> UInt64 {
    UInt64(s * cyclesPerSecond + 0.5)
  }

  /// Busy-waits for `microseconds` on the counter (avoids the sleep states `usleep` enters).
  public static func spin(microseconds: UInt64) {
    let until = now() &+ fromNanoseconds(microseconds * 1000)
    while Int64(bitPattern: until &- now()) > 0 {}
  }

  // MARK: calibration

  struct Environment {
    var cpuFlags: Set<String>?
    var forceMonotonic: Bool
    var counterFrequency: UInt64
  }

  static func currentEnvironment() -> Environment {
    let forced = getenv("LOLIGO_CLOCK").map { String(cString: $0) == "monotonic" } ?? false
    return Environment(
      cpuFlags: readCPUFlags(), forceMonotonic: forced,
      counterFrequency: loligo_counter_frequency())
  }

  static func calibrate(environment env: Environment) -> Calibration {
    if env.forceMonotonic {
      return fallback("LOLIGO_CLOCK=monotonic")
    }
    if loligo_rdtsc() == 0 {
      return fallback("no cycle counter on this architecture")
    }
    if env.counterFrequency > 0 {
      // aarch64: the generic timer is invariant by specification and states its frequency.
      return Calibration(
        source: .tsc, cyclesPerSecond: Double(env.counterFrequency), windows: 0,
        fallbackReason: nil)
    }
    guard let flags = env.cpuFlags else {
      return fallback("cannot read /proc/cpuinfo to check for an invariant TSC")
    }
    let missing = ["constant_tsc", "nonstop_tsc"].filter { !flags.contains($0) }
    if !missing.isEmpty {
      return fallback("TSC not invariant: cpu lacks \(missing.joined(separator: ", "))")
    }
    var previous = 0.0
    for window in 1...200 {
      let cps = measureWindow(nanoseconds: 10_000_000)
      if previous > 0, abs(previous - cps) < cps / 1000 {
        return Calibration(source: .tsc, cyclesPerSecond: cps, windows: window, fallbackReason: nil)
      }
      previous = cps
    }
    return fallback("TSC calibration did not converge in 200 windows")
  }

  /// One calibration window: counter ticks over at least `nanoseconds` of monotonic time.
  static func measureWindow(nanoseconds: UInt64) -> Double {
    let startNs = loligo_monotonic_raw_ns()
    let startTicks = loligo_rdtsc()
    var ns: UInt64
    var ticks: UInt64
    repeat {
      ns = loligo_monotonic_raw_ns()
      ticks = loligo_rdtsc()
    } while ns &- startNs <= nanoseconds
    return Double(ticks &- startTicks) * 1e9 / Double(ns &- startNs)
  }

  private static func fallback(_ reason: String) -> Calibration {
    Calibration(source: .monotonic, cyclesPerSecond: 1e9, windows: 0, fallbackReason: reason)
  }

  static func readCPUFlags() -> Set<String>? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else {
      return nil
    }
    return parseCPUFlags(text)
  }

  /// The `flags` line of the first processor in /proc/cpuinfo text.
  static func parseCPUFlags(_ cpuinfo: String) -> Set<String>? {
    for line in cpuinfo.split(separator: "\n") where line.hasPrefix("flags") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }
    return nil
  }
}

func formatHz(_ hz: Double) -> String {
  hz >= 1e9 ? String(format: "%.6f GHz", hz / 1e9) : String(format: "%.3f MHz", hz / 1e6)
}
