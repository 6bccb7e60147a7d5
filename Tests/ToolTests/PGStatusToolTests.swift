import Foundation
import LoligoClient
import LoligoMessages
import LoligoPlacement
import LoligoWire
import NIOCore
import XCTest

/// The monitors' side of OSD failure handling through real daemons and the `loligo` tool:
/// flags, PG statistics in status and pg ls/dump, bad PG ids, hostile reports, history.
final class PGStatusToolTests: XCTestCase {
  /// Three OSDs that only the monitors know of (booted by hand, no daemons), so nothing but
  /// the test reports PG statistics; pool `p` with 8 PGs of size 3.
  func fakeOSDs(_ client: MonClient) throws -> OSDMap {
    for osd in 0..<3 {
      let reply = try client.commandSync([
        "prefix": "osd boot", "id": osd, "addr": "127.0.0.1:\(40000 + osd)", "host": "h\(osd)",
        "nonce": 1,
      ])
      XCTAssertEqual(reply.result, 0, reply.status)
    }
    let pool = try client.commandSync([
      "prefix": "osd pool create", "pool": "p", "pg_num": 8, "size": 3,
    ])
    XCTAssertEqual(pool.result, 0, pool.status)
    return try osdMap(client)
  }

  func osdMap(_ client: MonClient) throws -> OSDMap {
    var raw = try client.commandSync(["prefix": "osd getmap"]).output
    return try OSDMap(from: &raw)
  }

  /// `pg stats` from each primary: PGs 1.0-1.3 degraded (5 objects in all), the rest clean;
  /// 10 objects of 4 KiB each.
  func report(_ client: MonClient, _ map: OSDMap, recovered: Int = 0) throws {
    let degraded: [UInt32: Int] = [0: 2, 1: 1, 2: 1, 3: 1]
    var byPrimary: [Int32: [[String: Any]]] = [:]
    for mapping in try map.mapAllPGs(pool: 1) {
      let count = degraded[mapping.pgid.seed]
      byPrimary[mapping.actingPrimary, default: []].append([
        "pgid": "\(mapping.pgid)",
        "state": count == nil ? "active+clean" : "active+recovering+degraded",
        "up": mapping.up.map { Int($0) }, "acting": mapping.acting.map { Int($0) },
        "up_primary": Int(mapping.upPrimary), "acting_primary": Int(mapping.actingPrimary),
        "num_objects": 10, "num_bytes": 40960, "num_objects_degraded": count ?? 0,
        "num_objects_misplaced": 0, "num_objects_unfound": 0,
        "num_objects_recovered": count == nil ? 0 : recovered,
        "num_bytes_recovered": count == nil ? 0 : recovered * 4096,
        "last_epoch_clean": Int(map.epoch), "log_size": 10, "last_update": "\(map.epoch)'10",
        "blocked_by": [Int](),
      ])
    }
    for (osd, pgs) in byPrimary {
      let reply = try client.commandSync([
        "prefix": "pg stats", "id": Int(osd), "epoch": Int(map.epoch), "pgs": pgs,
        "osd_stats": ["kb": 1 << 20, "kb_used": 1 << 10, "kb_avail": (1 << 20) - (1 << 10)],
      ])
      XCTAssertEqual(reply.result, 0, reply.status)
      XCTAssertEqual(reply.status, "took \(pgs.count) of \(pgs.count) pgs")
    }
  }

  func testFlagsPGStatsStatusAndPGListsOnThreeMonitors() throws {
    let cluster = try TestCluster(mons: 3)
    defer { cluster.tearDown() }
    let client = try cluster.client()
    defer { client.shutdown() }
    let map = try fakeOSDs(client)

    // Flags: set, shown in health and osd dump, refused when unknown, unset.
    let set = try cluster.loligo(["osd", "set", "noout"])
    XCTAssertEqual(set.0, 0, set.2)
    XCTAssertEqual(set.1, "noout is set\n")
    let flagged = jsonObject(try cluster.loligo(["status", "--format", "json"]).1)
    let checks = (flagged["health"] as? [String: Any])?["checks"] as? [String: String]
    XCTAssertEqual(checks?["OSDMAP_FLAGS"], "noout flag(s) set")
    XCTAssertTrue(try cluster.loligo(["status"]).1.contains("OSDMAP_FLAGS: noout flag(s) set"))
    XCTAssertTrue(try cluster.loligo(["osd", "dump"]).1.contains("\nflags noout\n"))
    let unknownFlag = try cluster.loligo(["osd", "set", "sortbitwise"])
    XCTAssertNotEqual(unknownFlag.0, 0)
    XCTAssertTrue(unknownFlag.2.contains("unknown flag 'sortbitwise'"), unknownFlag.2)
    XCTAssertEqual(try cluster.loligo(["osd", "unset", "noout"]).0, 0)

    // Before any report: every PG unknown, counted.
    var status = jsonObject(try cluster.loligo(["status", "--format", "json"]).1)
    var pgmap = try XCTUnwrap(status["pgmap"] as? [String: Any])
    XCTAssertEqual(pgmap["num_pgs"] as? Int, 8)
    XCTAssertEqual(
      (pgmap["pgs_by_state"] as? [[String: Any]])?.first?["state_name"] as? String, "unknown")

    // Reports straight from a MonClient (whichever monitor it reaches: a peon sends it on).
    try report(client, map)
    try report(client, map, recovered: 50)
    // Every monitor the tool happens to ask answers with the leader's PG map.
    for _ in 0..<4 {
      status = jsonObject(try cluster.loligo(["status", "--format", "json"]).1)
      pgmap = try XCTUnwrap(status["pgmap"] as? [String: Any])
      XCTAssertEqual(pgmap["num_pgs"] as? Int, 8)
      XCTAssertEqual(pgmap["num_objects"] as? Int, 80)
      XCTAssertEqual(pgmap["data_bytes"] as? Int, 8 * 40960)
      XCTAssertEqual(pgmap["degraded_objects"] as? Int, 5)
      XCTAssertEqual(pgmap["degraded_total"] as? Int, 240)
      let states = try XCTUnwrap(pgmap["pgs_by_state"] as? [[String: Any]])
      XCTAssertEqual(states.count, 2)
      XCTAssertEqual(states.reduce(0) { $0 + ($1["count"] as? Int ?? 0) }, 8)
      XCTAssertEqual(
        states.first { $0["state_name"] as? String == "active+recovering+degraded" }?["count"]
          as? Int, 4)
      let checks = (status["health"] as? [String: Any])?["checks"] as? [String: String]
      XCTAssertEqual(
        checks?["PG_DEGRADED"],
        "Degraded data redundancy: 5/240 objects degraded (2.083%), 4 pgs degraded")
    }
    let text = try cluster.loligo(["status"]).1
    print(text)
    for line in [
      "    pools:   1 pools, 8 pgs\n", "    objects: 80 objects, 320 KiB\n",
      "    pgs:     5/240 objects degraded (2.083%)\n", "             4 active+clean\n",
      "             4 active+recovering+degraded\n",
    ] {
      XCTAssertTrue(text.contains(line), "status lacks \(line.debugDescription):\n\(text)")
    }
    XCTAssertTrue(text.contains("\n  io:\n    recovery: "), text)

    // pg ls and pg dump, as JSON and as text.
    let ls = jsonObject(try cluster.loligo(["pg", "ls", "--format", "json"]).1)
    let stats = try XCTUnwrap(ls["pg_stats"] as? [[String: Any]])
    XCTAssertEqual(stats.count, 8)
    XCTAssertEqual(stats.first?["pgid"] as? String, "1.0")
    XCTAssertEqual(stats.first?["state"] as? String, "active+recovering+degraded")
    XCTAssertEqual((stats.first?["stat_sum"] as? [String: Any])?["num_objects_degraded"] as? Int, 2)
    XCTAssertEqual(
      stats.first?["acting"] as? [Int],
      try map.map(pg: PGID(pool: 1, seed: 0)).acting.map { Int($0) })
    XCTAssertEqual(
      (jsonObject(try cluster.loligo(["pg", "ls", "p", "--format", "json"]).1)["pg_stats"]
        as? [[String: Any]])?.count, 8)
    let table = try cluster.loligo(["pg", "ls"]).1
    XCTAssertTrue(table.hasPrefix("PG   OBJECTS  DEGRADED"), table)
    XCTAssertEqual(table.split(separator: "\n").count, 9)
    let dump = jsonObject(try cluster.loligo(["pg", "dump", "--format", "json"]).1)
    let pgMap = try XCTUnwrap(dump["pg_map"] as? [String: Any])
    XCTAssertEqual((pgMap["pg_stats"] as? [[String: Any]])?.count, 8)
    XCTAssertEqual(
      ((pgMap["pg_stats_sum"] as? [String: Any])?["stat_sum"] as? [String: Any])?["num_objects"]
        as? Int, 80)
    XCTAssertEqual(try cluster.loligo(["pg", "dump"]).0, 0)
    let pgMapLine = try cluster.loligo(["pg", "map", "1.3"]).1
    XCTAssertTrue(pgMapLine.hasPrefix("osdmap e"), pgMapLine)
    XCTAssertTrue(pgMapLine.contains(" pg 1.3 (1.3) -> up ["), pgMapLine)

    // Bad PG ids: one clear line, non-zero exit, before or at the monitors.
    for arguments in [
      ["pg", "map", "1"], ["pg", "map", "x.y"], ["pg", "map", "1.zz"], ["pg", "map", "9.0"],
      ["pg", "map", "1.8"], ["pg", "1.zz", "query"], ["pg", "9.0", "query"],
      ["osd", "pg-temp", "1", "0"], ["osd", "pg-temp", "1.8", "0"], ["pg", "ls", "nopool"],
    ] {
      let (code, out, err) = try cluster.loligo(arguments)
      XCTAssertNotEqual(code, 0, "\(arguments)")
      XCTAssertTrue(out.isEmpty, "\(arguments): \(out)")
      let message = err.trimmingCharacters(in: .whitespacesAndNewlines)
      XCTAssertFalse(message.isEmpty, "\(arguments)")
      XCTAssertEqual(message.split(separator: "\n").count, 1, "\(arguments): one line: \(message)")
      XCTAssertTrue(
        message.contains("pg") || message.contains("pool"), "\(arguments): \(message)")
    }
    // The primary of a PG is no daemon here: pg query says so.
    let query = try cluster.loligo(["pg", "1.0", "query"])
    XCTAssertNotEqual(query.0, 0)
    XCTAssertTrue(query.2.contains("is not local"), query.2)

    // pg-temp through the tool, then it shows in osd dump; removed again.
    let mapping = try map.map(pg: PGID(pool: 1, seed: 2))
    let temp = try cluster.loligo(
      ["osd", "pg-temp", "1.2"] + mapping.up.reversed().map { String($0) })
    XCTAssertEqual(temp.0, 0, temp.2)
    XCTAssertTrue(try cluster.loligo(["osd", "dump"]).1.contains("pg_temp 1.2 ["))
    XCTAssertEqual(try cluster.loligo(["osd", "pg-temp", "1.2"]).0, 0)
    XCTAssertFalse(try cluster.loligo(["osd", "dump"]).1.contains("pg_temp 1.2"))

    // Hostile reports are refused; the monitors keep serving.
    let hostile: [[String: Any]] = [
      [
        "prefix": "pg stats", "id": 0, "epoch": 1,
        "pgs": Array(repeating: ["pgid": "1.0"], count: 5000),
      ],
      ["prefix": "pg stats", "id": 0, "epoch": -1, "pgs": [[String: Any]]()],
      ["prefix": "pg stats", "id": "zero", "epoch": 1, "pgs": [[String: Any]]()],
      ["prefix": "pg stats", "id": 0, "epoch": 1, "pgs": "all"],
      [
        "prefix": "pg stats", "id": 0, "epoch": 1,
        "pgs": [["pgid": "1.0", "state": "active", "num_objects": 1e300]],
      ],
      [
        "prefix": "pg stats", "id": 0, "epoch": 1,
        "pgs": [["pgid": "1.0", "state": "active", "up": Array(repeating: 1, count: 100_000)]],
      ],
      ["prefix": "pg stats", "id": 7, "epoch": 1, "pgs": [[String: Any]]()],
    ]
    for fields in hostile {
      let reply = try client.commandSync(fields)
      XCTAssertNotEqual(reply.result, 0, "\(fields["id"] ?? "") \(reply.status)")
    }
    let huge = try client.commandSync([
      "prefix": "pg stats", "blob": String(repeating: "x", count: 2 << 20),
    ])
    XCTAssertNotEqual(huge.result, 0)
    status = jsonObject(try cluster.loligo(["status", "--format", "json"]).1)
    XCTAssertEqual((status["pgmap"] as? [String: Any])?["num_objects"] as? Int, 80, "untouched")

    // History: a subscriber from epoch 1 gets the base and every incremental after it.
    let updates = UpdateRecorder()
    client.onMap(MessageType.osdMap) { message in
      if let update = try? OSDMapUpdate(message) { updates.record(update) }
    }
    client.subscribe("osdmap", from: 1, onetime: true)
    let deadline = Date().addingTimeInterval(10)
    while updates.all.isEmpty && Date() < deadline { usleep(20_000) }
    let first = try XCTUnwrap(updates.all.first)
    XCTAssertEqual(Array(first.fullMaps.keys), [1])
    XCTAssertEqual(first.incrementals.keys.min(), 2)
    XCTAssertEqual(first.advance(nil)?.epoch, first.newest)
  }

  /// The base full map a subscriber from epoch 1 gets now.
  func baseEpoch(_ client: MonClient) throws -> UInt32 {
    let updates = UpdateRecorder()
    client.onMap(MessageType.osdMap) { message in
      if let update = try? OSDMapUpdate(message) { updates.record(update) }
    }
    client.subscribe("osdmap", from: 1, onetime: true)
    let deadline = Date().addingTimeInterval(10)
    while updates.all.isEmpty && Date() < deadline { usleep(20_000) }
    return try XCTUnwrap(updates.all.first?.fullMaps.keys.min())
  }

  func testHistoryIsTrimmedOnlyOnceEveryPGHasReported() throws {
    let cluster = try TestCluster(mons: 1, extra: ["--set", "mon_min_osdmap_epochs=3"])
    defer { cluster.tearDown() }
    let client = try cluster.client()
    defer { client.shutdown() }
    _ = try fakeOSDs(client)
    for index in 0..<6 {
      let flag = try client.commandSync([
        "prefix": index % 2 == 0 ? "osd set" : "osd unset", "key": "noin",
      ])
      XCTAssertEqual(flag.result, 0)
    }
    // No PG has reported: after a few leader ticks the history still starts at epoch 1.
    sleep(3)
    XCTAssertEqual(try baseEpoch(client), 1)
    // Every PG reports last_epoch_clean = the newest epoch: the leader keeps only 3 epochs.
    let map = try osdMap(client)
    try report(client, map)
    let deadline = Date().addingTimeInterval(15)
    var base: UInt32 = 1
    while base == 1 && Date() < deadline {
      usleep(500_000)
      base = try baseEpoch(client)
    }
    XCTAssertEqual(base, map.epoch - 2)
  }

  func testStatusWatchPrintsChangesAndStopsOnSIGINT() throws {
    let cluster = try TestCluster(mons: 1)
    defer { cluster.tearDown() }
    let watch = try ToolProcess("loligo", ["status", "--watch", "--conf", cluster.conf])
    func waitFor(_ text: String) -> Bool {
      let deadline = Date().addingTimeInterval(20)
      while Date() < deadline {
        if watch.stdout.contains(text) { return true }
        usleep(50_000)
      }
      return false
    }
    XCTAssertTrue(waitFor("  cluster:"), watch.stdout + watch.stderr)
    XCTAssertFalse(watch.stdout.contains("OSDMAP_FLAGS"))
    XCTAssertEqual(try cluster.loligo(["osd", "set", "nodown"]).0, 0)
    XCTAssertTrue(waitFor("OSDMAP_FLAGS: nodown flag(s) set"), watch.stdout)
    XCTAssertGreaterThanOrEqual(watch.stdout.components(separatedBy: "  cluster:").count - 1, 2)
    kill(watch.process.processIdentifier, SIGINT)
    XCTAssertEqual(watch.wait(timeout: 10), 0, watch.stderr)
  }
}

final class UpdateRecorder: @unchecked Sendable {  // `updates` under `lock`
  private let lock = NSLock()
  private var updates: [OSDMapUpdate] = []
  func record(_ update: OSDMapUpdate) { lock.withLock { updates.append(update) } }
  var all: [OSDMapUpdate] { lock.withLock { updates } }
}
