import Foundation
import LoligoPlacement
import XCTest

@testable import LoligoMon

/// The leader's PG map: which reports it takes, stale and unknown PGs, totals, recovery rate,
/// health messages, and the last_epoch_clean the trimming waits for.
final class PGMapTests: XCTestCase {
  /// Four OSDs on four hosts, pool 1 with 8 PGs of size 3.
  func cluster() throws -> ServiceHarness {
    let h = try ServiceHarness()
    h.bootOSDs(4)
    XCTAssertEqual(
      h.run(["prefix": "osd pool create", "pool": "p", "pg_num": 8, "size": 3]).code, 0)
    return h
  }

  /// Each primary's report of its PGs in `map`: `stat` fills in each entry.
  func reports(
    _ map: OSDMap, _ stat: (PGID, inout PGStatEntry) -> Void = { _, _ in }
  ) throws -> [PGStatsReport] {
    var byOSD: [Int32: [PGStatEntry]] = [:]
    for (id, _) in map.pools {
      for mapping in try map.mapAllPGs(pool: id) {
        var entry = PGStatEntry(pgid: mapping.pgid, state: "active+clean")
        entry.up = mapping.up
        entry.acting = mapping.acting
        entry.upPrimary = mapping.upPrimary
        entry.actingPrimary = mapping.actingPrimary
        entry.numObjects = 10
        entry.numBytes = 40960
        entry.lastEpochClean = map.epoch
        stat(mapping.pgid, &entry)
        byOSD[mapping.actingPrimary, default: []].append(entry)
      }
    }
    return byOSD.map {
      PGStatsReport(
        osd: $0.key, epoch: map.epoch, pgs: $0.value,
        osdStats: OSDSpace(kb: 1 << 20, kbUsed: 1 << 10, kbAvail: (1 << 20) - (1 << 10)))
    }
  }

  func ingestAll(_ pgmap: inout PGMap, _ reports: [PGStatsReport], _ map: OSDMap, now: Double) {
    for report in reports {
      guard case .success = pgmap.ingest(report, map: map, now: now) else {
        return XCTFail("osd.\(report.osd)'s report refused")
      }
    }
  }

  /// A report from before a PG's interval changed (an OSD of it went down, came back, an
  /// acting set was forced) no longer speaks for it: the PG shows as peering until its primary
  /// reports again, never as the clean state it had.
  func testReportsFromBeforeAnIntervalChangeShowAsPeering() throws {
    let h = try cluster()
    var pgmap = PGMap(now: 100, staleAfter: 10, map: h.map)
    let before = h.map
    ingestAll(&pgmap, try reports(before), before, now: 101)
    XCTAssertEqual(pgmap.summary(before, now: 101).byState, ["active+clean": 8])
    // osd.3 goes down and comes back with a new up_from: every PG it serves starts a new
    // interval; the primaries, still up, have not reported since.
    XCTAssertEqual(h.run(["prefix": "osd down", "ids": [3]]).code, 0)
    XCTAssertEqual(h.run(["prefix": "osd boot", "id": 3, "addr": "127.0.0.1:7003"]).code, 0)
    let after = h.map
    pgmap.observe(after, now: 102)
    let touched = try after.mapAllPGs(pool: 1).filter { $0.acting.contains(3) }.count
    XCTAssertGreaterThan(touched, 0)
    var summary = pgmap.summary(after, now: 102)
    XCTAssertEqual(summary.byState["peering"], touched, "\(summary.byState)")
    // Reports at the new epoch speak for the new interval again.
    ingestAll(&pgmap, try reports(after), after, now: 103)
    summary = pgmap.summary(after, now: 103)
    XCTAssertEqual(summary.byState, ["active+clean": 8])
  }

  func testUnknownUntilReportedThenCleanAndCounted() throws {
    let h = try cluster()
    var pgmap = PGMap(now: 100, staleAfter: 10, map: h.map)
    var summary = pgmap.summary(h.map, now: 101)
    XCTAssertEqual(summary.numPGs, 8)
    XCTAssertEqual(summary.byState, ["unknown": 8])
    XCTAssertNil(summary.healthChecks["PG_AVAILABILITY"], "unknown, within the grace")
    XCTAssertNil(pgmap.minLastEpochClean(h.map), "nothing reported: nothing may be trimmed")
    // Past the grace, never-reported PGs are inactive.
    summary = pgmap.summary(h.map, now: 111)
    XCTAssertEqual(
      summary.healthChecks["PG_AVAILABILITY"], "Reduced data availability: 8 pgs inactive")
    XCTAssertEqual(summary.json["unknown_pgs_ratio"] as? Double, 1.0)

    let all = try reports(h.map)
    ingestAll(&pgmap, Array(all.dropFirst()), h.map, now: 112)
    XCTAssertNil(pgmap.minLastEpochClean(h.map), "one primary has not reported yet")
    ingestAll(&pgmap, [all[0]], h.map, now: 112)
    summary = pgmap.summary(h.map, now: 112)
    XCTAssertEqual(summary.byState, ["active+clean": 8])
    XCTAssertEqual(summary.objects, 80)
    XCTAssertEqual(summary.bytes, 8 * 40960)
    XCTAssertEqual(summary.copies, 240)
    XCTAssertTrue(summary.healthChecks.isEmpty)
    XCTAssertEqual(summary.kb, Int64(all.count) << 20)
    XCTAssertEqual(pgmap.minLastEpochClean(h.map), h.map.epoch)
    let json = summary.json
    XCTAssertEqual(json["num_pgs"] as? Int, 8)
    XCTAssertEqual(json["num_pools"] as? Int, 1)
    XCTAssertEqual(json["num_objects"] as? Int64, 80)
    XCTAssertEqual(json["data_bytes"] as? Int64, 8 * 40960)
    let byState = try XCTUnwrap(json["pgs_by_state"] as? [[String: Any]])
    XCTAssertEqual(byState.count, 1)
    XCTAssertEqual(byState[0]["state_name"] as? String, "active+clean")
    XCTAssertEqual(byState[0]["count"] as? Int, 8)
    for key in ["degraded_ratio", "misplaced_ratio", "recovering_objects_per_sec"] {
      XCTAssertNil(json[key], "\(key) only when relevant")
    }
  }

  func testOnlyTheActingPrimaryIsTakenAndReportsGoStale() throws {
    let h = try cluster()
    var pgmap = PGMap(now: 0, staleAfter: 10, map: h.map)
    let all = try reports(h.map)
    ingestAll(&pgmap, all, h.map, now: 1)
    // A report of the same PGs from an OSD that is not their primary is not taken.
    let pg = PGID(pool: 1, seed: 3)
    let primary = try h.map.map(pg: pg).actingPrimary
    let other = try XCTUnwrap((0..<4).map(Int32.init).first { $0 != primary })
    var forged = PGStatEntry(pgid: pg, state: "down")
    forged.numObjects = 99
    XCTAssertEqual(
      try pgmap.ingest(PGStatsReport(osd: other, epoch: 1, pgs: [forged]), map: h.map, now: 2)
        .get(), 0)
    XCTAssertEqual(pgmap.records[pg]?.stat.state, "active+clean")
    // Not up: refused.
    let initial = h.map
    _ = h.run(["prefix": "osd failure", "ids": [Int(primary)]])
    let map = h.map
    pgmap.observe(map, now: 3)
    XCTAssertThrowsError(
      try pgmap.ingest(PGStatsReport(osd: primary, epoch: 1, pgs: []), map: map, now: 3).get())
    // Its PGs are stale now (their reporter is down); the others it served are peering (a
    // new interval, no report since); the rest are as reported.
    var summary = pgmap.summary(map, now: 3)
    let led = all.first { $0.osd == primary }!.pgs.count
    let served = try initial.mapAllPGs(pool: 1).filter { !$0.acting.contains(primary) }.count
    XCTAssertEqual(summary.byState["stale+active+clean"], led)
    XCTAssertEqual(summary.byState["peering"] ?? 0, 8 - led - served)
    XCTAssertEqual(summary.byState["active+clean"] ?? 0, served)
    XCTAssertEqual(
      summary.healthChecks["PG_AVAILABILITY"],
      "Reduced data availability: "
        + (8 - led - served > 0
          ? "\(PGMapSummary.pgs(8 - led - served)) inactive, \(PGMapSummary.pgs(8 - led - served)) peering, "
          : "") + "\(PGMapSummary.pgs(led)) stale")
    // Silence past the bound: everything is stale.
    summary = pgmap.summary(map, now: 12)
    XCTAssertEqual(summary.byState, ["stale+active+clean": 8])
    // A pg_temp moving a PG's primary makes the old primary's report stale at once.
    _ = h.run(["prefix": "osd boot", "id": Int(primary), "addr": "127.0.0.1:9999"])
    pgmap.observe(h.map, now: 20)
    ingestAll(&pgmap, try reports(h.map), h.map, now: 20)
    let moved = PGID(pool: 1, seed: 5)
    let mapping = try h.map.map(pg: moved)
    let newPrimary = try XCTUnwrap(mapping.up.dropFirst().first)
    XCTAssertEqual(
      h.run([
        "prefix": "osd pg-temp", "pgid": "\(moved)", "id": [Int(newPrimary), Int(mapping.up[0])],
      ]).code, 0)
    pgmap.observe(h.map, now: 21)
    let views = pgmap.views(h.map, now: 21)
    XCTAssertEqual(views.first { $0.pgid == moved }?.state, "stale+active+clean")
    XCTAssertEqual(views.filter { $0.state == "active+clean" }.count, 7)
    XCTAssertEqual(views.filter { $0.state == "peering" }.count, 0)
    // Pools that go take their PGs with them.
    _ = h.run(["prefix": "osd pool delete", "pool": "p"])
    pgmap.observe(h.map, now: 22)
    XCTAssertTrue(pgmap.records.isEmpty)
    XCTAssertEqual(pgmap.summary(h.map, now: 22).numPGs, 0)
    XCTAssertEqual(pgmap.minLastEpochClean(h.map), UInt32.max, "no PGs: nothing holds trimming")
  }

  func testDegradedTotalsAndHealthInCephsWords() throws {
    let h = try cluster()
    var pgmap = PGMap(now: 0, staleAfter: 10, map: h.map)
    // Four PGs degraded (5 objects in all), one misplacing 3, one with an unfound object,
    // one down, one peering.
    let degraded: [UInt32: Int64] = [0: 2, 1: 1, 2: 1, 3: 1]
    ingestAll(
      &pgmap,
      try reports(h.map) { pg, entry in
        if let count = degraded[pg.seed] {
          entry.state = "active+recovery_wait+degraded"
          entry.numObjectsDegraded = count
        }
        if pg.seed == 4 {
          entry.state = "active+remapped+backfilling"
          entry.numObjectsMisplaced = 3
        }
        if pg.seed == 5 {
          entry.state = "active+recovery_unfound+degraded"
          entry.numObjectsUnfound = 1
        }
        if pg.seed == 6 { entry.state = "down" }
        if pg.seed == 7 { entry.state = "peering" }
      }, h.map, now: 1)
    let summary = pgmap.summary(h.map, now: 1)
    XCTAssertEqual(
      summary.healthChecks["PG_DEGRADED"],
      "Degraded data redundancy: 5/240 objects degraded (2.083%), 5 pgs degraded")
    XCTAssertEqual(
      summary.healthChecks["PG_AVAILABILITY"],
      "Reduced data availability: 2 pgs inactive, 1 pg down, 1 pg peering")
    XCTAssertEqual(summary.healthChecks["OBJECT_UNFOUND"], "1/80 objects unfound (1.250%)")
    let json = summary.json
    XCTAssertEqual(json["degraded_objects"] as? Int64, 5)
    XCTAssertEqual(json["degraded_total"] as? Int64, 240)
    XCTAssertEqual(try XCTUnwrap(json["degraded_ratio"] as? Double), 5.0 / 240, accuracy: 1e-12)
    XCTAssertEqual(json["misplaced_objects"] as? Int64, 3)
    XCTAssertEqual(json["misplaced_total"] as? Int64, 240)
    XCTAssertEqual(json["unfound_objects"] as? Int64, 1)
    XCTAssertEqual(json["inactive_pgs_ratio"] as? Double, 0.25)
    let states = try XCTUnwrap(json["pgs_by_state"] as? [[String: Any]])
    XCTAssertEqual(states.first?["state_name"] as? String, "active+recovery_wait+degraded")
    XCTAssertEqual(states.first?["count"] as? Int, 4)
    XCTAssertEqual(states.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }, 8)
    XCTAssertEqual(PGMapSummary.pgs(1), "1 pg")
    // The status a leader answers carries it all.
    let status = try XCTUnwrap(
      h.services.read("status", [:], status: ServiceHarness.leaderStatus, pgmap: summary))
    let report = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(status.output.readableBytesView)) as? [String: Any])
    let pgmapJSON = try XCTUnwrap(report["pgmap"] as? [String: Any])
    XCTAssertEqual(pgmapJSON["num_pgs"] as? Int, 8)
    XCTAssertEqual(pgmapJSON["degraded_objects"] as? Int, 5)
    let checks = (report["health"] as? [String: Any])?["checks"] as? [String: String]
    XCTAssertEqual(checks?["PG_DEGRADED"], summary.healthChecks["PG_DEGRADED"])
    XCTAssertEqual((report["health"] as? [String: Any])?["status"] as? String, "HEALTH_WARN")
  }

  func testRecoveryRateFromTheCountersGrowth() throws {
    let h = try cluster()
    var pgmap = PGMap(now: 0, staleAfter: 100, map: h.map)
    // Every PG recovers 2 objects (8 KiB) a second: 16 objects and 64 KiB a second in all.
    for second in 0...10 {
      ingestAll(
        &pgmap,
        try reports(h.map) { _, entry in
          entry.state = "active+recovering+degraded"
          entry.numObjectsRecovered = Int64(second) * 2
          entry.numBytesRecovered = Int64(second) * 8192
        }, h.map, now: Double(second))
    }
    var summary = pgmap.summary(h.map, now: 10)
    XCTAssertEqual(summary.recoveringObjectsPerSecond, 16)
    XCTAssertEqual(summary.recoveringBytesPerSecond, 65536)
    XCTAssertEqual(summary.json["recovering_objects_per_sec"] as? Int64, 16)
    XCTAssertEqual(summary.json["recovering_bytes_per_sec"] as? Int64, 65536)
    // Counters that go back (a restarted primary) are not negative recovery.
    ingestAll(
      &pgmap,
      try reports(h.map) { _, entry in entry.numObjectsRecovered = 0 }, h.map, now: 11)
    // Nothing recovered for a whole window: no rate.
    summary = pgmap.summary(h.map, now: 17)
    XCTAssertEqual(summary.recoveringObjectsPerSecond, 0)
    XCTAssertNil(summary.json["recovering_objects_per_sec"])
  }

  func testLastEpochCleanIsTheSmallestOverEveryPG() throws {
    let h = try cluster()
    var pgmap = PGMap(now: 0, staleAfter: 10, map: h.map)
    ingestAll(
      &pgmap,
      try reports(h.map) { pg, entry in entry.lastEpochClean = 40 + pg.seed }, h.map, now: 1)
    XCTAssertEqual(pgmap.minLastEpochClean(h.map), 40)
    // A new pool's PGs have not reported: nothing may be trimmed again until they do.
    _ = h.run(["prefix": "osd pool create", "pool": "q", "pg_num": 2, "size": 2])
    pgmap.observe(h.map, now: 2)
    XCTAssertNil(pgmap.minLastEpochClean(h.map))
    ingestAll(
      &pgmap,
      try reports(h.map) { pg, entry in entry.lastEpochClean = pg.pool == 2 ? 7 : 50 }, h.map,
      now: 3)
    XCTAssertEqual(pgmap.minLastEpochClean(h.map), 7)
  }
}
