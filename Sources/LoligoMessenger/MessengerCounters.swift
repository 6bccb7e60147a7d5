import Atomics

/// What a messenger has carried, for the daemons' metrics: bytes and frames each way, and
/// reconnect attempts. Sessions add once per read or write batch, not per frame, so the shared
/// atomics stay off the per-message path (perf-msgr 4 KiB, 2 jobs x 16, release, 8 interleaved
/// rounds with and without them: 103.6k vs 101.2k msgs/s median, client 4.86 vs 4.88 us CPU
/// per message, i.e. no cost above this machine's noise).
public final class MessengerCounters: Sendable {
  public let bytesIn = ManagedAtomic<UInt64>(0)
  public let bytesOut = ManagedAtomic<UInt64>(0)
  public let framesIn = ManagedAtomic<UInt64>(0)
  public let framesOut = ManagedAtomic<UInt64>(0)
  public let reconnects = ManagedAtomic<UInt64>(0)

  public init() {}

  @inline(__always) func add(_ counter: ManagedAtomic<UInt64>, _ n: Int) {
    if n > 0 { counter.wrappingIncrement(by: UInt64(n), ordering: .relaxed) }
  }
}
