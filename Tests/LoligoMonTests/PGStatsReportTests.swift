import Foundation
import LoligoPlacement
import XCTest

@testable import LoligoMon

/// `pg stats` reports as they arrive from a peer: every field checked, bounded, refused whole.
final class PGStatsReportTests: XCTestCase {
  func pg(_ overrides: [String: Any] = [:]) -> [String: Any] {
    var entry: [String: Any] = [
      "pgid": "1.a", "state": "active+clean", "up": [1, 2, 0], "acting": [1, 2, 0],
      "up_primary": 1, "acting_primary": 1, "num_objects": 10, "num_bytes": 40960,
      "num_objects_degraded": 0, "num_objects_misplaced": 0, "num_objects_unfound": 0,
      "num_objects_recovered": 3, "num_bytes_recovered": 12288, "last_epoch_clean": 12,
      "log_size": 10, "last_update": "12'34", "blocked_by": [Int](), "pool": 1,
    ]
    for (key, value) in overrides { entry[key] = value }
    return entry
  }

  func report(_ pgs: [Any], _ overrides: [String: Any] = [:]) -> [String: Any] {
    var fields: [String: Any] = [
      "prefix": "pg stats", "id": 1, "epoch": 12, "pgs": pgs,
      "osd_stats": ["kb": 1000, "kb_used": 100, "kb_avail": 900],
    ]
    for (key, value) in overrides { fields[key] = value }
    return fields
  }

  /// Through JSON text, as a monitor receives it.
  func parse(_ fields: [String: Any]) throws -> PGStatsReport {
    let data = try JSONSerialization.data(withJSONObject: fields)
    let decoded = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    return try PGStatsReport(fields: decoded)
  }

  func testAWellFormedReport() throws {
    let parsed = try parse(report([pg(), pg(["pgid": "1.b", "state": "active+recovering"])]))
    XCTAssertEqual(parsed.osd, 1)
    XCTAssertEqual(parsed.epoch, 12)
    XCTAssertEqual(parsed.pgs.count, 2)
    let first = parsed.pgs[0]
    XCTAssertEqual(first.pgid, PGID(pool: 1, seed: 10))
    XCTAssertEqual(first.up, [1, 2, 0])
    XCTAssertEqual(first.numObjects, 10)
    XCTAssertEqual(first.numBytesRecovered, 12288)
    XCTAssertEqual(first.lastEpochClean, 12)
    XCTAssertEqual(first.lastUpdate, "12'34")
    XCTAssertEqual(parsed.osdStats, OSDSpace(kb: 1000, kbUsed: 100, kbAvail: 900))
    // Optional fields may be absent; an empty report is fine.
    let minimal = try parse(["id": 0, "epoch": 1, "pgs": [["pgid": "0.0", "state": "peering"]]])
    XCTAssertEqual(minimal.pgs[0].actingPrimary, -1)
    XCTAssertNil(minimal.osdStats)
    XCTAssertEqual(try parse(report([])).pgs, [])
  }

  func testHostileReportsAreRefusedWhole() throws {
    let many = Array(repeating: pg(), count: PGStatsReport.maxPGs + 1)
    let distinct = (0..<PGStatsReport.maxPGs).map { pg(["pgid": "1.\(String($0, radix: 16))"]) }
    XCTAssertEqual(try parse(report(distinct)).pgs.count, PGStatsReport.maxPGs, "at the bound")
    let hostile: [(String, [String: Any])] = [
      ("too many pgs", report(many)),
      ("pgs not a list", report([], ["pgs": ["1.a": pg()]])),
      ("pgs missing", ["id": 1, "epoch": 1]),
      ("id missing", report([], ["id": NSNull()])),
      ("id negative", report([], ["id": -1])),
      ("id too big", report([], ["id": 1 << 40])),
      ("id a string", report([], ["id": "1"])),
      ("id a fraction", report([], ["id": 1.5])),
      ("epoch past 32 bits", report([], ["epoch": 1 << 33])),
      ("epoch negative", report([], ["epoch": -3])),
      ("a pg not an object", report(["1.a"])),
      ("pgid missing", report([pg(["pgid": NSNull()])])),
      ("pgid malformed", report([pg(["pgid": "1"])])),
      ("pgid x.y", report([pg(["pgid": "x.y"])])),
      ("pgid 1.zz", report([pg(["pgid": "1.zz"])])),
      ("pgid signed", report([pg(["pgid": "-1.0"])])),
      ("pgid huge", report([pg(["pgid": String(repeating: "1", count: 1000) + ".0"])])),
      ("pgid twice", report([pg(), pg()])),
      ("state missing", report([pg(["state": NSNull()])])),
      ("state empty", report([pg(["state": ""])])),
      ("state odd characters", report([pg(["state": "active clean"])])),
      ("state long", report([pg(["state": String(repeating: "a", count: 300)])])),
      ("state a number", report([pg(["state": 5])])),
      ("count negative", report([pg(["num_objects": -1])])),
      ("count absurd", report([pg(["num_bytes": Int64(1) << 60])])),
      ("count beyond 64 bits", report([pg(["num_bytes": 1e30])])),
      ("count a string", report([pg(["num_objects_degraded": "5"])])),
      ("count a list", report([pg(["num_objects_misplaced": [1]])])),
      ("count a fraction", report([pg(["num_objects_unfound": 0.5])])),
      ("last_epoch_clean past 32 bits", report([pg(["last_epoch_clean": 1 << 32])])),
      ("log_size negative", report([pg(["log_size": -5])])),
      ("up too long", report([pg(["up": Array(repeating: 1, count: 33)])])),
      ("up not a list", report([pg(["up": 1])])),
      ("acting with a string", report([pg(["acting": ["1"]])])),
      ("acting with a bad id", report([pg(["acting": [-2]])])),
      ("acting beyond max OSDs", report([pg(["acting": [1 << 21]])])),
      ("primary out of range", report([pg(["acting_primary": 1 << 31])])),
      ("blocked_by nested", report([pg(["blocked_by": [[1]]])])),
      ("last_update malformed", report([pg(["last_update": "12-34"])])),
      ("last_update letters", report([pg(["last_update": "a'b"])])),
      ("last_update long", report([pg(["last_update": String(repeating: "1", count: 40) + "'1"])])),
      ("last_update a number", report([pg(["last_update": 5])])),
      ("osd_stats not an object", report([], ["osd_stats": [1, 2]])),
      ("osd_stats negative", report([], ["osd_stats": ["kb": -1]])),
    ]
    for (what, fields) in hostile {
      XCTAssertThrowsError(try parse(fields), what) { error in
        XCTAssertFalse("\(error)".isEmpty, what)
      }
    }
    // Erasure-coded holes (CRUSH's none) are OSD ids too; unknown keys are ignored.
    let holes = try parse(report([pg(["acting": [1, 0x7fff_ffff, 2], "extra": ["x": 1]])]))
    XCTAssertEqual(holes.pgs[0].acting, [1, Int32.max, 2])
  }
}
