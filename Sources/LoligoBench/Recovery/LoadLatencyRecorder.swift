import Foundation
import Synchronization

/// The client load's acknowledged writes, second by second: each completion adds its latency
/// here, and the recovery step takes what came in since its last look once a second, so every
/// second of the per-second CSV has its own count, bytes, mean and p99 (rados bench's table
/// has no percentiles per second).
public final class LoadLatencyRecorder: Sendable {
  public struct Interval: Sendable {
    public var latency = LatencyHistogram()
    public var bytes: UInt64 = 0

    public init() {}
  }

  private let current = Mutex(Interval())

  public init() {}

  public func record(nanoseconds: UInt64, bytes: Int) {
    current.withLock {
      $0.latency.record(nanoseconds: nanoseconds)
      $0.bytes += UInt64(bytes)
    }
  }

  /// What was recorded since the last call.
  public func take() -> Interval {
    // The new histogram is made outside the lock: it allocates its counts.
    var fresh = Interval()
    current.withLock { swap(&$0, &fresh) }
    return fresh
  }
}
