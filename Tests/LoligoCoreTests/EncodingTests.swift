import LoligoCore
import NIOCore
import XCTest

final class EncodingTests: XCTestCase {
  func testLittleEndianPrimitivesAndStrings() throws {
    var b = ByteBuffer()
    b.writeLE(UInt16(0x0102))
    b.writeLE(UInt32(0x0304_0506))
    b.writeLE(Int64(-2))
    b.writeCephString("osd")
    XCTAssertEqual(
      b.getBytes(at: 0, length: b.readableBytes),
      [0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        + [3, 0, 0, 0] + Array("osd".utf8))
    XCTAssertEqual(try b.readLE(UInt16.self), 0x0102)
    XCTAssertEqual(try b.readLE(UInt32.self), 0x0304_0506)
    XCTAssertEqual(try b.readLE(Int64.self), -2)
    XCTAssertEqual(try b.readCephString(), "osd")
    XCTAssertEqual(b.readableBytes, 0)
  }

  func testVersionedHeaderLayout() {
    var b = ByteBuffer()
    b.writeVersioned(version: 3, compat: 2) { $0.writeLE(UInt32(7)) }
    XCTAssertEqual(b.getBytes(at: 0, length: b.readableBytes), [3, 2, 4, 0, 0, 0, 7, 0, 0, 0])
  }

  /// An older reader skips fields a newer writer appended.
  func testOlderReaderSkipsNewFields() throws {
    var b = ByteBuffer()
    b.writeVersioned(version: 2, compat: 1) {
      $0.writeLE(UInt32(42))
      $0.writeCephString("added in v2")
    }
    b.writeLE(UInt8(9))  // whatever follows the struct
    let value = try b.readVersioned("test", supported: 1) { inner, version -> UInt32 in
      XCTAssertEqual(version, 2)
      return try inner.readLE(UInt32.self)
    }
    XCTAssertEqual(value, 42)
    XCTAssertEqual(try b.readLE(UInt8.self), 9, "reader must land after the whole struct")
  }

  func testNewerCompatIsRefused() {
    var b = ByteBuffer()
    b.writeVersioned(version: 5, compat: 4) { $0.writeLE(UInt8(1)) }
    XCTAssertThrowsError(try b.readVersioned("thing", supported: 3) { _, _ in () }) { error in
      XCTAssertEqual(
        error as? DecodeError, .incompatible(structure: "thing", compat: 4, supported: 3))
    }
  }

  func testTruncatedInputThrows() {
    var b = ByteBuffer(bytes: [1, 2, 3])
    XCTAssertThrowsError(try b.readLE(UInt32.self)) { error in
      guard case .truncated = error as? DecodeError else { return XCTFail("\(error)") }
    }
    var v = ByteBuffer(bytes: [1, 1, 100, 0, 0, 0, 0])  // claims 100 bytes, has 1
    XCTAssertThrowsError(try v.readVersioned("s", supported: 1) { _, _ in () }) { error in
      guard case .truncated = error as? DecodeError else { return XCTFail("\(error)") }
    }
  }

  func testOversizedLengthsAreRefusedBeforeAllocation() {
    var blob = ByteBuffer()
    blob.writeLE(UInt32(1 << 30))
    XCTAssertThrowsError(try blob.readBlob(limit: 1 << 20)) { error in
      guard case .oversized = error as? DecodeError else { return XCTFail("\(error)") }
    }
    // A count that cannot fit in the bytes left fails without reserving space for it.
    var array = ByteBuffer()
    array.writeLE(UInt32(1_000_000))
    array.writeLE(UInt32(1))
    XCTAssertThrowsError(
      try array.readArray(limit: 10_000_000, minimumElementSize: 4) { try $0.readLE(UInt32.self) }
    ) { error in
      guard case .truncated = error as? DecodeError else { return XCTFail("\(error)") }
    }
  }

  func testArrayRoundTrip() throws {
    var b = ByteBuffer()
    b.writeArray([UInt64(1), 2, 3]) { $0.writeLE($1) }
    let back = try b.readArray(limit: 10, minimumElementSize: 8) { try $0.readLE(UInt64.self) }
    XCTAssertEqual(back, [1, 2, 3])
  }
  func testStoredUInt64IsEightLittleEndianBytes() {
    let value = ByteBuffer(littleEndian: 0x0102_0304_0506_0708)
    XCTAssertEqual(Array(value.readableBytesView), [8, 7, 6, 5, 4, 3, 2, 1])
    XCTAssertEqual(value.littleEndianUInt64, 0x0102_0304_0506_0708)
    XCTAssertNil(ByteBuffer(bytes: [1, 2, 3]).littleEndianUInt64)
  }
}
