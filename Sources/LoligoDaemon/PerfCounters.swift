import Atomics
import Foundation
import NIOConcurrencyHelpers

/// A daemon's performance counters, dumped as JSON by `loligo daemon NAME perf dump`:
/// monotonically increasing counts and latency averages (sum and count, like Ceph's
/// `avgcount`/`sum`), grouped by section (`osd`, `mon`, `msgr`). Updates are lock-free.
// the maps under `lock`; the counters are atomics
public final class PerfCounters: @unchecked Sendable {
  public final class Counter: Sendable {
    let value = ManagedAtomic<UInt64>(0)
    @inline(__always) public func add(_ n: UInt64 = 1) {
      value.wrappingIncrement(by: n, ordering: .relaxed)
    }
    public var current: UInt64 { value.load(ordering: .relaxed) }
  }

  /// A latency: count and sum, and a count per bucket of `bucketBounds` (plus one beyond the
  /// last) for the Prometheus histogram.
  public final class Latency: Sendable {
    /// Upper bounds in nanoseconds, 50 us to 10 s, roughly 1-2.5-5 per decade: storage op
    /// latencies here run from tens of microseconds (memstore) to seconds (recovery, fsync).
    public static let bucketBounds: [UInt64] = [
      50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000,
      50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000, 2_500_000_000,
      5_000_000_000, 10_000_000_000,
    ]
    let count = ManagedAtomic<UInt64>(0)
    let sumNanoseconds = ManagedAtomic<UInt64>(0)
    let buckets = (0...Latency.bucketBounds.count).map { _ in ManagedAtomic<UInt64>(0) }
    @inline(__always) public func record(nanoseconds: UInt64) {
      count.wrappingIncrement(ordering: .relaxed)
      sumNanoseconds.wrappingIncrement(by: nanoseconds, ordering: .relaxed)
      var index = 0
      while index < Latency.bucketBounds.count && nanoseconds > Latency.bucketBounds[index] {
        index += 1
      }
      buckets[index].wrappingIncrement(ordering: .relaxed)
    }
    /// Observations per bucket (not cumulative), the last beyond every bound.
    public var bucketCounts: [UInt64] { buckets.map { $0.load(ordering: .relaxed) } }
    public var sumSeconds: Double { Double(sumNanoseconds.load(ordering: .relaxed)) / 1e9 }
  }

  private let lock = NIOLock()
  private var counters: [String: [String: Counter]] = [:]
  private var latencies: [String: [String: Latency]] = [:]

  public init() {}

  public func counter(_ section: String, _ name: String) -> Counter {
    lock.withLock {
      if let existing = counters[section]?[name] { return existing }
      let counter = Counter()
      counters[section, default: [:]][name] = counter
      return counter
    }
  }

  public func latency(_ section: String, _ name: String) -> Latency {
    lock.withLock {
      if let existing = latencies[section]?[name] { return existing }
      let latency = Latency()
      latencies[section, default: [:]][name] = latency
      return latency
    }
  }

  /// Every counter and latency by section and name, sorted (for the Prometheus exposition).
  public func snapshot() -> (
    counters: [(section: String, name: String, value: UInt64)],
    latencies: [(section: String, name: String, latency: Latency)]
  ) {
    lock.withLock {
      let counted = counters.flatMap { section, values in
        values.map { (section: section, name: $0.key, value: $0.value.current) }
      }
      let timed = latencies.flatMap { section, values in
        values.map { (section: section, name: $0.key, latency: $0.value) }
      }
      return (
        counted.sorted { ($0.section, $0.name) < ($1.section, $1.name) },
        timed.sorted { ($0.section, $0.name) < ($1.section, $1.name) }
      )
    }
  }

  /// `{"osd": {"op": 12, "op_latency": {"avgcount": 12, "sum": 0.0031, "avgtime": 0.00026}}}`
  public func dump() -> [String: Any] {
    lock.withLock {
      var result: [String: [String: Any]] = [:]
      for (section, values) in counters {
        for (name, counter) in values { result[section, default: [:]][name] = counter.current }
      }
      for (section, values) in latencies {
        for (name, latency) in values {
          let count = latency.count.load(ordering: .relaxed)
          let sum = Double(latency.sumNanoseconds.load(ordering: .relaxed)) / 1e9
          result[section, default: [:]][name] = [
            "avgcount": count, "sum": sum, "avgtime": count > 0 ? sum / Double(count) : 0,
          ]
        }
      }
      return result
    }
  }
}
