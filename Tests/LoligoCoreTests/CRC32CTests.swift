import LoligoCore
import XCTest

final class CRC32CTests: XCTestCase {
  /// Ceph's own check values (src/test/common/test_crc32c.cc): raw seed, no inversion.
  func testCephCheckValues() {
    XCTAssertEqual(CRC32C.checksum("foo bar baz", seed: 0), 4_119_623_852)
    XCTAssertEqual(CRC32C.checksum("foo bar baz", seed: 1234), 881_700_046)
    XCTAssertEqual(CRC32C.checksum("whiz bang boom", seed: 0), 2_360_230_088)
    XCTAssertEqual(CRC32C.checksum("whiz bang boom", seed: 5678), 3_743_019_208)
  }

  /// With seed -1 the result is the bitwise complement of the standard CRC-32C, whose check
  /// value for "123456789" is 0xE3069283.
  func testSegmentSeedIsComplementOfStandardCRC() {
    XCTAssertEqual(CRC32C.checksum("123456789", seed: CRC32C.segmentSeed), ~UInt32(0xE306_9283))
  }

  func testEmptyInputReturnsSeed() {
    XCTAssertEqual(CRC32C.checksum([UInt8](), seed: 0xFFFF_FFFF), 0xFFFF_FFFF)
    XCTAssertEqual(CRC32C.checksum([UInt8](), seed: 0), 0)
  }

  /// The ISA-L path agrees with a plain bitwise implementation on many lengths and seeds,
  /// including lengths that exercise its vector code paths.
  func testAgreesWithBitwiseReference() {
    var generator = SystemRandomNumberGenerator()
    for length in [1, 3, 7, 8, 15, 16, 31, 64, 255, 256, 1000, 4096, 65537] {
      let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
      let seed = UInt32.random(in: 0...UInt32.max, using: &generator)
      XCTAssertEqual(
        CRC32C.checksum(bytes, seed: seed), referenceCRC32C(bytes, seed: seed), "length \(length)")
    }
  }

  /// Chaining: the crc of a+b equals the crc of b seeded with the crc of a.
  func testIncrementalChaining() {
    let a = Array("hello ".utf8)
    let b = Array("world".utf8)
    XCTAssertEqual(
      CRC32C.checksum(b, seed: CRC32C.checksum(a, seed: 7)), CRC32C.checksum(a + b, seed: 7))
  }

  /// Combining checksums equals the checksum of the concatenation, for any seed and length.
  func testCombineEqualsChecksumOfConcatenation() {
    for length in [0, 1, 7, 8, 40, 4095, 65_536, 100_003] {
      let a = (0..<Int.random(in: 0..<64)).map { _ in UInt8.random(in: 0...255) }
      let b = (0..<length).map { _ in UInt8.random(in: 0...255) }
      for seed in [CRC32C.segmentSeed, 0, UInt32.random(in: 0...UInt32.max)] {
        let whole = CRC32C.checksum(a + b, seed: seed)
        let combined = CRC32C.combine(
          CRC32C.checksum(a, seed: seed), CRC32C.checksum(b, seed: 0),
          shift: CRC32C.Shift(zeroBytes: length))
        XCTAssertEqual(combined, whole, "length \(length) seed \(seed)")
      }
    }
    // A shift over no bytes changes nothing; shifts over different lengths differ.
    XCTAssertEqual(CRC32C.Shift(zeroBytes: 0)(0xDEAD_BEEF), 0xDEAD_BEEF)
    XCTAssertNotEqual(
      CRC32C.Shift(zeroBytes: 10)(0xDEAD_BEEF), CRC32C.Shift(zeroBytes: 11)(0xDEAD_BEEF))
  }
}

extension CRC32CTests {
  /// The table form of a shift maps every register as the shift itself does, so folding block
  /// crcs with it gives the crc of the blocks' concatenation.
  func testShiftTableAgreesWithShift() {
    for length in [1, 4096, 65_536, 1 << 20] {
      let shift = CRC32C.Shift(zeroBytes: length)
      let table = CRC32C.ShiftTable(shift)
      for register in [0, 1, 0x8000_0000, 0xFFFF_FFFF, 0xDEAD_BEEF]
        + (0..<100).map({ _ in
          UInt32.random(in: 0...UInt32.max)
        })
      {
        XCTAssertEqual(table(register), shift(register), "length \(length) register \(register)")
      }
    }
    let block = 4096
    let bytes = (0..<(block * 5)).map { _ in UInt8.random(in: 0...255) }
    let table = CRC32C.ShiftTable(zeroBytes: block)
    // crc_w(X) = shift(w) ^ crc_0(X), and crc_0(X) = crc_-1(X) ^ shift(-1).
    let k = table(CRC32C.segmentSeed)
    var folded = CRC32C.segmentSeed
    for i in 0..<5 {
      let crc = CRC32C.checksum(Array(bytes[i * block..<(i + 1) * block]), seed: CRC32C.segmentSeed)
      folded = table(folded) ^ crc ^ k
    }
    XCTAssertEqual(folded, CRC32C.checksum(bytes, seed: CRC32C.segmentSeed))
  }
}

extension CRC32CTests {
  /// Block crcs (four blocks side by side, the rest one by one) are each block's own crc,
  /// whatever the length: shorter than a block, a short last block, counts not a multiple of
  /// four, blocks that are not a multiple of 8 bytes.
  func testBlockChecksumsAreEachBlocksCRC() {
    let bytes = (0..<(4096 * 11 + 123)).map { _ in UInt8.random(in: 0...255) }
    for block in [4096, 65_536, 8, 100, 4097] {
      for length in [0, 1, 7, 4095, 4096, 4097, 4096 * 4, 4096 * 5 + 1, bytes.count] {
        let count = (length + block - 1) / block
        var out = [UInt32](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
          out.withUnsafeMutableBufferPointer {
            CRC32C.checksums(
              UnsafeRawBufferPointer(rebasing: raw[0..<length]), blockSize: block,
              seed: 0xFFFF_FFFF, into: $0)
          }
        }
        let expected = stride(from: 0, to: length, by: block).map {
          CRC32C.checksum(Array(bytes[$0..<min($0 + block, length)]), seed: 0xFFFF_FFFF)
        }
        XCTAssertEqual(out, expected, "block \(block) length \(length)")
      }
    }
  }
}

/// Reflected Castagnoli CRC, one bit at a time, without pre- or post-inversion.
func referenceCRC32C(_ bytes: [UInt8], seed: UInt32) -> UInt32 {
  var crc = seed
  for byte in bytes {
    crc ^= UInt32(byte)
    for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
  }
  return crc
}
