import LoligoCore
import XCTest

@testable import LoligoOSD

/// The read check of whole blocks at once (`BlockCRC.check`) fails exactly where checking each
/// block would, names the first damaged block, and otherwise gives the crc of the bytes.
final class BlockCRCTests: XCTestCase {
  let shift: UInt8 = 12
  let block = 4096

  func testCheckFindsTheFirstDamagedBlock() {
    let bytes = (0..<(block * 9 + 700)).map { _ in UInt8.random(in: 0...255) }
    let crcs = bytes.withUnsafeBytes { BlockCRC.compute($0, shift: shift) }
    func check(_ data: [UInt8], from first: Int = 0) -> Result<UInt32, BlockCRC.Mismatch> {
      data.withUnsafeBytes {
        BlockCRC.check(
          UnsafeRawBufferPointer(rebasing: $0[(first * block)...]), first: first, shift: shift,
          crcs: crcs)
      }
    }
    XCTAssertEqual(try check(bytes).get(), CRC32C.checksum(bytes, seed: 0xFFFF_FFFF))
    XCTAssertEqual(
      try check(bytes, from: 3).get(),
      CRC32C.checksum(Array(bytes[(3 * block)...]), seed: 0xFFFF_FFFF))
    for damaged in [[0], [4], [8], [9], [2, 6], [5, 9], [1, 2, 3]] {
      var data = bytes
      for index in damaged { data[index * block + Int.random(in: 0..<700)] ^= 0x10 }
      guard case .failure(let bad) = check(data) else { return XCTFail("\(damaged) passed") }
      XCTAssertEqual(bad.block, damaged[0], "\(damaged)")
      XCTAssertEqual(bad.stored, crcs[damaged[0]])
      if damaged[0] >= 3, case .failure(let fromThree) = check(data, from: 3) {
        XCTAssertEqual(fromThree.block, damaged[0])
      } else if damaged[0] >= 3 {
        XCTFail("\(damaged) passed from block 3")
      }
    }
    // Fewer crcs than blocks: a failure, not an out-of-range read.
    let short = bytes.withUnsafeBytes {
      BlockCRC.check($0, first: 0, shift: shift, crcs: Array(crcs.prefix(4)))
    }
    guard case .failure = short else { return XCTFail("checked without crcs") }
  }
}
