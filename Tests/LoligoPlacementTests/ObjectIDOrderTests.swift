import LoligoPlacement
import XCTest

/// Objects sort as Ceph's `hobject_t` does: by bit-reversed placement hash, so each PG of a
/// power-of-two pool is one contiguous run, the order backfill and listing walk a PG in.
final class ObjectIDOrderTests: XCTestCase {
  func testEachPGIsOneContiguousRunInSortedOrder() {
    let objects = (0..<2000).map { ObjectID("benchmark_data_host_\($0)") }
    let sorted = objects.sorted()
    let pgNum: UInt32 = 16
    func pg(_ object: ObjectID) -> UInt32 {
      CephStringHash.rjenkins(Array(object.name.utf8)) & (pgNum - 1)
    }
    var seen: [UInt32] = []
    for object in sorted where seen.last != pg(object) {
      XCTAssertFalse(seen.contains(pg(object)), "PG \(pg(object)) appears in two runs")
      seen.append(pg(object))
    }
    XCTAssertEqual(seen.count, Int(pgNum))
    // In bitwise order the runs go 0, 8, 4, 12, ... (the low bits, reversed).
    XCTAssertEqual(Array(seen.prefix(4)), [0, 8, 4, 12])
  }

  func testTheSortKeyIsTheReversedPlacementHash() {
    func reversed(_ hash: UInt32) -> UInt32 {
      var result: UInt32 = 0
      for bit in 0..<32 where hash & (1 << bit) != 0 { result |= 1 << (31 - bit) }
      return result
    }
    let object = ObjectID("obj")
    XCTAssertEqual(object.sortKey, reversed(CephStringHash.rjenkins(Array("obj".utf8))))
    // A namespace is hashed in front of the name, as placement does.
    let spaced = ObjectID("obj", namespace: "ns")
    XCTAssertEqual(spaced.sortKey, reversed(CephStringHash.rjenkins(Array("ns\u{1f}obj".utf8))))
    XCTAssertNotEqual(object, spaced)
    XCTAssertEqual(ObjectID("obj"), object)
    XCTAssertEqual(Set([object, ObjectID("obj")]).count, 1)
  }
}
