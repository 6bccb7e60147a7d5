import LoligoCore
import LoligoWire
import NIOCore
import XCTest

/// Every class of malformed input is refused with a specific error, never a crash or a hang.
final class MalformedFrameTests: XCTestCase {
  let limits = FrameDecoder.Limits(maxMessageBytes: 1 << 20, maxControlBytes: 4096)

  func controlFrame(_ tag: FrameTag = .ack, payload: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]) -> [UInt8]
  {
    var encoder = FrameEncoder()
    var out = ByteBuffer()
    encoder.writeControl(tag, into: &out) { $0.writeBytes(payload) }
    return Array(out.readableBytesView)
  }

  func decode(_ bytes: [UInt8]) throws -> Frame? {
    var decoder = FrameDecoder(limits: limits)
    decoder.append(ByteBuffer(bytes: bytes))
    return try decoder.nextFrame()
  }

  /// Rewrites the preamble crc after editing preamble bytes, so only the edit is wrong.
  func fixPreambleCRC(_ bytes: inout [UInt8]) {
    let crc = CRC32C.checksum(Array(bytes[0..<28]), seed: 0)
    bytes.replaceSubrange(28..<32, with: withUnsafeBytes(of: crc.littleEndian, Array.init))
  }

  func assertError(
    _ bytes: [UInt8], _ check: (FrameError) -> Bool, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertThrowsError(try decode(bytes), file: file, line: line) { error in
      guard let frameError = error as? FrameError else {
        return XCTFail("not a FrameError: \(error)", file: file, line: line)
      }
      XCTAssertTrue(check(frameError), "got \(frameError)", file: file, line: line)
    }
  }

  func testBadBanner() {
    var decoder = FrameDecoder(limits: limits)
    decoder.append(ByteBuffer(bytes: Array("GET / HTTP/1.1\r\n\r\n".utf8)))
    XCTAssertThrowsError(try decoder.readBanner())
    var v1 = FrameDecoder(limits: limits)
    v1.append(ByteBuffer(bytes: Array("ceph v027".utf8) + [UInt8](repeating: 0, count: 20)))
    XCTAssertThrowsError(try v1.readBanner()) { XCTAssertTrue("\($0)".contains("v1")) }
    var badLength = FrameDecoder(limits: limits)
    badLength.append(
      ByteBuffer(bytes: Array("ceph v2\n".utf8) + [17, 0] + [UInt8](repeating: 0, count: 16)))
    XCTAssertThrowsError(try badLength.readBanner())
    let noRev1 = Banner(supported: 0, required: 0)
    XCTAssertThrowsError(try Banner.loligo.negotiate(with: noRev1))
    let demanding = Banner(supported: 0xFF, required: 0x80)
    XCTAssertThrowsError(try Banner.loligo.negotiate(with: demanding))
  }

  func testBadPreambleCRC() {
    var bytes = controlFrame()
    bytes[29] ^= 0x01
    assertError(bytes) { if case .badPreambleCRC = $0 { return true } else { return false } }
  }

  func testBadSegmentCRC() {
    var bytes = controlFrame()
    bytes[33] ^= 0x40  // a payload byte
    assertError(bytes) {
      if case .badSegmentCRC(segment: 0, _, _) = $0 { return true } else { return false }
    }
  }

  func testBadLaterSegmentCRC() {
    var encoder = FrameEncoder()
    var out = ByteBuffer()
    encoder.writeMessage(
      header: MessageHeader2(seq: 1, type: 42), front: ByteBuffer(bytes: [1, 2, 3]),
      middle: ByteBuffer(), data: ByteBuffer(), into: &out
    ) { _, _ in }
    var bytes = Array(out.readableBytesView)
    bytes[32 + 41 + 4] ^= 0xFF  // first front byte
    assertError(bytes) {
      if case .badSegmentCRC(segment: 1, _, _) = $0 { return true } else { return false }
    }
  }

  func testOversizeSegment() {
    var bytes = controlFrame()
    bytes.replaceSubrange(2..<6, with: [0, 0, 0, 0x40])  // 1 GiB
    fixPreambleCRC(&bytes)
    assertError(bytes) { if case .oversizeSegment = $0 { return true } else { return false } }
    var control = controlFrame()
    control.replaceSubrange(2..<6, with: [0, 0x20, 0, 0])  // 8 KiB control frame > 4 KiB limit
    fixPreambleCRC(&control)
    assertError(control) { if case .oversizeSegment = $0 { return true } else { return false } }
  }

  func testUnknownTag() {
    var bytes = controlFrame()
    bytes[0] = 99
    fixPreambleCRC(&bytes)
    assertError(bytes) { $0 == .unknownTag(99) }
  }

  func testBadSegmentCounts() {
    for count: UInt8 in [0, 5, 255] {
      var bytes = controlFrame()
      bytes[1] = count
      fixPreambleCRC(&bytes)
      assertError(bytes) { if case .badSegmentCount = $0 { return true } else { return false } }
    }
    // A length declared for a segment beyond the count.
    var extra = controlFrame()
    extra[8] = 4
    fixPreambleCRC(&extra)
    assertError(extra) { if case .badSegmentCount = $0 { return true } else { return false } }
  }

  func testMessageHeaderSegmentMustBe41Bytes() {
    var bytes = controlFrame(.message, payload: [UInt8](repeating: 0, count: 40))
    fixPreambleCRC(&bytes)
    assertError(bytes) {
      if case .badPayload(.message, _) = $0 { return true } else { return false }
    }
  }

  func testTruncatedFrameWaitsWithoutAllocatingClaimedSize() throws {
    let bytes = controlFrame()
    for cut in [1, 31, 32, 35, bytes.count - 1] {
      XCTAssertNil(try decode(Array(bytes[0..<cut])), "cut at \(cut)")
    }
  }

  func testAbortedFrameIsSkippedAndBadLateStatusRefused() throws {
    var encoder = FrameEncoder()
    var out = ByteBuffer()
    encoder.writeMessage(
      header: MessageHeader2(seq: 1, type: 42), front: ByteBuffer(bytes: [1]),
      middle: ByteBuffer(), data: ByteBuffer(), into: &out
    ) { _, _ in }
    var aborted = Array(out.readableBytesView)
    let statusIndex = aborted.count - 13
    aborted[statusIndex] = FrameEpilogue.statusAborted
    XCTAssertNil(try decode(aborted), "aborted frames are dropped")
    var bad = Array(out.readableBytesView)
    bad[statusIndex] = 0x05
    assertError(bad) { $0 == .badLateStatus(0x05) }
  }

  func testEmptyLastSegment() {
    var bytes = controlFrame()
    bytes[1] = 2  // claims two segments, second has length 0
    fixPreambleCRC(&bytes)
    assertError(bytes) { $0 == .emptyLastSegment }
  }

  func testTruncatedPayloadDecodersThrow() {
    for cut in 0..<20 {
      var b = ByteBuffer(bytes: [UInt8](repeating: 0xFF, count: cut))
      XCTAssertThrowsError(try IdentFrame(from: &b, client: true))
      var r = ByteBuffer(bytes: [UInt8](repeating: 2, count: cut))
      XCTAssertThrowsError(try ReconnectFrame(from: &r))
    }
    var hostileCount = ByteBuffer(bytes: [2, 0xFF, 0xFF, 0xFF, 0x7F])
    XCTAssertThrowsError(try EntityAddrVec(from: &hostileCount))
  }
}
