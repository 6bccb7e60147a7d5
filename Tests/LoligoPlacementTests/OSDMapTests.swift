import Foundation
import LoligoPlacement
import XCTest

/// OSD map behaviour that the vectors do not cover: encodings, incrementals, down OSDs, temps,
/// upmaps and primary affinity.
final class OSDMapTests: XCTestCase {
  static let fsid = UUID(uuidString: "6b5c2d1e-0000-4000-8000-00000000abcd")!

  /// 4 hosts x 3 OSDs, all up and in, pool 1 `rbd` with 64 PGs and size 3.
  static func cluster() throws -> OSDMap {
    let crush = try CrushBuilder.build(
      osdCount: 12,
      layers: try CrushBuilder.layers(fromArguments: ["host", "straw2", "3", "root", "straw2", "0"])
    )
    var map = try OSDMap.simple(fsid: fsid, osdCount: 12, pgBits: 0, crush: crush, pgNum: 64)
    map.markAllUpIn()
    return map
  }

  func testEncodeDecodeRoundTrip() throws {
    var map = try Self.cluster()
    try map.addPool(Pool(name: "ec", type: .erasure, size: 4, crushRule: 0, pgNum: 8))
    try map.updateEntry(3) { entry in
      entry.publicAddress = "v2:10.0.0.3:6800/77"
      entry.clusterAddress = "v2:10.1.0.3:6801/77"
      entry.primaryAffinity = 0x8000
      entry.upFrom = 4
    }
    map.pgTemp[PGID(pool: 1, seed: 5)] = [1, 2, 3]
    map.primaryTemp[PGID(pool: 1, seed: 6)] = 4
    map.pgUpmap[PGID(pool: 1, seed: 7)] = [0, 4, 8]
    map.pgUpmapItems[PGID(pool: 1, seed: 8)] = [OSDMap.OSDPair(from: 1, to: 2)]
    map.epoch = 42
    map.created = CephTime(seconds: 1_700_000_000, nanoseconds: 5)
    let bytes = OSDMapFile.encode(map)
    let decoded = try OSDMapFile.decode(bytes)
    XCTAssertEqual(decoded, map)
    XCTAssertEqual(OSDMapFile.encode(decoded), bytes, "encoding is not deterministic")
    for seed in 0..<64 as Range<UInt32> {
      let pg = PGID(pool: 1, seed: seed)
      XCTAssertEqual(try decoded.map(pg: pg), try map.map(pg: pg))
    }
  }

  func testTruncatedOrCorruptEncodingsAreRejected() throws {
    let bytes = OSDMapFile.encode(try Self.cluster())
    // Every proper prefix fails cleanly.
    for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 300)) {
      XCTAssertThrowsError(try OSDMapFile.decode(Array(bytes[..<length])), "prefix \(length)")
    }
    XCTAssertThrowsError(try OSDMapFile.decode(bytes + [0]), "trailing byte")
    XCTAssertThrowsError(try OSDMapFile.decode(Array("not a map".utf8)))
    // Random corruption never crashes; it either decodes or throws.
    var generator = SplitMix(seed: 7)
    for _ in 0..<300 {
      var corrupt = bytes
      for _ in 0..<3 {
        let index = 8 + Int(generator.next() % UInt64(bytes.count - 8))
        corrupt[index] = UInt8(truncatingIfNeeded: generator.next())
      }
      if let map = try? OSDMapFile.decode(corrupt) {
        for pool in map.pools.keys { _ = try? map.mapAllPGs(pool: pool) }
      }
    }
  }

  func testCrushBinaryDecodingIsDefensive() throws {
    let bytes = CrushBinaryCodec.encodedBytes(try Self.cluster().crush)
    // Ceph's format lets old encodings stop after the names (tunables, classes and weight
    // sets are optional trailers: 23 + 12 + 4 bytes here); any shorter prefix is an error.
    let optionalTrailer = 39
    for length in 0..<bytes.count {
      let prefix = Array(bytes[..<length])
      if length < bytes.count - optionalTrailer {
        XCTAssertThrowsError(try CrushBinaryCodec.decode(prefix), "\(length)")
      } else {
        _ = try? CrushBinaryCodec.decode(prefix)
      }
    }
    XCTAssertEqual(
      try CrushBinaryCodec.decode(Array(bytes[..<(bytes.count - optionalTrailer)])).tunables,
      .legacy)
    var generator = SplitMix(seed: 99)
    for _ in 0..<500 {
      var corrupt = bytes
      let index = Int(generator.next() % UInt64(bytes.count))
      corrupt[index] = UInt8(truncatingIfNeeded: generator.next())
      if let map = try? CrushBinaryCodec.decode(corrupt) {
        let mapper = CrushMapper(map)
        for x in 0..<8 as Range<UInt32> {
          _ = mapper.map(rule: 0, x: x, resultMax: 3, weights: Array(repeating: 0x10000, count: 12))
        }
        _ = try? CrushTextWriter.text(of: map)
      }
    }
    // A hostile max_buckets is refused before anything is allocated.
    var huge = bytes
    huge.replaceSubrange(4..<8, with: [0xff, 0xff, 0xff, 0x7f])
    XCTAssertThrowsError(try CrushBinaryCodec.decode(huge))
  }

  func testIncrementalMovesEpochForward() throws {
    let base = try Self.cluster()
    var incremental = OSDMapIncremental(following: base)
    incremental.newState[2] = .up  // toggles up: osd.2 goes down
    incremental.newWeight[5] = 0  // osd.5 out
    incremental.newPools[2] = Pool(name: "data", size: 2, pgNum: 16)
    incremental.newPoolMax = 2
    incremental.newPGTemp[PGID(pool: 1, seed: 3)] = [9, 10, 11]
    var newCrush = base.crush
    newCrush.reweightItem(0, to: 0x20000)
    incremental.crush = newCrush

    // The incremental survives its encoding.
    let bytes = incremental.encodedBytes()
    let decoded = try OSDMapIncremental(decoding: bytes)
    XCTAssertEqual(decoded, incremental)
    for length in stride(from: 0, to: bytes.count, by: 7) {
      XCTAssertThrowsError(try OSDMapIncremental(decoding: Array(bytes[..<length])))
    }

    var map = base
    try map.apply(decoded)
    XCTAssertEqual(map.epoch, base.epoch + 1)
    XCTAssertFalse(map.isUp(2))
    XCTAssertTrue(map.exists(2))
    XCTAssertEqual(map.entry(2)?.downAt, map.epoch)
    XCTAssertFalse(map.isIn(5))
    XCTAssertEqual(map.pool(2)?.name, "data")
    XCTAssertEqual(map.poolMax, 2)
    XCTAssertEqual(map.crush.itemWeight(0), 0x20000)
    XCTAssertEqual(try map.map(pg: PGID(pool: 1, seed: 3)).acting, [9, 10, 11])
    for seed in 0..<64 as Range<UInt32> {
      let mapping = try map.map(pg: PGID(pool: 1, seed: seed))
      XCTAssertFalse(mapping.up.contains(2), "down osd.2 in up set")
      XCTAssertFalse(mapping.raw.contains(5), "out osd.5 chosen by CRUSH")
    }

    // Replaying or skipping epochs, or another cluster's incremental, is refused and leaves
    // the map unchanged.
    let before = map
    XCTAssertThrowsError(try map.apply(decoded))
    var skipping = OSDMapIncremental(fsid: Self.fsid, epoch: map.epoch + 2)
    skipping.newWeight[1] = 0
    XCTAssertThrowsError(try map.apply(skipping))
    XCTAssertThrowsError(try map.apply(OSDMapIncremental(fsid: UUID(), epoch: map.epoch + 1)))
    var invalid = OSDMapIncremental(following: map)
    invalid.newWeight[1] = 0
    invalid.newWeight[999] = 0
    XCTAssertThrowsError(try map.apply(invalid))
    XCTAssertEqual(map, before)

    // A boot brings osd.2 back up with its address.
    var boot = OSDMapIncremental(following: map)
    boot.newUp[2] = OSDMapIncremental.OSDAddresses(publicAddress: "v2:10.0.0.2:6800/1")
    try map.apply(boot)
    XCTAssertTrue(map.isUp(2))
    XCTAssertEqual(map.entry(2)?.publicAddress, "v2:10.0.0.2:6800/1")
    XCTAssertEqual(map.entry(2)?.upFrom, map.epoch)
  }

  func testDownOSDsLeaveUpSetsButNotRaw() throws {
    var map = try Self.cluster()
    let pg = PGID(pool: 1, seed: 9)
    let before = try map.map(pg: pg)
    let victim = before.raw[0]
    try map.updateEntry(victim) { $0.state.remove(.up) }
    let after = try map.map(pg: pg)
    XCTAssertEqual(after.raw, before.raw, "down (but in) OSDs stay in CRUSH's answer")
    XCTAssertEqual(after.up, Array(before.raw.dropFirst()))
    XCTAssertEqual(after.upPrimary, before.raw[1])
    XCTAssertEqual(after.acting, after.up)

    // Erasure pools keep positions and mark the hole.
    try map.updateEntry(victim) { $0.state.insert(.up) }
    try map.addPool(Pool(name: "ec", type: .erasure, size: 3, crushRule: 0, pgNum: 8))
    var crush = map.crush
    var rule = crush.rule(0)!
    rule.type = CrushRule.typeErasure
    crush.replaceRule(rule, id: 0)
    try map.setCrush(crush)
    let ecPG = PGID(pool: map.poolID(named: "ec")!, seed: 3)
    let healthy = try map.map(pg: ecPG)
    XCTAssertEqual(healthy.up.count, 3)
    try map.updateEntry(healthy.raw[1]) { $0.state.remove(.up) }
    let degraded = try map.map(pg: ecPG)
    XCTAssertEqual(degraded.raw, healthy.raw)
    XCTAssertEqual(degraded.up, [healthy.raw[0], CrushMapper.itemNone, healthy.raw[2]])
    XCTAssertEqual(degraded.upPrimary, healthy.raw[0])
  }

  func testRuleMaskMustAdmitPoolSize() throws {
    var map = try Self.cluster()
    var crush = map.crush
    var rule = crush.rule(0)!
    rule.maxSize = 2
    crush.replaceRule(rule, id: 0)
    try map.setCrush(crush)
    // Ceph 16.2 finds no rule for a size-3 pool and maps it nowhere.
    XCTAssertEqual(try map.map(pg: PGID(pool: 1, seed: 0)).acting, [])
  }

  func testTempsUpmapsAndPrimaryAffinity() throws {
    var map = try Self.cluster()
    let pg = PGID(pool: 1, seed: 12)
    let natural = try map.map(pg: pg)

    map.primaryTemp[pg] = natural.up[2]
    XCTAssertEqual(try map.map(pg: pg).actingPrimary, natural.up[2])
    XCTAssertEqual(try map.map(pg: pg).acting, natural.up)
    map.primaryTemp = [:]

    map.pgTemp[pg] = [natural.up[1], natural.up[0]]
    var mapping = try map.map(pg: pg)
    XCTAssertEqual(mapping.acting, [natural.up[1], natural.up[0]])
    XCTAssertEqual(mapping.actingPrimary, natural.up[1])
    XCTAssertEqual(mapping.up, natural.up)
    map.pgTemp = [:]

    // Upmap items replace one OSD; a target already present is ignored.
    let spare = (0..<12).map(Int32.init).first { !natural.raw.contains($0) }!
    map.pgUpmapItems[pg] = [OSDMap.OSDPair(from: natural.raw[1], to: spare)]
    mapping = try map.map(pg: pg)
    XCTAssertEqual(mapping.raw, [natural.raw[0], spare, natural.raw[2]])
    map.pgUpmapItems[pg] = [OSDMap.OSDPair(from: natural.raw[1], to: natural.raw[2])]
    XCTAssertEqual(try map.map(pg: pg).raw, natural.raw)
    map.pgUpmapItems = [:]
    map.pgUpmap[pg] = [spare, natural.raw[0]]
    XCTAssertEqual(try map.map(pg: pg).raw, [spare, natural.raw[0]])
    map.pgUpmap = [:]

    // Affinity 0 never leads when another OSD can; the new primary moves to the front.
    try map.updateEntry(natural.up[0]) { $0.primaryAffinity = 0 }
    mapping = try map.map(pg: pg)
    XCTAssertNotEqual(mapping.upPrimary, natural.up[0])
    XCTAssertEqual(mapping.up.first, mapping.upPrimary)
    XCTAssertEqual(Set(mapping.up), Set(natural.up))
  }

  func testObjectLocatorKeyAndNamespace() throws {
    let map = try Self.cluster()
    let plain = try map.pg(forObject: "alpha", locator: ObjectLocator(pool: 1))
    let keyed = try map.pg(forObject: "beta", locator: ObjectLocator(pool: 1, key: "alpha"))
    XCTAssertEqual(plain, keyed, "a locator key replaces the name")
    let spaced = try map.rawPG(forObject: "alpha", locator: ObjectLocator(pool: 1, namespace: "ns"))
    XCTAssertEqual(spaced.seed, CephStringHash.rjenkins(Array("ns\u{1f}alpha".utf8)))
    let forced = try map.rawPG(forObject: "x", locator: ObjectLocator(pool: 1, hash: 77))
    XCTAssertEqual(forced.seed, 77)
    XCTAssertThrowsError(try map.map(object: "x", pool: 9))
    XCTAssertEqual(PGID("1.2a"), PGID(pool: 1, seed: 0x2a))
    XCTAssertEqual(PGID(pool: 3, seed: 255).description, "3.ff")
    XCTAssertNil(PGID("1.xyz"))
  }
}
