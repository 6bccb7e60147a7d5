import Foundation
import LoligoConsensus
import LoligoMessages
import LoligoPlacement
import NIOCore
import XCTest

@testable import LoligoMon

/// The services on Paxos, applied from committed values the way every monitor applies them.
final class MonServicesTests: XCTestCase {
  let fsid = UUID()

  func makeServices() throws -> (MonServices, InMemoryMonStore) {
    let monmap = try MonMap(fsid: fsid, monHost: "a=127.0.0.1:6789")
    let store = InMemoryMonStore()
    store.apply(MonServices.mkfs(monmap: monmap))
    return (try MonServices(store: store), store)
  }

  var version: UInt64 = 0

  /// Commits `commands` as one value and returns their results in order.
  func commit(
    _ services: MonServices, _ store: InMemoryMonStore, _ commands: [[String: Any]],
    stamp: Double = 1000
  )
    throws -> [CommandResult]
  {
    version += 1
    let proposals = commands.enumerated().map { index, fields in
      MonProposal(
        origin: 0, clientId: 1, tid: version * 100 + UInt64(index),
        payload: MonProposalPayload(fields: fields, stamp: stamp).encoded())
    }
    let applied = services.apply(
      CommittedValue(version: version, value: ByteBuffer(), proposals: proposals, isReplay: false))
    store.apply(applied.transaction)
    return proposals.map { applied.results[MonServices.ClientKey(clientId: 1, tid: $0.tid)]! }
  }

  func testBootFailureOutAndPools() throws {
    let (services, store) = try makeServices()
    XCTAssertEqual(services.osdmap.map.epoch, 1)
    let boots = try commit(
      services, store,
      (0..<3).map {
        [
          "prefix": "osd boot", "id": $0, "addr": "127.0.0.1:\(7000 + $0)", "host": "h\($0)",
          "chooseleaf_type": 1,
        ]
      })
    XCTAssertEqual(boots.map(\.code), [0, 0, 0])
    var map = services.osdmap.map
    XCTAssertEqual(map.epoch, 2, "one value, one epoch")
    XCTAssertEqual(map.osds.filter(\.isUp).count, 3)
    XCTAssertEqual(map.osds.filter(\.isIn).count, 3)

    let created = try commit(
      services, store, [["prefix": "osd pool create", "pool": "rbd", "pg_num": 16, "size": 3]])
    XCTAssertEqual(created[0].code, 0)
    map = services.osdmap.map
    let pool = try XCTUnwrap(map.poolID(named: "rbd"))
    for mapping in try map.mapAllPGs(pool: pool) {
      XCTAssertEqual(
        Set(mapping.up).count, 3, "three distinct OSDs on three hosts for \(mapping.pgid)")
    }
    // Again with the same settings: fine; different: refused; bad input: refused.
    XCTAssertEqual(
      try commit(
        services, store, [["prefix": "osd pool create", "pool": "rbd", "pg_num": 16, "size": 3]])[0]
        .code, 0)
    XCTAssertEqual(
      try commit(
        services, store, [["prefix": "osd pool create", "pool": "rbd", "pg_num": 8, "size": 3]])[0]
        .code, Errno.exists.rawValue)
    XCTAssertEqual(
      try commit(services, store, [["prefix": "osd pool create", "pool": "x y", "pg_num": 8]])[0]
        .code, Errno.invalid.rawValue)
    // Numbers outside 32 bits from a client are refused, not a trap on every monitor.
    for pgNum in [-1, 5_000_000_000] {
      XCTAssertNotEqual(
        try commit(
          services, store, [["prefix": "osd pool create", "pool": "rbd", "pg_num": pgNum]])[0]
          .code, 0)
    }
    XCTAssertEqual(
      try commit(
        services, store,
        [["prefix": "osd boot", "id": 3_000_000_000, "addr": "127.0.0.1:9", "host": "h"]])[0]
        .code, Errno.invalid.rawValue)
    XCTAssertEqual(
      try commit(
        services, store, [["prefix": "osd pool set", "pool": "rbd", "var": "size", "val": "2"]])[0]
        .code, 0)
    XCTAssertEqual(services.osdmap.map.pool(pool)?.size, 2)

    let before = services.osdmap.map.epoch
    let failed = try commit(services, store, [["prefix": "osd failure", "ids": [1]]], stamp: 2000)
    XCTAssertEqual(failed[0].code, 0)
    XCTAssertFalse(services.osdmap.map.isUp(1))
    XCTAssertEqual(services.osdmap.map.epoch, before + 1)
    XCTAssertEqual(services.osdmap.dueForOut(now: 2100, interval: 600), [])
    XCTAssertEqual(services.osdmap.dueForOut(now: 2600, interval: 600), [1])
    _ = try commit(services, store, [["prefix": "osd out", "ids": [1]]], stamp: 2600)
    XCTAssertFalse(services.osdmap.map.isIn(1))
    // A reboot brings it up again at its new address; it stays out until marked in.
    _ = try commit(
      services, store, [["prefix": "osd boot", "id": 1, "addr": "127.0.0.1:9999", "host": "h1"]])
    XCTAssertTrue(services.osdmap.map.isUp(1))
    XCTAssertEqual(services.osdmap.map.entry(1)?.publicAddress, "127.0.0.1:9999")
    XCTAssertEqual(
      try commit(services, store, [["prefix": "osd in", "ids": [7]]])[0].code,
      Errno.noEntry.rawValue)

    // Restart: everything comes back from the store, and replayed versions are skipped.
    let reloaded = try MonServices(store: store)
    XCTAssertEqual(reloaded.osdmap.map, services.osdmap.map)
    XCTAssertEqual(reloaded.appliedVersion, version)
    let replay = reloaded.apply(
      CommittedValue(version: version, value: ByteBuffer(), proposals: [], isReplay: true))
    XCTAssertTrue(replay.transaction.isEmpty)
    // Each epoch's incremental is kept for subscribers.
    for epoch in 2...services.osdmap.map.epoch {
      XCTAssertNotNil(OSDMapService.incremental(epoch, store: store), "incremental \(epoch)")
    }
  }

  func testConfigKeysAndBounds() throws {
    let (services, store) = try makeServices()
    let results = try commit(
      services, store,
      [
        ["prefix": "config-key set", "key": "a", "val": "1"],
        ["prefix": "config-key set", "key": "b", "val": String(repeating: "x", count: 70_000)],
        ["prefix": "config-key rm", "key": "zzz"],
        ["prefix": "no such command"],
      ])
    XCTAssertEqual(results.map(\.code), [0, Errno.range.rawValue, 0, Errno.invalid.rawValue])
    let status = MonStatus(
      role: .leader, electionEpoch: 2, leader: 0, quorum: RankSet([0]), firstCommitted: 1,
      lastCommitted: 1)
    XCTAssertEqual(
      String(
        buffer: try XCTUnwrap(services.read("config-key get", ["key": "a"], status: status)).output),
      "1")
    XCTAssertEqual(
      services.read("config-key get", ["key": "b"], status: status)?.code, Errno.noEntry.rawValue)
    XCTAssertNil(services.read("osd pool create", [:], status: status), "not a read")
    let report = services.read("status", [:], status: status)!
    let json =
      try JSONSerialization.jsonObject(with: Data(report.output.readableBytesView))
      as! [String: Any]
    XCTAssertEqual((json["health"] as? [String: Any])?["status"] as? String, "HEALTH_OK")
    XCTAssertEqual(json["quorum_names"] as? [String], ["a"])
  }
}
