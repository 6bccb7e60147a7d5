import LoligoPlacement
import XCTest

@testable import LoligoMon

/// `osd pg-temp`: what it accepts, and the clean-up every new epoch does.
final class PGTempTests: XCTestCase {
  /// Four OSDs on four hosts, pool 1 with 8 PGs of size 3.
  func cluster() throws -> ServiceHarness {
    let h = try ServiceHarness()
    h.bootOSDs(4)
    XCTAssertEqual(
      h.run(["prefix": "osd pool create", "pool": "p", "pg_num": 8, "size": 3]).code, 0)
    return h
  }

  func temp(_ pgid: Any, _ ids: [Any]) -> [String: Any] {
    ["prefix": "osd pg-temp", "pgid": pgid, "id": ids]
  }

  func testSetUseAndRemove() throws {
    let h = try cluster()
    let pg = PGID(pool: 1, seed: 0xa % 8)
    let up = try h.map.map(pg: pg).up
    let spare = try XCTUnwrap((0..<4).map(Int32.init).first { !up.contains($0) })
    let wanted = [up[1], spare]
    let set = h.run(temp("\(pg)", wanted.map { Int($0) }))
    XCTAssertEqual(set.code, 0, set.status)
    XCTAssertEqual(set.status, "set \(pg) pg_temp mapping to [\(up[1]),\(spare)]")
    XCTAssertEqual(h.map.pgTemp[pg], wanted)
    let mapping = try h.map.map(pg: pg)
    XCTAssertEqual(mapping.acting, wanted)
    XCTAssertEqual(mapping.actingPrimary, up[1])
    XCTAssertEqual(mapping.up, up, "pg_temp changes acting, not up")
    // The same again: no epoch. osd.N names work too.
    let epoch = h.map.epoch
    XCTAssertEqual(h.run(temp("\(pg)", wanted.map { "osd.\($0)" })).code, 0)
    XCTAssertEqual(h.map.epoch, epoch)
    // Survives other changes and a restart.
    _ = h.run(["prefix": "osd pool create", "pool": "q", "pg_num": 4, "size": 2])
    XCTAssertEqual(try MonServices(store: h.store).osdmap.map.pgTemp[pg], wanted)
    let dump = try h.readJSON("osd dump")["pg_temp"] as? [[String: Any]]
    XCTAssertEqual(dump?.first?["pgid"] as? String, "\(pg)")
    // An empty list removes it.
    XCTAssertEqual(h.run(temp("\(pg)", [])).status, "removed pg_temp of \(pg)")
    XCTAssertNil(h.map.pgTemp[pg])
    XCTAssertEqual(try h.map.map(pg: pg).acting, up)
  }

  func testRefusals() throws {
    let h = try cluster()
    _ = h.run(["prefix": "osd failure", "ids": [3]])
    let epoch = h.map.epoch
    let refused: [(Any, [Any], Errno)] = [
      ("1", [0, 1], .invalid), ("x.y", [0], .invalid), ("1.zz", [0], .invalid),
      ("+1.0", [0], .invalid), ("1.0.0", [0], .invalid), (7, [0], .invalid),
      (String(repeating: "1", count: 40) + ".0", [0], .invalid),
      ("9.0", [0], .noEntry), ("1.8", [0], .noEntry), ("1.ffffffff", [0], .noEntry),
      ("1.0", [0, 1, 2, 0], .invalid),  // more than size
      ("1.0", [0, 0], .invalid),  // twice
      ("1.0", [0, 7], .noEntry),  // absent
      ("1.0", [0, 3], .invalid),  // down
      ("1.0", [0, -1], .invalid), ("1.0", [0, 1 << 40], .invalid), ("1.0", ["zero"], .invalid),
      ("1.0", [[0]], .invalid),
    ]
    for (pgid, ids, code) in refused {
      let result = h.run(temp(pgid, ids))
      XCTAssertEqual(result.code, code.rawValue, "\(pgid) \(ids): \(result.status)")
      XCTAssertFalse(result.status.isEmpty)
    }
    XCTAssertEqual(h.run(["prefix": "osd pg-temp"]).code, Errno.invalid.rawValue)
    XCTAssertEqual(h.map.epoch, epoch)
    XCTAssertTrue(h.map.pgTemp.isEmpty)
  }

  func testEveryNewEpochCleansTemps() throws {
    let h = try cluster()
    // Three entries: one that will equal up, one on osd.3 alone (which will go down), one on
    // osd.0 alone (kept).
    let pg0 = PGID(pool: 1, seed: 0)
    let up0 = try h.map.map(pg: pg0).up
    XCTAssertEqual(h.run(temp("\(pg0)", [Int(up0[0])])).code, 0)
    let pg1 = PGID(pool: 1, seed: 1)
    XCTAssertEqual(h.run(temp("\(pg1)", [3])).code, 0)
    let pg2 = PGID(pool: 1, seed: 2)
    XCTAssertEqual(h.run(temp("\(pg2)", [0])).code, 0)
    let pool2 = h.run(["prefix": "osd pool create", "pool": "q", "pg_num": 4, "size": 2])
    XCTAssertEqual(pool2.code, 0)
    let q = PGID(pool: 2, seed: 1)
    XCTAssertEqual(h.run(temp("\(q)", [0])).code, 0)
    XCTAssertEqual(h.map.pgTemp.count, 4)

    // Equal to up: asked in one value, dropped in the same epoch.
    XCTAssertEqual(h.run(temp("\(pg0)", up0.map { Int($0) })).code, 0)
    XCTAssertNil(h.map.pgTemp[pg0], "equal to the up set: dropped")
    // All of an entry's OSDs down: dropped by the epoch that takes the last one down.
    XCTAssertNotNil(h.map.pgTemp[pg1])
    _ = h.run(["prefix": "osd failure", "ids": [3]])
    XCTAssertNil(h.map.pgTemp[pg1], "no up OSD left: dropped")
    // A deleted pool's entries go with it.
    XCTAssertNotNil(h.map.pgTemp[q])
    _ = h.run(["prefix": "osd pool delete", "pool": "q"])
    XCTAssertNil(h.map.pgTemp[q])
    // pg_num shrinks below the entry: dropped.
    XCTAssertNotNil(h.map.pgTemp[pg2], "still meaningful: kept")
    let shrink = h.commit([
      ["prefix": "osd pool set", "pool": "p", "var": "pgp_num", "val": "2"],
      ["prefix": "osd pool set", "pool": "p", "var": "pg_num", "val": "2"],
    ])
    XCTAssertEqual(shrink.map(\.code), [0, 0])
    XCTAssertNil(h.map.pgTemp[pg2])
    XCTAssertTrue(h.map.pgTemp.isEmpty)
    // The restarted service agrees.
    XCTAssertTrue(try MonServices(store: h.store).osdmap.map.pgTemp.isEmpty)
  }
}
