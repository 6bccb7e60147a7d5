import Foundation
import LoligoPlacement
import XCTest

/// The full, backfillfull and nearfull ratios in the OSD map's own encoding: version 2 carries
/// them, version 1 encodings (written before they existed) still decode, and a ratio from a
/// peer outside 0...1 is refused.
final class OSDMapRatioEncodingTests: XCTestCase {
  /// Rewrites a version-2 struct (`u8 version, u8 compat, le32 length, body`) starting at
  /// `start` as version 1 by dropping its last `trailer` bytes (the version-2 fields).
  static func asVersion1(_ bytes: [UInt8], start: Int, trailer: Int) -> [UInt8] {
    var old = Array(bytes.dropLast(trailer))
    XCTAssertEqual(old[start], 2)
    old[start] = 1
    let length = UInt32(old.count - start - 6)
    withUnsafeBytes(of: length.littleEndian) {
      old.replaceSubrange(start + 2..<start + 6, with: $0)
    }
    return old
  }

  func testMapRatiosRoundTripAndVersion1StillDecodes() throws {
    var map = try OSDMapTests.cluster()
    map.fullRatio = 0.95
    map.backfillfullRatio = 0.9
    map.nearfullRatio = 0.85
    let bytes = OSDMapFile.encode(map)
    let decoded = try OSDMapFile.decode(bytes)
    XCTAssertEqual(decoded, map)
    XCTAssertEqual(decoded.fullRatio, 0.95)
    XCTAssertEqual(decoded.backfillfullRatio, 0.9)
    XCTAssertEqual(decoded.nearfullRatio, 0.85)

    // The same map as version 1 wrote it: everything but the ratios, which are unset.
    let old = Self.asVersion1(bytes, start: OSDMapFile.magic.count, trailer: 24)
    let fromOld = try OSDMapFile.decode(old)
    XCTAssertEqual(fromOld.epoch, map.epoch)
    XCTAssertEqual(fromOld.osds, map.osds)
    XCTAssertEqual(fromOld.pools, map.pools)
    XCTAssertEqual(fromOld.fullRatio, 0)
    XCTAssertEqual(fromOld.backfillfullRatio, 0)
    XCTAssertEqual(fromOld.nearfullRatio, 0)
    XCTAssertEqual(
      try fromOld.map(pg: PGID(pool: 1, seed: 3)), try map.map(pg: PGID(pool: 1, seed: 3)))

    // A ratio that is not a number in 0...1 is refused, as is a cut-off ratio.
    for bad in [Double.nan, -0.1, 1.5, .infinity] {
      var corrupt = bytes
      withUnsafeBytes(of: bad.bitPattern.littleEndian) {
        corrupt.replaceSubrange(corrupt.count - 24..<corrupt.count - 16, with: $0)
      }
      XCTAssertThrowsError(try OSDMapFile.decode(corrupt), "\(bad)")
    }
    XCTAssertThrowsError(try OSDMapFile.decode(Array(bytes.dropLast(4))))
  }

  func testIncrementalRatiosRoundTripApplyAndVersion1StillDecodes() throws {
    let base = try OSDMapTests.cluster()
    var incremental = OSDMapIncremental(following: base)
    incremental.newFullRatio = 0.97
    incremental.newNearfullRatio = 0.8
    incremental.newState[4] = .full
    let bytes = incremental.encodedBytes()
    let decoded = try OSDMapIncremental(decoding: bytes)
    XCTAssertEqual(decoded, incremental)
    XCTAssertNil(decoded.newBackfillfullRatio)

    var map = base
    try map.apply(decoded)
    XCTAssertEqual(map.fullRatio, 0.97)
    XCTAssertEqual(map.backfillfullRatio, 0, "an absent ratio is left alone")
    XCTAssertEqual(map.nearfullRatio, 0.8)
    XCTAssertEqual(map.entry(4)?.state.contains(.full), true)

    // Version 1: no ratio fields at all; the rest applies as before.
    var plain = OSDMapIncremental(following: base)
    plain.newState[4] = .nearFull
    let old = Self.asVersion1(plain.encodedBytes(), start: 0, trailer: 27)
    let fromOld = try OSDMapIncremental(decoding: old)
    XCTAssertEqual(fromOld, plain)
    XCTAssertThrowsError(try OSDMapIncremental(decoding: Array(bytes.dropLast(1))))
  }
}
