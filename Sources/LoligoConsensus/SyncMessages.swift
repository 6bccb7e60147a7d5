import LoligoCore
import NIOCore

/// Requester → provider: start a sync (and send chunk 0). `full` asks for a copy of the
/// provider's store (paxos versions and service prefixes) because the requester is behind the
/// provider's first kept version; otherwise only the missing versions after `lastCommitted`
/// are streamed. The requester picks `cookie`; a new one replaces its earlier sync.
public struct SyncStart: Sendable, Equatable {
  public var cookie: UInt64
  public var full: Bool
  public var lastCommitted: UInt64

  public init(cookie: UInt64, full: Bool, lastCommitted: UInt64) {
    self.cookie = cookie
    self.full = full
    self.lastCommitted = lastCommitted
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(cookie)
      $0.writeBool(full)
      $0.writeLE(lastCommitted)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("SyncStart", supported: 1) { inner, _ in
      SyncStart(
        cookie: try inner.readLE(UInt64.self, "cookie"), full: try inner.readBool("full"),
        lastCommitted: try inner.readLE(UInt64.self, "last_committed"))
    }
  }
}

/// Requester → provider: send chunk `seq` (the one after the last applied; asking again for
/// the same `seq` gets the same chunk, so a lost chunk is simply asked for again).
public struct SyncGetChunk: Sendable, Equatable {
  public var cookie: UInt64
  public var seq: UInt64

  public init(cookie: UInt64, seq: UInt64) {
    self.cookie = cookie
    self.seq = seq
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(cookie)
      $0.writeLE(seq)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("SyncGetChunk", supported: 1) { inner, _ in
      SyncGetChunk(
        cookie: try inner.readLE(UInt64.self, "cookie"), seq: try inner.readLE(UInt64.self, "seq"))
    }
  }
}

/// One key of a full sync's store copy.
public struct SyncEntry: Sendable, Equatable {
  public var prefix: String
  public var key: String
  public var value: ByteBuffer

  public init(prefix: String, key: String, value: ByteBuffer) {
    self.prefix = prefix
    self.key = key
    self.value = value
  }
}

/// Provider → requester. A full sync first streams `entries` of its snapshot (committed range
/// `snapshotFirstCommitted ... snapshotLastCommitted`; `snapshotDone` on the chunk that ends
/// it), then, like a recent sync, committed `values` after that up to its current version.
/// `isLast` ends the sync.
public struct SyncChunk: Sendable, Equatable {
  public var cookie: UInt64
  public var seq: UInt64
  public var isLast: Bool
  public var snapshotDone: Bool
  public var snapshotFirstCommitted: UInt64
  public var snapshotLastCommitted: UInt64
  public var entries: [SyncEntry]
  public var values: [VersionedValue]

  public init(
    cookie: UInt64, seq: UInt64, isLast: Bool = false, snapshotDone: Bool = false,
    snapshotFirstCommitted: UInt64 = 0, snapshotLastCommitted: UInt64 = 0,
    entries: [SyncEntry] = [], values: [VersionedValue] = []
  ) {
    self.cookie = cookie
    self.seq = seq
    self.isLast = isLast
    self.snapshotDone = snapshotDone
    self.snapshotFirstCommitted = snapshotFirstCommitted
    self.snapshotLastCommitted = snapshotLastCommitted
    self.entries = entries
    self.values = values
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(cookie)
      $0.writeLE(seq)
      $0.writeBool(isLast)
      $0.writeBool(snapshotDone)
      $0.writeLE(snapshotFirstCommitted)
      $0.writeLE(snapshotLastCommitted)
      $0.writeArray(entries) { buffer, entry in
        buffer.writeCephString(entry.prefix)
        buffer.writeCephString(entry.key)
        buffer.writeBlob(entry.value)
      }
      $0.writeVersionedValues(values)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("SyncChunk", supported: 1) { inner, _ in
      var chunk = SyncChunk(
        cookie: try inner.readLE(UInt64.self, "cookie"), seq: try inner.readLE(UInt64.self, "seq"),
        isLast: try inner.readBool("is_last"), snapshotDone: try inner.readBool("snapshot_done"),
        snapshotFirstCommitted: try inner.readLE(UInt64.self, "snapshot_first_committed"),
        snapshotLastCommitted: try inner.readLE(UInt64.self, "snapshot_last_committed"))
      var total = 0
      chunk.entries = try inner.readArray(
        limit: limits.maxEntries, minimumElementSize: 12, "entries"
      ) { entryBuffer in
        let entry = SyncEntry(
          prefix: try entryBuffer.readCephString(limit: 256, "entry prefix"),
          key: try entryBuffer.readCephString(limit: 4096, "entry key"),
          value: try entryBuffer.readBlob(limit: limits.maxValueBytes, "entry value"))
        total += entry.value.readableBytes
        if total > limits.maxPayloadBytes {
          throw DecodeError.oversized(
            field: "entries", length: total, limit: limits.maxPayloadBytes)
        }
        return entry
      }
      chunk.values = try inner.readVersionedValues(limits: limits)
      return chunk
    }
  }
}

/// Provider → requester: this sync cannot go on (unknown cookie, provider busy or behind,
/// requester too far behind for a recent sync); the requester starts over from probing.
public struct SyncAbort: Sendable, Equatable {
  public enum Reason: UInt8, Sendable {
    case unknownCookie = 1
    case busy = 2
    case needFullSync = 3
    case providerUnavailable = 4
  }

  public var cookie: UInt64
  public var reason: Reason

  public init(cookie: UInt64, reason: Reason) {
    self.cookie = cookie
    self.reason = reason
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(cookie)
      $0.writeLE(reason.rawValue)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("SyncAbort", supported: 1) { inner, _ in
      let cookie: UInt64 = try inner.readLE(UInt64.self, "cookie")
      let raw: UInt8 = try inner.readLE(UInt8.self, "reason")
      guard let reason = Reason(rawValue: raw) else {
        throw DecodeError.invalid(field: "reason", reason: "unknown sync abort reason \(raw)")
      }
      return SyncAbort(cookie: cookie, reason: reason)
    }
  }
}
