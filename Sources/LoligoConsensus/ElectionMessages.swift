import LoligoCore
import NIOCore

/// Classic-strategy election messages (Ceph's MMonElection ops propose, ack and victory).
/// `epoch` is the sender's election epoch: odd while electing, even once a leader won.
public struct ElectionPropose: Sendable, Equatable, CephCodable {
  public var epoch: UInt64

  public init(epoch: UInt64) { self.epoch = epoch }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) { $0.writeLE(epoch) }
  }

  public init(from buffer: inout ByteBuffer) throws {
    epoch = try buffer.readVersioned("ElectionPropose", supported: 1) { inner, _ in
      try inner.readLE(UInt64.self, "epoch")
    }
  }
}

/// "I defer to you in `epoch`" — sent to the proposer a monitor backs.
public struct ElectionAck: Sendable, Equatable, CephCodable {
  public var epoch: UInt64

  public init(epoch: UInt64) { self.epoch = epoch }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) { $0.writeLE(epoch) }
  }

  public init(from buffer: inout ByteBuffer) throws {
    epoch = try buffer.readVersioned("ElectionAck", supported: 1) { inner, _ in
      try inner.readLE(UInt64.self, "epoch")
    }
  }
}

/// The winner's announcement to the monitors that acked it; `epoch` is the new, even epoch.
public struct ElectionVictory: Sendable, Equatable, CephCodable {
  public var epoch: UInt64
  public var quorum: RankSet

  public init(epoch: UInt64, quorum: RankSet) {
    self.epoch = epoch
    self.quorum = quorum
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(epoch)
      $0.writeLE(quorum.bits)
    }
  }

  public init(from buffer: inout ByteBuffer) throws {
    (epoch, quorum) = try buffer.readVersioned("ElectionVictory", supported: 1) { inner, _ in
      (
        try inner.readLE(UInt64.self, "epoch"),
        RankSet(bits: try inner.readLE(UInt64.self, "quorum"))
      )
    }
  }
}
