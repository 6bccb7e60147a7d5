import Foundation
import LoligoPlacement
import XCTest

@testable import LoligoMon

/// Full OSDs at the monitors: the ratios in the map and their commands, the full states the
/// leader proposes from the OSDs' space reports, the health checks they raise, and `df` /
/// `osd df`.
final class OSDFullTests: XCTestCase {
  func testANewClusterStartsWithCephsRatiosAndTheCommandsChangeThem() throws {
    let h = try ServiceHarness()
    XCTAssertEqual(h.map.fullRatio, 0.95)
    XCTAssertEqual(h.map.backfillfullRatio, 0.90)
    XCTAssertEqual(h.map.nearfullRatio, 0.85)
    let epoch = h.map.epoch
    XCTAssertEqual(h.run(["prefix": "osd set-full-ratio", "ratio": 0.97]).code, 0)
    XCTAssertEqual(h.run(["prefix": "osd set-nearfull-ratio", "ratio": 0.8]).code, 0)
    XCTAssertEqual(h.map.fullRatio, 0.97)
    XCTAssertEqual(h.map.nearfullRatio, 0.8)
    XCTAssertEqual(h.map.backfillfullRatio, 0.90)
    XCTAssertEqual(h.map.epoch, epoch + 2)
    for bad: [String: Any] in [
      ["ratio": 1.5], ["ratio": -0.1], ["ratio": "0.9"], [:],
    ] {
      let result = h.run(bad.merging(["prefix": "osd set-backfillfull-ratio"]) { a, _ in a })
      XCTAssertEqual(result.code, Errno.invalid.rawValue, "\(bad)")
    }
    XCTAssertEqual(h.map.epoch, epoch + 2, "a refused ratio is no epoch")
    XCTAssertNil(try h.healthChecks()["OSD_OUT_OF_ORDER_FULL"])
    // nearfull above backfillfull: allowed, as in Ceph, and warned about.
    XCTAssertEqual(h.run(["prefix": "osd set-nearfull-ratio", "ratio": 0.92]).code, 0)
    XCTAssertEqual(try h.healthChecks()["OSD_OUT_OF_ORDER_FULL"], "full ratio(s) out of order")
    // The ratios are in the map: a restarted monitor has them.
    let reloaded = try MonServices(store: h.store).osdmap.map
    XCTAssertEqual(reloaded.fullRatio, 0.97)
    XCTAssertEqual(reloaded.nearfullRatio, 0.92)
  }

  /// What the leader proposes from space reports, and what the map and health make of it.
  func testSpaceReportsMarkOSDsAndHealthNamesThem() throws {
    let h = try ServiceHarness()
    h.bootOSDs(4)
    func space(_ used: Int64) -> OSDSpace { OSDSpace(kb: 1000, kbUsed: used, kbAvail: 1000 - used) }
    // Strictly above a ratio, as Ceph compares: 850/1000 is not nearfull, 950 not full.
    var reports: [Int32: OSDSpace] = [0: space(500), 1: space(851), 2: space(950), 3: space(951)]
    var changes = MonDaemon.fullStateChanges(h.map, space: reports)
    XCTAssertEqual(changes.map(\.osd), [1, 2, 3])
    XCTAssertEqual(changes.map(\.state), ["nearfull", "backfillfull", "full"])
    XCTAssertEqual(h.run(Self.fullStates(changes)).code, 0)
    XCTAssertEqual(h.map.entry(1)?.state.contains(.nearFull), true)
    XCTAssertEqual(h.map.entry(2)?.state.contains(.backfillFull), true)
    XCTAssertEqual(h.map.entry(3)?.state.contains(.full), true)
    XCTAssertEqual(h.map.entry(3)?.state.contains(.up), true, "fullness leaves up alone")
    XCTAssertTrue(MonDaemon.fullStateChanges(h.map, space: reports).isEmpty, "settled")
    var health = try XCTUnwrap(try h.readJSON("health")["health"] as? [String: Any])
    XCTAssertEqual(health["status"] as? String, "HEALTH_ERR", "a full OSD is an error")
    let checks = try h.healthChecks()
    XCTAssertEqual(checks["OSD_NEARFULL"], "1 nearfull osd(s)")
    XCTAssertEqual(checks["OSD_BACKFILLFULL"], "1 backfillfull osd(s)")
    XCTAssertEqual(checks["OSD_FULL"], "1 full osd(s)")
    let detail = try XCTUnwrap(health["detail"] as? [String: [String]])
    XCTAssertEqual(detail["OSD_FULL"], ["osd.3 is full"])
    XCTAssertEqual(detail["OSD_NEARFULL"], ["osd.1 is near full"])
    // Space freed on osd.3, osd.2 fills up; osd.1 goes down (a down OSD is not full).
    reports = [0: space(500), 1: space(900), 2: space(999), 3: space(100)]
    XCTAssertEqual(h.run(["prefix": "osd down", "ids": [1]]).code, 0)
    changes = MonDaemon.fullStateChanges(h.map, space: reports)
    XCTAssertEqual(changes.map(\.osd), [1, 2, 3])
    XCTAssertEqual(changes.map(\.state), ["none", "full", "none"])
    XCTAssertEqual(h.run(Self.fullStates(changes)).code, 0)
    XCTAssertEqual(h.map.entry(1)?.state.intersection(OSDMap.fullnessStates), [])
    XCTAssertEqual(h.map.entry(1)?.state.contains(.up), false, "still down")
    XCTAssertEqual(h.map.entry(2)?.state.intersection(OSDMap.fullnessStates), .full)
    XCTAssertEqual(h.map.entry(3)?.state.intersection(OSDMap.fullnessStates), [])
    XCTAssertEqual(try h.healthChecks()["OSD_FULL"], "1 full osd(s)")
    XCTAssertNil(try h.healthChecks()["OSD_NEARFULL"])
    // Freed everywhere: no check left, and nothing more to propose.
    reports = [0: space(0), 2: space(10), 3: space(10)]
    XCTAssertEqual(
      h.run(Self.fullStates(MonDaemon.fullStateChanges(h.map, space: reports))).code, 0)
    XCTAssertTrue(MonDaemon.fullStateChanges(h.map, space: reports).isEmpty)
    health = try XCTUnwrap(try h.readJSON("health")["health"] as? [String: Any])
    XCTAssertNil((health["checks"] as? [String: String])?["OSD_FULL"])
    XCTAssertNotEqual(health["status"] as? String, "HEALTH_ERR")
    // An OSD not heard from keeps what it has; unset ratios mark nothing.
    XCTAssertTrue(MonDaemon.fullStateChanges(h.map, space: [:]).isEmpty)
    var unset = h.map
    unset.fullRatio = 0
    unset.backfillfullRatio = 0
    unset.nearfullRatio = 0
    XCTAssertEqual(unset.fullness(usedRatio: 1), [])
  }

  /// The states of one value go into the map whatever else the value changes, and a state
  /// change that undoes an earlier one of the same value leaves no toggle behind (an empty
  /// toggle would mean "mark down").
  func testFullStatesInOneValueWithOtherChanges() throws {
    let h = try ServiceHarness()
    h.bootOSDs(3)
    let results = h.commit([
      ["prefix": "osd full-states", "states": [["osd": 0, "state": "full"]]],
      ["prefix": "osd full-states", "states": [["osd": 0, "state": "none"]]],
      ["prefix": "osd down", "ids": [1]],
      ["prefix": "osd full-states", "states": [["osd": 2, "state": "nearfull"]]],
    ])
    XCTAssertEqual(results.map(\.code), [0, 0, 0, 0])
    XCTAssertEqual(h.map.entry(0)?.state.contains(.up), true, "osd.0 untouched")
    XCTAssertEqual(h.map.entry(0)?.state.intersection(OSDMap.fullnessStates), [])
    XCTAssertEqual(h.map.entry(1)?.state.contains(.up), false)
    XCTAssertEqual(h.map.entry(2)?.state.intersection(OSDMap.fullnessStates), .nearFull)
    // Unknown OSDs are skipped; malformed entries refused whole.
    XCTAssertEqual(
      h.run(["prefix": "osd full-states", "states": [["osd": 9, "state": "full"]]]).status,
      "no change")
    for bad: Any in [[["osd": 0, "state": "brimming"]], [["state": "full"]], "full", [1]] {
      XCTAssertEqual(
        h.run(["prefix": "osd full-states", "states": bad]).code, Errno.invalid.rawValue, "\(bad)")
    }
  }

  func testDFAndOSDDF() throws {
    let h = try ServiceHarness()
    h.bootOSDs(4)
    XCTAssertEqual(
      h.run(["prefix": "osd pool create", "pool": "p", "pg_num": 8, "size": 3]).code, 0)
    let map = h.map
    var pgmap = PGMap(now: 100, staleAfter: 10, map: map)
    // Every PG holds 2 objects of 1 MiB; osd.3 is fuller than the others.
    var byOSD: [Int32: [PGStatEntry]] = [:]
    for mapping in try map.mapAllPGs(pool: 1) {
      var entry = PGStatEntry(pgid: mapping.pgid, state: "active+clean")
      entry.acting = mapping.acting
      entry.actingPrimary = mapping.actingPrimary
      entry.numObjects = 2
      entry.numBytes = 2 << 20
      byOSD[mapping.actingPrimary, default: []].append(entry)
    }
    let gib: Int64 = 1 << 20  // in KiB
    for osd: Int32 in 0..<4 {
      let used = osd == 3 ? gib / 2 : gib / 4
      let report = PGStatsReport(
        osd: osd, epoch: map.epoch, pgs: byOSD[osd] ?? [],
        osdStats: OSDSpace(kb: gib, kbUsed: used, kbAvail: gib - used))
      guard case .success = pgmap.ingest(report, map: map, now: 101) else {
        return XCTFail("report of osd.\(osd) refused")
      }
    }
    let df = PGMapDF.df(pgmap, map: map, now: 101)
    let stats = try XCTUnwrap(df["stats"] as? [String: Any])
    XCTAssertEqual(stats["total_bytes"] as? Int64, 4 << 30)
    let usedRaw: Int64 = 3 * (1 << 28) + (1 << 29)
    XCTAssertEqual(stats["total_used_raw_bytes"] as? Int64, usedRaw)
    let pool = try XCTUnwrap(
      (df["pools"] as? [[String: Any]])?.first { $0["name"] as? String == "p" })
    let poolStats = try XCTUnwrap(pool["stats"] as? [String: Any])
    XCTAssertEqual(poolStats["objects"] as? Int64, 16)
    XCTAssertEqual(poolStats["stored"] as? Int64, 16 << 20)
    XCTAssertEqual(poolStats["bytes_used"] as? Int64, 48 << 20)
    // The fullest OSD bounds it: (0.5 GiB - 5% of 1 GiB) / (1/4 share) / size 3.
    let room: Double = 536_870_912 - 0.05 * 1_073_741_824
    let expected: Double = room * 4 / 3
    let maxAvail = try XCTUnwrap(poolStats["max_avail"] as? Int64)
    XCTAssertEqual(Double(maxAvail), expected, accuracy: 4096)
    let percent = try XCTUnwrap(poolStats["percent_used"] as? Double)
    XCTAssertEqual(percent, Double(16 << 20) / Double((16 << 20) + maxAvail), accuracy: 1e-9)

    let osdDF = PGMapDF.osdDF(pgmap, map: map)
    let nodes = try XCTUnwrap(osdDF["nodes"] as? [[String: Any]])
    XCTAssertEqual(nodes.map { $0["id"] as? Int }, [0, 1, 2, 3])
    XCTAssertEqual(nodes[3]["utilization"] as? Double, 50)
    XCTAssertEqual(nodes[0]["utilization"] as? Double, 25)
    // Each PG has 3 OSDs: 24 PG copies over 4 OSDs.
    XCTAssertEqual(nodes.map { $0["pgs"] as? Int ?? 0 }.reduce(0, +), 24)
    let summary = try XCTUnwrap(osdDF["summary"] as? [String: Any])
    XCTAssertEqual(summary["average_utilization"] as? Double, 31.25)
    XCTAssertEqual(try XCTUnwrap(summary["max_var"] as? Double), 50 / 31.25, accuracy: 1e-9)
  }

  static func fullStates(_ changes: [(osd: Int32, state: String)]) -> [String: Any] {
    [
      "prefix": "osd full-states",
      "states": changes.map { ["osd": Int($0.osd), "state": $0.state] },
    ]
  }
}
