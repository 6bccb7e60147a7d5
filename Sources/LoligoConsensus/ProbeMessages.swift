import LoligoCore
import NIOCore

/// Sent by a bootstrapping monitor to every peer (Ceph's MMonProbe OP_PROBE). Carries the
/// prober's committed range so a quorum member far behind it notices and re-bootstraps.
public struct MonProbe: Sendable, Equatable {
  public var firstCommitted: UInt64
  public var lastCommitted: UInt64
  public var hasEverJoined: Bool

  public init(firstCommitted: UInt64, lastCommitted: UInt64, hasEverJoined: Bool) {
    self.firstCommitted = firstCommitted
    self.lastCommitted = lastCommitted
    self.hasEverJoined = hasEverJoined
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(firstCommitted)
      $0.writeLE(lastCommitted)
      $0.writeBool(hasEverJoined)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("MonProbe", supported: 1) { inner, _ in
      MonProbe(
        firstCommitted: try inner.readLE(UInt64.self, "first_committed"),
        lastCommitted: try inner.readLE(UInt64.self, "last_committed"),
        hasEverJoined: try inner.readBool("has_ever_joined"))
    }
  }
}

/// Answer to a probe: the replier's quorum (empty unless it is leader or peon), its election
/// epoch and committed range. `canProvideSync` is false while the replier's own store is
/// incomplete (mid full sync), so nobody syncs from it.
public struct MonProbeReply: Sendable, Equatable {
  public var quorum: RankSet
  public var epoch: UInt64
  public var firstCommitted: UInt64
  public var lastCommitted: UInt64
  public var hasEverJoined: Bool
  public var canProvideSync: Bool

  public init(
    quorum: RankSet, epoch: UInt64, firstCommitted: UInt64, lastCommitted: UInt64,
    hasEverJoined: Bool, canProvideSync: Bool
  ) {
    self.quorum = quorum
    self.epoch = epoch
    self.firstCommitted = firstCommitted
    self.lastCommitted = lastCommitted
    self.hasEverJoined = hasEverJoined
    self.canProvideSync = canProvideSync
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(quorum.bits)
      $0.writeLE(epoch)
      $0.writeLE(firstCommitted)
      $0.writeLE(lastCommitted)
      $0.writeBool(hasEverJoined)
      $0.writeBool(canProvideSync)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("MonProbeReply", supported: 1) { inner, _ in
      MonProbeReply(
        quorum: RankSet(bits: try inner.readLE(UInt64.self, "quorum")),
        epoch: try inner.readLE(UInt64.self, "epoch"),
        firstCommitted: try inner.readLE(UInt64.self, "first_committed"),
        lastCommitted: try inner.readLE(UInt64.self, "last_committed"),
        hasEverJoined: try inner.readBool("has_ever_joined"),
        canProvideSync: try inner.readBool("can_provide_sync"))
    }
  }
}
