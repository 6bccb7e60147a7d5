import LoligoConsensus
import LoligoMon
import NIOCore
import XCTest

final class MonStoreTests: XCTestCase {
  func value(_ byte: UInt8) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 1)
    buffer.writeInteger(byte)
    return buffer
  }

  func testVersionKeysSortNumerically() {
    XCTAssertEqual(MonStoreKeys.version(42), "00000000000000000042")
    XCTAssertEqual(MonStoreKeys.parseVersion(MonStoreKeys.version(UInt64.max)), UInt64.max)
    XCTAssertNil(MonStoreKeys.parseVersion(MonStoreKeys.lastCommitted))
    XCTAssertNil(MonStoreKeys.parseVersion("123"))
    let keys = [9, 10, 100, 2].map { MonStoreKeys.version(UInt64($0)) }
    XCTAssertEqual(keys.sorted(), [2, 9, 10, 100].map { MonStoreKeys.version(UInt64($0)) })
    // Version keys come before the metadata keys in bytewise order.
    XCTAssertTrue(MonStoreKeys.version(UInt64.max) < MonStoreKeys.acceptedPN)
  }

  func testTransactionsScanAndSnapshots() {
    let store = InMemoryMonStore()
    store.apply(
      MonStoreTransaction(ops: [
        .put(prefix: "a", key: "b", value: value(2)), .put(prefix: "a", key: "a", value: value(1)),
        .put(prefix: "a", key: "c", value: value(3)), .put(prefix: "z", key: "x", value: value(9)),
      ]))
    XCTAssertEqual(store.scan(prefix: "a", after: nil, limit: 10).map(\.key), ["a", "b", "c"])
    XCTAssertEqual(store.scan(prefix: "a", after: "a", limit: 1).map(\.key), ["b"])
    let snapshot = store.snapshot()
    store.apply(
      MonStoreTransaction(ops: [
        .delete(prefix: "a", key: "b"), .deletePrefix("z"),
        .put(prefix: "z", key: "y", value: value(7)),
      ]))
    XCTAssertNil(store.get(prefix: "a", key: "b"))
    XCTAssertNil(store.get(prefix: "z", key: "x"))
    XCTAssertEqual(store.get(prefix: "z", key: "y"), value(7))
    XCTAssertEqual(snapshot.get(prefix: "a", key: "b"), value(2), "snapshots do not move")
    XCTAssertEqual(snapshot.scan(prefix: "z", after: nil, limit: 5).map(\.key), ["x"])
  }
}
