import NIOCore
import XCTest

@testable import LoligoBench

/// The metadata object's bytes (rados's layout) and its round trip through a pool.
final class RadosBenchMetadataTests: XCTestCase {
  func testEncodingIsRadosLayout() {
    let metadata = RadosBenchMetadata(objectSize: 16384, numOps: 10, pid: 4242, opSize: 4096)
    let bytes = Array(metadata.encoded().readableBytesView)
    XCTAssertEqual(
      bytes,
      [0x00, 0x40, 0, 0, 0, 0, 0, 0]  // u64 object_size
        + [10, 0, 0, 0]  // i32 num_ops
        + [0x92, 0x10, 0, 0]  // i32 pid
        + [0x00, 0x10, 0, 0, 0, 0, 0, 0])  // u64 op_size
    XCTAssertEqual(try RadosBenchMetadata(decoding: metadata.encoded()), metadata)
  }

  func testOpsToObjects() {
    XCTAssertEqual(
      RadosBenchMetadata(objectSize: 16384, numOps: 10, pid: 1, opSize: 4096).numObjects, 3)
    XCTAssertEqual(
      RadosBenchMetadata(objectSize: 16384, numOps: 8, pid: 1, opSize: 4096).numObjects, 2)
    XCTAssertEqual(
      RadosBenchMetadata(objectSize: 4096, numOps: 5, pid: 1, opSize: 4096).numObjects, 5)
    XCTAssertEqual(
      RadosBenchMetadata(objectSize: 4096, numOps: 0, pid: 1, opSize: 4096).numObjects, 0)
  }

  func testOldRecordWithoutOpSize() throws {
    var buffer = ByteBuffer()
    buffer.writeInteger(UInt64(65536), endianness: .little)
    buffer.writeInteger(Int32(3), endianness: .little)
    buffer.writeInteger(Int32(77), endianness: .little)
    let metadata = try RadosBenchMetadata(decoding: buffer)
    XCTAssertEqual(metadata.opSize, 65536, "no op size: op size = object size")
    XCTAssertEqual(metadata.pid, 77)
  }

  func testBadRecords() {
    XCTAssertThrowsError(try RadosBenchMetadata(decoding: ByteBuffer())) {
      XCTAssertEqual($0 as? RadosBenchMetadata.DecodeFailure, .empty)
    }
    XCTAssertThrowsError(try RadosBenchMetadata(decoding: ByteBuffer(bytes: [1, 2, 3])))
    let zeroOp = RadosBenchMetadata(objectSize: 4096, numOps: 1, pid: 1, opSize: 0).encoded()
    XCTAssertThrowsError(try RadosBenchMetadata(decoding: zeroOp))
    let smallObject = RadosBenchMetadata(objectSize: 1, numOps: 1, pid: 1, opSize: 4096).encoded()
    XCTAssertThrowsError(try RadosBenchMetadata(decoding: smallObject))
  }

  func testStoreAndFetchThroughAPool() {
    let io = InMemoryObjectIO()
    let metadata = RadosBenchMetadata(objectSize: 8192, numOps: 42, pid: 9, opSize: 4096)
    XCTAssertEqual(RadosBenchMetadataStore.fetch(io: io, name: "run"), .failure(.missing))
    XCTAssertNoThrow(try RadosBenchMetadataStore.store(metadata, io: io, name: "run").get())
    XCTAssertEqual(RadosBenchMetadataStore.fetch(io: io, name: "run"), .success(metadata))
    io.put("empty", [])
    XCTAssertEqual(RadosBenchMetadataStore.fetch(io: io, name: "empty"), .failure(.missing))
    io.put("junk", [1, 2, 3, 4, 5])
    guard case .failure(.corrupt) = RadosBenchMetadataStore.fetch(io: io, name: "junk") else {
      return XCTFail("junk accepted")
    }
  }
}
