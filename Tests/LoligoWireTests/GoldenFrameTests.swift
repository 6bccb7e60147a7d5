import LoligoCore
import LoligoWire
import NIOCore
import XCTest

/// Byte layouts assembled by hand from the msgr2.1 crc-mode description (doc/dev/msgr2.rst,
/// frames_v2.h), with crcs from a bitwise reference implementation rather than the ISA-L path.
final class GoldenFrameTests: XCTestCase {
  func testBannerBytes() {
    var b = ByteBuffer()
    Banner.loligo.encode(to: &b)
    let expected: [UInt8] =
      Array("ceph v2\n".utf8) + [16, 0] + [1, 0, 0, 0, 0, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0]
    XCTAssertEqual(b.readableBytesView.map { $0 }, expected)
    XCTAssertEqual(expected.count, Banner.size)
  }

  func testAckControlFrameBytes() {
    var preamble: [UInt8] = [20, 1]  // tag ACK, one segment
    preamble += [8, 0, 0, 0, 8, 0]  // segment 1: 8 bytes, alignment 8
    preamble += [UInt8](repeating: 0, count: 18)  // segments 2-4 unused
    preamble += [0, 0]  // flags, reserved
    preamble += le32(bitwiseCRC32C(preamble, seed: 0))
    let payload: [UInt8] = [8, 7, 6, 5, 4, 3, 2, 1]
    let expected = preamble + payload + le32(bitwiseCRC32C(payload, seed: 0xFFFF_FFFF))

    var encoder = FrameEncoder()
    var out = ByteBuffer()
    encoder.writeControl(.ack, into: &out) { U64Frame(0x0102_0304_0506_0708).encode(to: &$0) }
    XCTAssertEqual(out.readableBytesView.map { $0 }, expected)
    XCTAssertEqual(expected.count, 32 + 8 + 4)
  }

  func testMessageFrameBytes() {
    let header = MessageHeader2(
      seq: 1, tid: 2, type: 42, priority: 127, version: 8, ackSeq: 3, compatVersion: 3)
    var headerBytes: [UInt8] = le64(1) + le64(2) + le16(42) + le16(127) + le16(8)
    headerBytes += le32(0) + le16(0) + le64(3) + [0] + le16(3) + le16(0)
    XCTAssertEqual(headerBytes.count, MessageHeader2.size)
    let front = Array("abc".utf8)
    let data: [UInt8] = [9, 9, 9, 9]

    var preamble: [UInt8] = [17, 4]
    preamble += le32(41) + le16(8) + le32(3) + le16(8) + le32(0) + le16(8) + le32(4) + le16(4096)
    preamble += [0, 0]
    preamble += le32(bitwiseCRC32C(preamble, seed: 0))
    var expected = preamble + headerBytes + le32(bitwiseCRC32C(headerBytes, seed: 0xFFFF_FFFF))
    expected += front + data
    expected += [0x0E] + le32(bitwiseCRC32C(front, seed: 0xFFFF_FFFF))
    expected += le32(0xFFFF_FFFF)  // middle: used (data follows it) and empty
    expected += le32(bitwiseCRC32C(data, seed: 0xFFFF_FFFF))

    var encoder = FrameEncoder()
    var out = ByteBuffer()
    encoder.writeMessage(
      header: header, front: ByteBuffer(bytes: front), middle: ByteBuffer(),
      data: ByteBuffer(bytes: data), into: &out
    ) { _, _ in XCTFail("small data must be inlined") }
    XCTAssertEqual(out.readableBytesView.map { $0 }, expected)
  }

  /// A message with only a header is one segment: no epilogue.
  func testHeaderOnlyMessageHasNoEpilogue() {
    var encoder = FrameEncoder()
    var out = ByteBuffer()
    encoder.writeMessage(
      header: MessageHeader2(type: 1), front: ByteBuffer(), middle: ByteBuffer(),
      data: ByteBuffer(), into: &out
    ) { _, _ in }
    XCTAssertEqual(out.readableBytes, 32 + 41 + 4)
    XCTAssertEqual(out.getInteger(at: 1, as: UInt8.self), 1)
  }

  func testEntityAddrBytes() throws {
    let addr = try EntityAddr(parsing: "127.0.0.1:6800", nonce: 1234)
    var b = ByteBuffer()
    addr.encode(to: &b)
    var expected: [UInt8] = [1, 1, 1] + le32(28)
    expected += le32(2) + le32(1234) + le32(16) + le16(2) + [0x1A, 0x90, 127, 0, 0, 1]
    expected += [UInt8](repeating: 0, count: 8)
    XCTAssertEqual(b.readableBytesView.map { $0 }, expected)
    XCTAssertEqual(try EntityAddr(from: &b), addr)
    XCTAssertEqual(addr.description, "127.0.0.1:6800/1234")
  }

  func testTagValues() {
    XCTAssertEqual(FrameTag.hello.rawValue, 1)
    XCTAssertEqual(FrameTag.clientIdent.rawValue, 8)
    XCTAssertEqual(FrameTag.sessionReconnectOk.rawValue, 15)
    XCTAssertEqual(FrameTag.message.rawValue, 17)
    XCTAssertEqual(FrameTag.ack.rawValue, 20)
    XCTAssertEqual(FrameTag.compressionDone.rawValue, 22)
  }
}

func le16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
func le64(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }

func bitwiseCRC32C(_ bytes: [UInt8], seed: UInt32) -> UInt32 {
  var crc = seed
  for byte in bytes {
    crc ^= UInt32(byte)
    for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
  }
  return crc
}
