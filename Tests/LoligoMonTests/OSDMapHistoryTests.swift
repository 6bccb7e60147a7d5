import Foundation
import LoligoClient
import LoligoConsensus
import LoligoMessages
import LoligoPlacement
import NIOCore
import XCTest

@testable import LoligoMon

/// The OSD map history: what a subscriber from an epoch gets, and how far it is trimmed.
final class OSDMapHistoryTests: XCTestCase {
  /// Three OSDs, then `count` more epochs (config-free flag flips); every epoch's map.
  func history(_ count: Int) throws -> (ServiceHarness, [UInt32: OSDMap]) {
    let h = try ServiceHarness()
    var maps: [UInt32: OSDMap] = [h.map.epoch: h.map]
    h.bootOSDs(3)
    maps[h.map.epoch] = h.map
    for index in 0..<count {
      _ = h.run(["prefix": index % 2 == 0 ? "osd set" : "osd unset", "key": "noout"])
      maps[h.map.epoch] = h.map
    }
    return (h, maps)
  }

  func updates(_ h: ServiceHarness, from: UInt32, maxMaps: Int = 40, maxBytes: Int = 10 << 20)
    -> [OSDMapUpdate]
  {
    h.services.osdmap.updates(
      from: from, fsid: h.fsid, store: h.store, maxMaps: maxMaps, maxBytes: maxBytes)
  }

  /// Every update through its wire form, as a subscriber gets them.
  func received(_ updates: [OSDMapUpdate]) throws -> [OSDMapUpdate] {
    try updates.map { try OSDMapUpdate($0.message()) }
  }

  func testSubscriptionShapes() throws {
    let (h, maps) = try history(20)
    let newest = h.map.epoch
    XCTAssertEqual(newest, 22)
    XCTAssertEqual(h.services.osdmap.base.epoch, 1, "nothing trimmed")
    XCTAssertEqual(h.services.osdmap.firstIncremental, 2)

    // From 0: the newest full map, nothing else.
    let fresh = try received(updates(h, from: 0))
    XCTAssertEqual(fresh.count, 1)
    XCTAssertEqual(Array(fresh[0].fullMaps.keys), [newest])
    XCTAssertTrue(fresh[0].incrementals.isEmpty)
    XCTAssertEqual(fresh[0].advance(nil), h.map)

    // From 1 (and from the oldest incremental): the base and every incremental after it.
    for from: UInt32 in [1, 2] {
      let all = try received(updates(h, from: from))
      XCTAssertEqual(all.count, 1)
      XCTAssertEqual(Array(all[0].fullMaps.keys), [1])
      XCTAssertEqual(all[0].incrementals.keys.sorted(), Array(2...newest))
      XCTAssertEqual(all[0].oldest, 1)
      XCTAssertEqual(all[0].newest, newest)
      // Replayed, every epoch is the map the monitors had.
      var map = try XCTUnwrap(
        all[0].fullMaps[1].map {
          var b = $0
          return try OSDMap(from: &b)
        })
      XCTAssertEqual(map, maps[1])
      for epoch in 2...newest {
        var raw = try XCTUnwrap(all[0].incrementals[epoch])
        try map.apply(try OSDMapIncremental(from: &raw))
        XCTAssertEqual(map, maps[epoch], "epoch \(epoch)")
      }
    }
    // From later: the incrementals from there.
    let tail = try received(updates(h, from: 10))
    XCTAssertEqual(tail.count, 1)
    XCTAssertTrue(tail[0].fullMaps.isEmpty)
    XCTAssertEqual(tail[0].incrementals.keys.sorted(), Array(10...newest))
    XCTAssertEqual(tail[0].advance(maps[9]), h.map)
    // Past the newest: nothing.
    XCTAssertTrue(updates(h, from: newest + 1).isEmpty)

    // Split: at most 4 maps a message, in order, together the same.
    let split = try received(updates(h, from: 1, maxMaps: 4))
    XCTAssertEqual(split.count, 6, "1 full + 21 incrementals in 4s")
    var epochs: [UInt32] = []
    var map: OSDMap?
    for update in split {
      XCTAssertLessThanOrEqual(update.fullMaps.count + update.incrementals.count, 4)
      epochs += update.fullMaps.keys.sorted() + update.incrementals.keys.sorted()
      map = update.advance(map) ?? map
    }
    XCTAssertEqual(epochs, Array(1...newest))
    XCTAssertEqual(map, h.map, "a client applying the messages in order reaches the newest")
    // A byte bound smaller than any map: one map a message.
    let tiny = updates(h, from: 1, maxBytes: 1)
    XCTAssertEqual(tiny.count, Int(newest))
  }

  func testTrimTarget() throws {
    let target = OSDMapService.trimTarget
    XCTAssertNil(target(1000, 1, 500, nil), "a PG never reported: no trim")
    XCTAssertEqual(target(1000, 1, 500, 800), 501, "keeps 500 epochs")
    XCTAssertEqual(target(1000, 1, 500, 300), 300, "keeps from last_epoch_clean on")
    XCTAssertEqual(target(1000, 1, 500, .max), 501, "no PGs at all")
    XCTAssertNil(target(1000, 300, 500, 300), "already there")
    XCTAssertNil(target(1000, 1, 500, 0), "a PG never clean")
    XCTAssertNil(target(400, 1, 500, 400), "fewer epochs than the minimum")
    XCTAssertEqual(target(10, 1, 1, 10), 10, "keep only the newest")
    // With an empty PG map nothing is trimmed, however old the history.
    let h = try ServiceHarness()
    h.run(["prefix": "osd pool create", "pool": "p", "pg_num": 4, "size": 1])
    let pgmap = PGMap(now: 0, staleAfter: 10, map: h.map)
    XCTAssertNil(target(5000, 1, 500, pgmap.minLastEpochClean(h.map)))
  }

  func testTrimMovesTheBaseEverywhereAlike() throws {
    let (h, maps) = try history(30)
    let newest = h.map.epoch
    let results = h.commit([
      ["prefix": "osd trim", "to": 20], ["prefix": "osd set", "key": "nodown"],
    ])
    XCTAssertEqual(results.map(\.code), [0, 0])
    XCTAssertEqual(h.map.epoch, newest + 1, "a trim batched with a change")
    let service = h.services.osdmap
    XCTAssertEqual(service.base, maps[20])
    XCTAssertEqual(service.firstIncremental, 21)
    for epoch in 2...20 {
      XCTAssertNil(OSDMapService.incremental(UInt32(epoch), store: h.store), "epoch \(epoch)")
    }
    for epoch in 21...(newest + 1) {
      XCTAssertNotNil(OSDMapService.incremental(epoch, store: h.store), "epoch \(epoch)")
    }
    // From any epoch at or before 21: the base at 20 and everything after.
    let all = updates(h, from: 3)
    XCTAssertEqual(Array(all[0].fullMaps.keys), [20])
    XCTAssertEqual(all[0].oldest, 20)
    XCTAssertEqual(all[0].incrementals.keys.sorted(), Array(21...(newest + 1)))
    // Going back, past the newest, or bad values: nothing moves.
    for fields: [String: Any] in [["to": 10], ["to": 5000], ["to": -1], ["to": "30"]] {
      h.run(fields.merging(["prefix": "osd trim"]) { $1 })
    }
    XCTAssertEqual(h.services.osdmap.base.epoch, newest + 1, "5000: as far as the newest")
    XCTAssertTrue(updates(h, from: 1)[0].incrementals.isEmpty)
    // A restart and a full sync (only the service prefixes copied) see the same history, and
    // the down times and boot nonces that sort around it.
    h.run(["prefix": "osd unset", "key": "nodown"])
    h.run(["prefix": "osd failure", "ids": [2]], stamp: 4321)
    h.run(["prefix": "osd boot", "id": 0, "addr": "127.0.0.1:7000", "nonce": 99])
    let restarted = try MonServices(store: h.store)
    XCTAssertEqual(restarted.osdmap.downSince, [2: 4321])
    XCTAssertEqual(restarted.osdmap.bootNonces, [0: 99])
    XCTAssertEqual(restarted.osdmap.base, h.services.osdmap.base)
    XCTAssertEqual(restarted.osdmap.firstIncremental, h.services.osdmap.firstIncremental)
    let synced = InMemoryMonStore()
    var copy = MonStoreTransaction()
    for prefix in MonServices.storePrefixes {
      for entry in h.store.scan(prefix: prefix, after: nil, limit: 1_000_000) {
        copy.ops.append(.put(prefix: prefix, key: entry.key, value: entry.value))
      }
    }
    synced.apply(copy)
    let follower = try MonServices(store: synced)
    XCTAssertEqual(follower.osdmap.base, h.services.osdmap.base)
    XCTAssertEqual(follower.osdmap.map, h.map)
  }

  func testTrimIsBoundedPerCommit() throws {
    let (h, maps) = try history(Int(OSDMapService.maxTrimPerCommit) + 20)
    h.run(["prefix": "osd trim", "to": Int(h.map.epoch)])
    let base = 1 + OSDMapService.maxTrimPerCommit
    XCTAssertEqual(h.services.osdmap.base, maps[base])
    h.run(["prefix": "osd trim", "to": Int(h.map.epoch)])
    XCTAssertEqual(h.services.osdmap.base, h.map)
  }
}
