import Atomics

/// What a messenger has carried, for the daemons' metrics: bytes and frames each way, and
/// reconnect attempts. Sessions add once per read or write batch, not per frame, so the shared
/// atomics stay off the per-message path.
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
