import LoligoCore
import NIOCore

/// One paxos version and its value bytes.
public struct VersionedValue: Sendable, Equatable {
  public var version: UInt64
  public var value: ByteBuffer

  public init(version: UInt64, value: ByteBuffer) {
    self.version = version
    self.value = value
  }
}

extension ByteBuffer {
  mutating func writeVersionedValues(_ values: [VersionedValue]) {
    writeArray(values) { buffer, item in
      buffer.writeLE(item.version)
      buffer.writeBlob(item.value)
    }
  }

  mutating func readVersionedValues(limits: MonDecodeLimits) throws -> [VersionedValue] {
    var total = 0
    return try readArray(limit: limits.maxEntries, minimumElementSize: 12, "values") { inner in
      let version: UInt64 = try inner.readLE(UInt64.self, "value version")
      let value = try inner.readBlob(limit: limits.maxValueBytes, "value")
      total += value.readableBytes
      if total > limits.maxPayloadBytes {
        throw DecodeError.oversized(field: "values", length: total, limit: limits.maxPayloadBytes)
      }
      return VersionedValue(version: version, value: value)
    }
  }
}

/// Leader → peon, recovery phase 1: "promise `pn`; here is my committed range".
public struct PaxosCollect: Sendable, Equatable {
  public var epoch: UInt64
  public var pn: UInt64
  public var firstCommitted: UInt64
  public var lastCommitted: UInt64

  public init(epoch: UInt64, pn: UInt64, firstCommitted: UInt64, lastCommitted: UInt64) {
    self.epoch = epoch
    self.pn = pn
    self.firstCommitted = firstCommitted
    self.lastCommitted = lastCommitted
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(epoch)
      $0.writeLE(pn)
      $0.writeLE(firstCommitted)
      $0.writeLE(lastCommitted)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("PaxosCollect", supported: 1) { inner, _ in
      PaxosCollect(
        epoch: try inner.readLE(UInt64.self, "epoch"), pn: try inner.readLE(UInt64.self, "pn"),
        firstCommitted: try inner.readLE(UInt64.self, "first_committed"),
        lastCommitted: try inner.readLE(UInt64.self, "last_committed"))
    }
  }
}

/// Peon → leader, answer to a collect: the pn it has promised (the collect's if it was higher),
/// committed values the leader lacks, and its accepted-but-uncommitted value with the pn it
/// was accepted under (`uncommittedPN` 0: none).
public struct PaxosLast: Sendable, Equatable {
  public var epoch: UInt64
  public var pn: UInt64
  public var firstCommitted: UInt64
  public var lastCommitted: UInt64
  public var values: [VersionedValue]
  public var uncommittedPN: UInt64
  public var uncommittedValue: ByteBuffer?

  public init(
    epoch: UInt64, pn: UInt64, firstCommitted: UInt64, lastCommitted: UInt64,
    values: [VersionedValue] = [], uncommittedPN: UInt64 = 0, uncommittedValue: ByteBuffer? = nil
  ) {
    self.epoch = epoch
    self.pn = pn
    self.firstCommitted = firstCommitted
    self.lastCommitted = lastCommitted
    self.values = values
    self.uncommittedPN = uncommittedPN
    self.uncommittedValue = uncommittedValue
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(epoch)
      $0.writeLE(pn)
      $0.writeLE(firstCommitted)
      $0.writeLE(lastCommitted)
      $0.writeVersionedValues(values)
      $0.writeLE(uncommittedPN)
      $0.writeBool(uncommittedValue != nil)
      if let uncommittedValue { $0.writeBlob(uncommittedValue) }
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("PaxosLast", supported: 1) { inner, _ in
      var last = PaxosLast(
        epoch: try inner.readLE(UInt64.self, "epoch"), pn: try inner.readLE(UInt64.self, "pn"),
        firstCommitted: try inner.readLE(UInt64.self, "first_committed"),
        lastCommitted: try inner.readLE(UInt64.self, "last_committed"))
      last.values = try inner.readVersionedValues(limits: limits)
      last.uncommittedPN = try inner.readLE(UInt64.self, "uncommitted_pn")
      if try inner.readBool("has uncommitted") {
        last.uncommittedValue = try inner.readBlob(limit: limits.maxValueBytes, "uncommitted")
      }
      return last
    }
  }
}

/// Leader → peon, phase 2: "accept `value` as version `lastCommitted + 1` under `pn`". It also
/// tells the peon that `lastCommitted` is committed (see `Paxos.handleBegin`).
public struct PaxosBegin: Sendable, Equatable {
  public var epoch: UInt64
  public var pn: UInt64
  public var lastCommitted: UInt64
  public var value: ByteBuffer

  public init(epoch: UInt64, pn: UInt64, lastCommitted: UInt64, value: ByteBuffer) {
    self.epoch = epoch
    self.pn = pn
    self.lastCommitted = lastCommitted
    self.value = value
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(epoch)
      $0.writeLE(pn)
      $0.writeLE(lastCommitted)
      $0.writeBlob(value)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("PaxosBegin", supported: 1) { inner, _ in
      PaxosBegin(
        epoch: try inner.readLE(UInt64.self, "epoch"), pn: try inner.readLE(UInt64.self, "pn"),
        lastCommitted: try inner.readLE(UInt64.self, "last_committed"),
        value: try inner.readBlob(limit: limits.maxValueBytes, "value"))
    }
  }
}

/// Peon → leader: "I accepted version `lastCommitted + 1` under `pn`".
public struct PaxosAccept: Sendable, Equatable {
  public var epoch: UInt64
  public var pn: UInt64
  public var lastCommitted: UInt64

  public init(epoch: UInt64, pn: UInt64, lastCommitted: UInt64) {
    self.epoch = epoch
    self.pn = pn
    self.lastCommitted = lastCommitted
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(epoch)
      $0.writeLE(pn)
      $0.writeLE(lastCommitted)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("PaxosAccept", supported: 1) { inner, _ in
      PaxosAccept(
        epoch: try inner.readLE(UInt64.self, "epoch"), pn: try inner.readLE(UInt64.self, "pn"),
        lastCommitted: try inner.readLE(UInt64.self, "last_committed"))
    }
  }
}

/// Leader → peon: versions up to `lastCommitted` are committed. `values` carries committed
/// versions the peon lacks (recovery); without them the peon commits the value it accepted
/// for `lastCommitted` under `pn`. A non-zero `leaseDuration` doubles as a lease.
public struct PaxosCommit: Sendable, Equatable {
  public var epoch: UInt64
  public var pn: UInt64
  public var lastCommitted: UInt64
  public var values: [VersionedValue]
  public var leaseDuration: UInt64

  public init(
    epoch: UInt64, pn: UInt64, lastCommitted: UInt64, values: [VersionedValue] = [],
    leaseDuration: UInt64 = 0
  ) {
    self.epoch = epoch
    self.pn = pn
    self.lastCommitted = lastCommitted
    self.values = values
    self.leaseDuration = leaseDuration
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(epoch)
      $0.writeLE(pn)
      $0.writeLE(lastCommitted)
      $0.writeVersionedValues(values)
      $0.writeLE(leaseDuration)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("PaxosCommit", supported: 1) { inner, _ in
      PaxosCommit(
        epoch: try inner.readLE(UInt64.self, "epoch"), pn: try inner.readLE(UInt64.self, "pn"),
        lastCommitted: try inner.readLE(UInt64.self, "last_committed"),
        values: try inner.readVersionedValues(limits: limits),
        leaseDuration: try inner.readLE(UInt64.self, "lease_duration"))
    }
  }
}

/// Leader → peon: "you may serve reads of `lastCommitted` for `duration` nanoseconds from
/// receipt". A duration, not a timestamp, because monitors share no clock.
public struct PaxosLease: Sendable, Equatable {
  public var epoch: UInt64
  public var firstCommitted: UInt64
  public var lastCommitted: UInt64
  public var duration: UInt64

  public init(epoch: UInt64, firstCommitted: UInt64, lastCommitted: UInt64, duration: UInt64) {
    self.epoch = epoch
    self.firstCommitted = firstCommitted
    self.lastCommitted = lastCommitted
    self.duration = duration
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(epoch)
      $0.writeLE(firstCommitted)
      $0.writeLE(lastCommitted)
      $0.writeLE(duration)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("PaxosLease", supported: 1) { inner, _ in
      PaxosLease(
        epoch: try inner.readLE(UInt64.self, "epoch"),
        firstCommitted: try inner.readLE(UInt64.self, "first_committed"),
        lastCommitted: try inner.readLE(UInt64.self, "last_committed"),
        duration: try inner.readLE(UInt64.self, "duration"))
    }
  }
}

/// Peon → leader: lease received.
public struct PaxosLeaseAck: Sendable, Equatable {
  public var epoch: UInt64
  public var firstCommitted: UInt64
  public var lastCommitted: UInt64

  public init(epoch: UInt64, firstCommitted: UInt64, lastCommitted: UInt64) {
    self.epoch = epoch
    self.firstCommitted = firstCommitted
    self.lastCommitted = lastCommitted
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(epoch)
      $0.writeLE(firstCommitted)
      $0.writeLE(lastCommitted)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("PaxosLeaseAck", supported: 1) { inner, _ in
      PaxosLeaseAck(
        epoch: try inner.readLE(UInt64.self, "epoch"),
        firstCommitted: try inner.readLE(UInt64.self, "first_committed"),
        lastCommitted: try inner.readLE(UInt64.self, "last_committed"))
    }
  }
}
