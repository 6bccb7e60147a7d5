import LoligoCore
import NIOCore
import XCTest

@testable import LoligoBench

/// Op payloads as rados writes them, and their verification.
final class RadosBenchPayloadTests: XCTestCase {
  func testPayloadIsRadosSnprintfOverZ() {
    let payload = RadosBenchPayload(opSize: 64)
    let buffer = payload.make(for: 5, allocator: ByteBufferAllocator())
    let bytes = Array(buffer.readableBytesView)
    let text = Array("I'm the                5th op!".utf8)
    XCTAssertEqual(bytes.count, 64)
    XCTAssertEqual(Array(bytes[0..<30]), text)
    XCTAssertEqual(bytes[30], 0, "snprintf's terminating NUL")
    XCTAssertEqual(Array(bytes[31...]), [UInt8](repeating: UInt8(ascii: "z"), count: 33))
  }

  func testWideNumbersAndShortOps() {
    let wide = RadosBenchPayload(opSize: 64).head(for: 12_345_678_901_234_567)
    XCTAssertEqual(
      Array(wide[0..<31]), Array("I'm the 12345678901234567th op!".utf8), "wider than %16d")
    XCTAssertEqual(wide[31], 0)
    // snprintf(buf, 4, ...) keeps 3 characters and the NUL.
    XCTAssertEqual(RadosBenchPayload(opSize: 4).head(for: 1), Array("I'm".utf8) + [0])
    XCTAssertEqual(RadosBenchPayload(opSize: 1).head(for: 1), [0])
    let exact = RadosBenchPayload(opSize: 30).head(for: 0)
    XCTAssertEqual(exact.count, 30)
    XCTAssertEqual(exact.last, 0, "the text is cut one byte short for its NUL")
  }

  func testStampTurnsOneOpIntoAnother() {
    let payload = RadosBenchPayload(opSize: 4096)
    var buffer = payload.make(for: 1, allocator: ByteBufferAllocator())
    let kept = buffer
    payload.stamp(&buffer, for: 123_456)
    XCTAssertTrue(payload.matches(buffer, index: 123_456))
    XCTAssertTrue(payload.matches(kept, index: 1), "copy-on-write keeps the buffer in flight")
    XCTAssertEqual(
      Array(buffer.readableBytesView),
      Array(payload.make(for: 123_456, allocator: .init()).readableBytesView))
  }

  func testVerificationCatchesAnyDifference() {
    let payload = RadosBenchPayload(opSize: 4096)
    let good = payload.make(for: 7, allocator: ByteBufferAllocator())
    XCTAssertTrue(payload.matches(good, index: 7))
    XCTAssertFalse(payload.matches(good, index: 8), "another op's data")
    for offset in [0, 20, 30, 39, 40, 2000, 4095] {
      var bad = good
      bad.setInteger(bad.getInteger(at: offset, as: UInt8.self)! ^ 1, at: offset)
      XCTAssertFalse(payload.matches(bad, index: 7), "byte \(offset)")
    }
    var short = good
    short.moveWriterIndex(to: 4095)
    XCTAssertFalse(payload.matches(short, index: 7), "short read")
    var long = good
    long.writeInteger(UInt8(ascii: "z"))
    XCTAssertFalse(payload.matches(long, index: 7), "long read")
  }

  /// The checksum of op N found from its head equals the checksum of its bytes; a changed
  /// byte anywhere (head or tail) fails the checksum comparison.
  func testCRCOfOpWithoutReadingIt() {
    for size in [1, 39, 40, 41, 4096, 1 << 20] {
      let payload = RadosBenchPayload(opSize: size)
      for index: UInt64 in [0, 7, 123_456_789] {
        let buffer = payload.make(for: index, allocator: ByteBufferAllocator())
        let crc = CRC32C.checksum(buffer, seed: CRC32C.segmentSeed)
        XCTAssertEqual(payload.crc(for: index), crc, "size \(size) op \(index)")
        XCTAssertTrue(payload.matches(buffer, crc: crc, index: index))
        var restamped = payload.make(for: index + 1, allocator: ByteBufferAllocator())
        XCTAssertEqual(payload.stamp(&restamped, for: index), crc, "stamp gives the op's crc")
        if size >= 30 {  // shorter ops cut the number off: every op is the same
          XCTAssertFalse(payload.matches(buffer, crc: crc, index: index + 1), "another op's bytes")
        }
        var damaged = buffer
        damaged.setInteger(UInt8(ascii: "y"), at: size - 1)
        let damagedCRC = CRC32C.checksum(damaged, seed: CRC32C.segmentSeed)
        XCTAssertFalse(payload.matches(damaged, crc: damagedCRC, index: index), "size \(size)")
        XCTAssertFalse(payload.matches(damaged, crc: nil, index: index), "byte comparison")
      }
    }
  }
}
