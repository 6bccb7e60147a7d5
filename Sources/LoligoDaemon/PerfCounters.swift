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

  public final class Latency: Sendable {
    let count = ManagedAtomic<UInt64>(0)
    let sumNanoseconds = ManagedAtomic<UInt64>(0)
    @inline(__always) public func record(nanoseconds: UInt64) {
      count.wrappingIncrement(ordering: .relaxed)
      sumNanoseconds.wrappingIncrement(by: nanoseconds, ordering: .relaxed)
    }
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
