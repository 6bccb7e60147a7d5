import Foundation
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoWire
import NIOCore
import XCTest

/// The OSD, client and monitor-service messages decode what their encoders wrote, and treat
/// any other front as hostile: every truncation is an error, and mutated or random bytes give
/// an error or a value, never a trap.
final class MessageDecodingTests: XCTestCase {
  struct Sample {
    let name: String
    let message: Message
    /// Decodes and says whether the result equals the original.
    let decode: (Message) throws -> Bool
  }

  static let fsid = UUID(uuidString: "6f1c3a2e-1b9d-4c55-9a7e-2f0d5b8c1e44")!

  static func samples() throws -> [Sample] {
    let op = OSDOp(
      pool: 3, placementSeed: 0x2a, objectName: "benchmark_data_host_1_object7", namespace: "ns",
      epoch: 12, flags: 1, attempt: 2,
      operations: [
        OSDOperation(code: .write, offset: 4096, length: 4, payloadLength: 4),
        OSDOperation(code: .setXattr, offset: 0, length: 2, payloadLength: 2, name: "user.k"),
      ])
    let reply = OSDOpReply(
      result: 0, epoch: 12, flags: 4,
      operations: [.init(result: 0, outLength: 3), .init(result: -2)]
    )
    let ping = OSDPing(isReply: true, epoch: 12, stamp: 123_456_789)
    let command = MonCommand(fsid: fsid, json: #"{"prefix":"osd pool create","pool":"p"}"#)
    let commandReply = MonCommandReply(
      result: -17, status: "pool 'p' exists", version: 5, output: ByteBuffer(string: "{}"),
      leader: 1)
    let subscribe = MonSubscribe([
      "osdmap": .init(start: 3), "monmap": .init(start: 1, onetime: true),
    ])
    let update = OSDMapUpdate(
      fsid: fsid, fullMaps: [4: ByteBuffer(bytes: [1, 2, 3])],
      incrementals: [5: ByteBuffer(bytes: [4, 5]), 6: ByteBuffer(bytes: [6])], oldest: 1,
      newest: 6)
    let monMap = MonMap(
      fsid: fsid, epoch: 2,
      monitors: [
        .init(name: "a", addr: try EntityAddr(parsing: "127.0.0.1:6789")),
        .init(name: "b", addr: try EntityAddr(parsing: "127.0.0.1:6790")),
      ])
    var monMapFront = ByteBuffer()
    monMap.encode(to: &monMapFront)
    return [
      Sample(
        name: "osd_op", message: op.message(tid: 9, data: ByteBuffer(bytes: [1, 2, 3, 4, 5, 6]))
      ) {
        try OSDOp($0) == op
      },
      Sample(
        name: "osd_op_reply", message: reply.message(tid: 9, data: ByteBuffer(bytes: [7, 8, 9]))
      ) {
        try OSDOpReply($0) == reply
      },
      Sample(name: "osd_ping", message: ping.message()) { try OSDPing($0) == ping },
      Sample(name: "mon_command", message: command.message(tid: 2)) {
        try MonCommand($0) == command
      },
      Sample(name: "mon_command_reply", message: commandReply.message(tid: 2)) {
        try MonCommandReply($0) == commandReply
      },
      Sample(name: "mon_subscribe", message: subscribe.message()) {
        try MonSubscribe($0) == subscribe
      },
      Sample(name: "osd_map", message: update.message()) { try OSDMapUpdate($0) == update },
      Sample(name: "mon_map", message: Message(type: MessageType.monMap, front: monMapFront)) {
        var front = $0.front
        return try MonMap(from: &front) == monMap
      },
    ]
  }

  /// The same message with another front.
  static func with(_ message: Message, front: ByteBuffer) -> Message {
    Message(type: message.type, tid: message.tid, front: front, data: message.data)
  }

  func testEveryMessageRoundTrips() throws {
    for sample in try Self.samples() {
      XCTAssertTrue(try sample.decode(sample.message), sample.name)
    }
  }

  func testEveryTruncationThrows() throws {
    for sample in try Self.samples() {
      let front = sample.message.front
      for length in 0..<front.readableBytes {
        let cut = front.getSlice(at: front.readerIndex, length: length)!
        XCTAssertThrowsError(
          try sample.decode(Self.with(sample.message, front: cut)),
          "\(sample.name) cut at \(length)")
      }
    }
  }

  func testMutatedAndRandomFrontsNeverTrap() throws {
    var rng = SystemRandomNumberGenerator()
    var decoded = 0
    for sample in try Self.samples() {
      let original = Array(sample.message.front.readableBytesView)
      for _ in 0..<400 {
        var bytes = original
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
          let value: UInt8 =
            Bool.random(using: &rng)
            ? .random(in: 0...255, using: &rng) : [0, 0xff].randomElement(using: &rng)!
          bytes[Int.random(in: 0..<bytes.count, using: &rng)] = value
        }
        if (try? sample.decode(Self.with(sample.message, front: ByteBuffer(bytes: bytes)))) != nil {
          decoded += 1
        }
      }
      for _ in 0..<200 {
        // A valid envelope (version 1, compat 1, a length) around random bytes.
        let body = (0..<Int.random(in: 0...96, using: &rng)).map { _ in
          UInt8.random(in: 0...255, using: &rng)
        }
        var front = ByteBuffer(bytes: [original[0], 1])
        front.writeInteger(UInt32(body.count), endianness: .little)
        front.writeBytes(body)
        _ = try? sample.decode(Self.with(sample.message, front: front))
      }
    }
    XCTAssertGreaterThan(decoded, 0, "some mutations still decode (a changed epoch, say)")
  }

  /// A count or length of 0xffffffff anywhere after the envelope is refused (or, where those
  /// bytes are plain numbers, decodes), before anything is allocated for it.
  func testHugeDeclaredSizesNeverTrap() throws {
    var refused = 0
    for sample in try Self.samples() {
      let original = Array(sample.message.front.readableBytesView)
      for start in 6..<max(6, original.count - 3) {
        var bytes = original
        for i in start..<start + 4 { bytes[i] = 0xff }
        if (try? sample.decode(Self.with(sample.message, front: ByteBuffer(bytes: bytes)))) == nil {
          refused += 1
        }
      }
    }
    XCTAssertGreaterThan(refused, 0)
  }
}
