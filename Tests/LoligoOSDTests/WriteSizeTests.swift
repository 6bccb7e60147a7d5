import LoligoMessages
import XCTest

@testable import LoligoOSD

/// `osd_max_write_size`: a request that writes more data than the limit is refused with
/// EMSGSIZE (Ceph's OSD_WRITETOOBIG) before anything is executed; reads pass whatever they carry.
final class WriteSizeTests: XCTestCase {
  let limit = 4 << 20

  func refusal(_ codes: [OSDOpCode], dataLength: Int) -> Int32? {
    let ops = codes.map { OSDOperation(code: $0, offset: 0, length: UInt64(dataLength)) }
    do {
      try OSDOpExecution.checkWriteSize(ops, dataLength: dataLength, maxWriteBytes: limit)
      return nil
    } catch {
      return error.code
    }
  }

  func testWritesAboveTheLimitAreRefusedWithEMSGSIZE() {
    XCTAssertEqual(OSDOpExecution.writeTooBig, -90)
    for code in [OSDOpCode.write, .writeFull, .setXattr, .omapSetValues] {
      XCTAssertNil(refusal([code], dataLength: limit), "\(code) of exactly the limit")
      XCTAssertEqual(refusal([code], dataLength: limit + 1), -90, "\(code) one byte over")
    }
    // The message's whole data counts, as in Ceph: two writes of 3 MiB are 6 MiB.
    XCTAssertEqual(refusal([.write, .write], dataLength: 6 << 20), -90)
    XCTAssertEqual(refusal([.stat, .writeFull], dataLength: limit + 1), -90)
  }

  func testRequestsWithoutWritesAreNotChecked() {
    XCTAssertNil(refusal([.read], dataLength: limit + 1))
    XCTAssertNil(refusal([.omapGetValues, .stat], dataLength: 64 << 20))
  }
}
