import LoligoMessages
import NIOCore
import XCTest

@testable import LoligoClient

/// An OSD's reply is a peer's word: fewer results than ops, or fewer bytes than the results
/// claim, give empty outputs, never a trap.
final class OSDResultTests: XCTestCase {
  func testOutputsAreSlicedInOpOrder() {
    let result = Objecter.OSDResult(
      result: 0, operations: [.init(result: 0, outLength: 2), .init(result: 0, outLength: 3)],
      data: ByteBuffer(bytes: [1, 2, 3, 4, 5]), dataCRC: nil)
    XCTAssertEqual(result.output(0), ByteBuffer(bytes: [1, 2]))
    XCTAssertEqual(result.output(1), ByteBuffer(bytes: [3, 4, 5]))
  }

  func testMissingResultsAndShortDataGiveEmptyOutputs() {
    let none = Objecter.OSDResult(
      result: 0, operations: [], data: ByteBuffer(bytes: [1, 2, 3]), dataCRC: nil)
    XCTAssertEqual(none.output(0).readableBytes, 0)
    XCTAssertEqual(none.output(3).readableBytes, 0)
    XCTAssertEqual(none.output(-1).readableBytes, 0)
    let short = Objecter.OSDResult(
      result: 0, operations: [.init(result: 0, outLength: .max), .init(result: 0, outLength: 1)],
      data: ByteBuffer(bytes: [1, 2, 3]), dataCRC: nil)
    XCTAssertEqual(short.output(0).readableBytes, 0)
    XCTAssertEqual(short.output(1).readableBytes, 0)
  }
}
