import Foundation
import LoligoConsensus
import LoligoCore
import NIOCore

/// What a monitor puts into Paxos for one change: the command (its JSON, as clients send it,
/// or an internal one such as `osd boot`) and its input bytes. Every monitor applies the same
/// committed payloads in the same order, so every service's state is the same everywhere; an
/// apply never reads the local clock — times travel in the payload (`stamp`).
struct MonProposalPayload: Sendable, Equatable {
  static let version: UInt8 = 1

  var json: String
  var input: ByteBuffer
  /// Wall-clock seconds at the proposing monitor (for map `modified` stamps and down times).
  var stamp: Double

  init(json: String, input: ByteBuffer = ByteBuffer(), stamp: Double) {
    self.json = json
    self.input = input
    self.stamp = stamp
  }

  init(fields: [String: Any], input: ByteBuffer = ByteBuffer(), stamp: Double) {
    let data =
      (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]))
      ?? Data("{}".utf8)
    self.init(json: String(decoding: data, as: UTF8.self), input: input, stamp: stamp)
  }

  var fields: [String: Any] {
    ((try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]) ?? [:]
  }

  func encoded() -> ByteBuffer {
    var b = ByteBuffer()
    b.writeVersioned(version: Self.version, compat: 1) { b in
      b.writeCephString(json)
      b.writeBlob(input)
      b.writeLE(stamp.bitPattern)
    }
    return b
  }

  init(decoding buffer: ByteBuffer) throws {
    var b = buffer
    self = try b.readVersioned("mon proposal", supported: Self.version, limit: 8 << 20) { b, _ in
      MonProposalPayload(
        json: try b.readCephString(limit: 1 << 20, "command"),
        input: try b.readBlob(limit: 4 << 20, "input"),
        stamp: Double(bitPattern: try b.readLE(UInt64.self, "stamp")))
    }
  }
}

/// The outcome of applying (or refusing) one command: an errno-style code, a status line and
/// output bytes, as the client will see them.
struct CommandResult: Sendable {
  var code: Int32
  var status: String
  var output: ByteBuffer

  init(_ code: Int32 = 0, _ status: String = "", output: ByteBuffer = ByteBuffer()) {
    self.code = code
    self.status = status
    self.output = output
  }

  static func json(_ value: Any, status: String = "") -> CommandResult {
    let data =
      (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys]))
      ?? Data("{}".utf8)
    return CommandResult(0, status, output: ByteBuffer(bytes: data))
  }

  static func error(_ code: Errno, _ status: String) -> CommandResult {
    CommandResult(code.rawValue, status)
  }
}

/// The errno values monitor replies use (negative, as in Ceph).
enum Errno: Int32 {
  case noEntry = -2
  case tryAgain = -11
  case exists = -17
  case invalid = -22
  case range = -34
  case notSupported = -95
  case busy = -16
  case timedOut = -110
  case permission = -1
}
