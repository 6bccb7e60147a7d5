import Foundation
import LoligoCore
import LoligoMessenger
import LoligoWire
import NIOCore

/// A command to the monitors, like Ceph's MMonCommand: a JSON object whose `prefix` names the
/// command (`config-key set`, `osd pool create`, `status`, ...) plus its arguments, and an
/// optional input payload. Reads are answered by any monitor in quorum; changes go through the
/// leader and Paxos, and the reply comes after the commit.
public struct MonCommand: Sendable, Equatable {
  public static let version: UInt8 = 1
  /// Largest command JSON: an OSD's `pg stats` names every PG it leads (some 400 bytes each).
  public static let maxCommandBytes = 1 << 20

  public var fsid: UUID
  /// The command as a JSON object: `{"prefix": "config-key set", "key": "a", "val": "b"}`.
  public var json: String
  public var input: ByteBuffer

  public init(fsid: UUID, json: String, input: ByteBuffer = ByteBuffer()) {
    self.fsid = fsid
    self.json = json
    self.input = input
  }

  /// Builds the JSON from a dictionary of strings, numbers and arrays.
  public init(fsid: UUID, _ fields: [String: Any], input: ByteBuffer = ByteBuffer()) {
    let data =
      (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]))
      ?? Data("{}".utf8)
    self.init(fsid: fsid, json: String(decoding: data, as: UTF8.self), input: input)
  }

  /// The parsed JSON object (nil when it is not an object).
  public var fields: [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
  }

  public var prefix: String { fields?["prefix"] as? String ?? "" }

  public func message(tid: UInt64) -> Message {
    var front = ByteBuffer()
    front.writeVersioned(version: MonCommand.version, compat: 1) { b in
      b.writeBytes(withUnsafeBytes(of: fsid.uuid) { Array($0) })
      b.writeCephString(json)
    }
    return Message(type: MessageType.monCommand, tid: tid, front: front, data: input)
  }

  public init(_ message: Message) throws {
    guard message.type == MessageType.monCommand else {
      throw MessageDecodeError(type: message.type, reason: "not a mon command")
    }
    var front = message.front
    let (fsid, json) = try front.readVersioned(
      "mon_command", supported: MonCommand.version, limit: 1 << 20
    ) {
      b, _ -> (UUID, String) in
      (try readUUID(&b), try b.readCephString(limit: MonCommand.maxCommandBytes, "command"))
    }
    self.init(fsid: fsid, json: json, input: message.data)
  }
}

/// The answer to a `MonCommand`: an errno-style result, a status line, output bytes (JSON for
/// structured replies) and the version of the map or value the answer reflects.
public struct MonCommandReply: Sendable, Equatable {
  public static let version: UInt8 = 2

  public var result: Int32
  public var status: String
  public var version: UInt64
  public var output: ByteBuffer
  /// Rank of the quorum's leader as the answering monitor knows it (-1: none); clients send
  /// later changes straight to it instead of through a peon (added in version 2).
  public var leader: Int32

  public init(
    result: Int32, status: String = "", version: UInt64 = 0, output: ByteBuffer = ByteBuffer(),
    leader: Int32 = -1
  ) {
    self.result = result
    self.status = status
    self.version = version
    self.output = output
    self.leader = leader
  }

  public var outputString: String { String(buffer: output) }

  public func message(tid: UInt64) -> Message {
    var front = ByteBuffer()
    front.writeVersioned(version: MonCommandReply.version, compat: 1) { b in
      b.writeLE(result)
      b.writeCephString(status)
      b.writeLE(version)
      b.writeLE(leader)
    }
    return Message(type: MessageType.monCommandReply, tid: tid, front: front, data: output)
  }

  public init(_ message: Message) throws {
    guard message.type == MessageType.monCommandReply else {
      throw MessageDecodeError(type: message.type, reason: "not a mon command reply")
    }
    var front = message.front
    (result, status, version, leader) = try front.readVersioned(
      "mon_command_reply", supported: MonCommandReply.version, limit: 1 << 20
    ) { b, structVersion in
      (
        try b.readLE(Int32.self, "result"), try b.readCephString(limit: 1 << 16, "status"),
        try b.readLE(UInt64.self, "version"),
        structVersion >= 2 ? try b.readLE(Int32.self, "leader") : -1
      )
    }
    output = message.data
  }
}

/// Asks the monitor to send map updates: for each map name, the first epoch wanted (0 = the
/// newest only) and whether to keep sending later epochs.
public struct MonSubscribe: Sendable, Equatable {
  public static let version: UInt8 = 1

  public struct Item: Sendable, Equatable {
    public var start: UInt32
    public var onetime: Bool
    public init(start: UInt32, onetime: Bool = false) {
      self.start = start
      self.onetime = onetime
    }
  }

  public var what: [String: Item]

  public init(_ what: [String: Item]) { self.what = what }

  public func message() -> Message {
    var front = ByteBuffer()
    front.writeVersioned(version: MonSubscribe.version, compat: 1) { b in
      b.writeArray(what.sorted { $0.key < $1.key }) { b, entry in
        b.writeCephString(entry.key)
        b.writeLE(entry.value.start)
        b.writeBool(entry.value.onetime)
      }
    }
    return Message(type: MessageType.monSubscribe, front: front)
  }

  public init(_ message: Message) throws {
    var front = message.front
    let items = try front.readVersioned(
      "mon_subscribe", supported: MonSubscribe.version, limit: 1 << 16
    ) {
      b, _ in
      try b.readArray(limit: 16, minimumElementSize: 9, "subscriptions") { b in
        (
          try b.readCephString(limit: 64, "map name"),
          Item(start: try b.readLE(UInt32.self, "start"), onetime: try b.readBool("onetime"))
        )
      }
    }
    what = Dictionary(items, uniquingKeysWith: { $1 })
  }
}

/// OSD map epochs sent to a subscriber: full maps and/or incrementals (encoded by the placement
/// module), keyed by epoch, with the range the sender holds.
public struct OSDMapUpdate: Sendable, Equatable {
  public static let version: UInt8 = 1
  public static let maxMaps = 1000

  public var fsid: UUID
  public var fullMaps: [UInt32: ByteBuffer]
  public var incrementals: [UInt32: ByteBuffer]
  public var oldest: UInt32
  public var newest: UInt32

  public init(
    fsid: UUID, fullMaps: [UInt32: ByteBuffer] = [:], incrementals: [UInt32: ByteBuffer] = [:],
    oldest: UInt32, newest: UInt32
  ) {
    self.fsid = fsid
    self.fullMaps = fullMaps
    self.incrementals = incrementals
    self.oldest = oldest
    self.newest = newest
  }

  public func message() -> Message {
    var front = ByteBuffer()
    front.writeVersioned(version: OSDMapUpdate.version, compat: 1) { b in
      b.writeBytes(withUnsafeBytes(of: fsid.uuid) { Array($0) })
      for maps in [fullMaps, incrementals] {
        b.writeArray(maps.sorted { $0.key < $1.key }) { b, entry in
          b.writeLE(entry.key)
          b.writeBlob(entry.value)
        }
      }
      b.writeLE(oldest)
      b.writeLE(newest)
    }
    return Message(type: MessageType.osdMap, front: front)
  }

  public init(_ message: Message) throws {
    var front = message.front
    self = try front.readVersioned("osd_map", supported: OSDMapUpdate.version, limit: 256 << 20) {
      b, _ in
      let fsid = try readUUID(&b)
      func maps(_ b: inout ByteBuffer) throws -> [UInt32: ByteBuffer] {
        let pairs = try b.readArray(limit: OSDMapUpdate.maxMaps, minimumElementSize: 8, "maps") {
          b in
          (try b.readLE(UInt32.self, "epoch"), try b.readBlob(limit: 64 << 20, "map"))
        }
        return Dictionary(pairs, uniquingKeysWith: { $1 })
      }
      let full = try maps(&b)
      let incrementals = try maps(&b)
      return OSDMapUpdate(
        fsid: fsid, fullMaps: full, incrementals: incrementals,
        oldest: try b.readLE(UInt32.self, "oldest"),
        newest: try b.readLE(UInt32.self, "newest"))
    }
  }
}

func readUUID(_ b: inout ByteBuffer) throws -> UUID {
  guard let raw = b.readBytes(length: 16) else {
    throw DecodeError.truncated(field: "fsid", needed: 16, available: b.readableBytes)
  }
  return UUID(
    uuid: (
      raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7], raw[8], raw[9], raw[10],
      raw[11], raw[12], raw[13], raw[14], raw[15]
    ))
}
