import Foundation
import LoligoPlacement
import XCTest

/// Properties CRUSH with straw2 must have, checked over many inputs.
final class CrushPropertyTests: XCTestCase {
  static func hostMap(hosts: Int, perHost: Int) throws -> CrushMap {
    try CrushBuilder.build(
      osdCount: hosts * perHost,
      layers: [
        CrushBuilder.Layer(name: "host", algorithm: .straw2, size: perHost),
        CrushBuilder.Layer(name: "root", algorithm: .straw2, size: 0),
      ])
  }

  /// straw2 within one bucket: raising an item's weight only moves placements onto it and
  /// lowering it only moves placements off it; other inputs keep their mapping.
  func testWeightChangeMovesDataOnlyToOrFromThatItem() throws {
    var flat = try CrushBuilder.build(
      osdCount: 10, layers: [CrushBuilder.Layer(name: "root", algorithm: .straw2, size: 0)])
    flat.replaceRule(
      CrushRule(name: "flat", steps: [.take(-1), .chooseFirstN(0, type: 0), .emit]), id: 0)
    try assertMinimalMovement(flat, osdCount: 10, failureDomain: { $0 })
  }

  /// With hosts as the failure domain, reweighting an OSD also changes its host's weight, so
  /// data moves onto or off that host, and nowhere else.
  func testWeightChangeMovesDataOnlyToOrFromThatHost() throws {
    try assertMinimalMovement(
      try Self.hostMap(hosts: 6, perHost: 4), osdCount: 24, failureDomain: { $0 / 4 })
  }

  private func assertMinimalMovement(
    _ before: CrushMap, osdCount: Int, failureDomain: (Int32) -> Int32
  ) throws {
    let weights = [UInt32](repeating: 0x10000, count: osdCount)
    let oldMapper = CrushMapper(before)
    for (osd, newWeight) in [(Int32(5), UInt32(0x30000)), (Int32(7), UInt32(0x4000))] {
      var after = before
      XCTAssertGreaterThan(after.reweightItem(osd, to: newWeight), 0)
      let newMapper = CrushMapper(after)
      let domain = failureDomain(osd)
      var moved = 0
      var unchanged = 0
      for x in 0..<3000 as Range<UInt32> {
        for replicas in [1, 3] {
          let old = oldMapper.map(rule: 0, x: x, resultMax: replicas, weights: weights)
          let new = newMapper.map(rule: 0, x: x, resultMax: replicas, weights: weights)
          guard old != new else {
            unchanged += 1
            continue
          }
          moved += 1
          let involved = newWeight > 0x10000 ? new : old
          XCTAssertTrue(
            involved.contains { failureDomain($0) == domain },
            "x \(x): \(old) -> \(new) does not involve osd.\(osd)'s domain")
        }
      }
      XCTAssertGreaterThan(moved, 0, "reweighting osd.\(osd) moved nothing")
      XCTAssertGreaterThan(unchanged, moved, "reweighting osd.\(osd) moved most placements")
    }
  }

  /// Marking an OSD out (reweight 0) only remaps the inputs that used it.
  func testMarkingOutOnlyRemapsItsInputs() throws {
    let map = try Self.hostMap(hosts: 5, perHost: 3)
    let mapper = CrushMapper(map)
    let all = [UInt32](repeating: 0x10000, count: 15)
    var withoutSeven = all
    withoutSeven[7] = 0
    for x in 0..<3000 as Range<UInt32> {
      let old = mapper.map(rule: 0, x: x, resultMax: 3, weights: all)
      let new = mapper.map(rule: 0, x: x, resultMax: 3, weights: withoutSeven)
      XCTAssertFalse(new.contains(7))
      if !old.contains(7) { XCTAssertEqual(old, new, "x \(x)") }
    }
  }

  func testFirstNNeverRepeatsAnOSDOrHost() throws {
    let map = try Self.hostMap(hosts: 4, perHost: 3)
    let mapper = CrushMapper(map)
    let weights = [UInt32](repeating: 0x10000, count: 12)
    var generator = SplitMix(seed: 42)
    for _ in 0..<5000 {
      let x = UInt32(truncatingIfNeeded: generator.next())
      for replicas in 1...6 {
        let result = mapper.map(rule: 0, x: x, resultMax: replicas, weights: weights)
        XCTAssertEqual(Set(result).count, result.count, "duplicate OSD for x \(x): \(result)")
        XCTAssertEqual(Set(result.map { $0 / 3 }).count, result.count, "shared host: \(result)")
        XCTAssertEqual(result.count, min(replicas, 4))
      }
    }
  }

  /// Over many inputs each OSD's share of single-replica placements is within a few percent
  /// of its share of the weight.
  func testDistributionFollowsWeights() throws {
    var map = try CrushBuilder.build(
      osdCount: 8,
      layers: [CrushBuilder.Layer(name: "root", algorithm: .straw2, size: 0)])
    let crushWeights: [UInt32] = [1, 1, 2, 2, 3, 4, 0.5, 1.5].map { UInt32($0 * 65536) }
    for (osd, weight) in crushWeights.enumerated() { map.reweightItem(Int32(osd), to: weight) }
    // Choose devices directly under the root.
    map.replaceRule(
      CrushRule(name: "flat", steps: [.take(-1), .chooseFirstN(0, type: 0), .emit]), id: 0)
    let mapper = CrushMapper(map)
    let weights = [UInt32](repeating: 0x10000, count: 8)
    let samples = 200_000
    var counts = [Int](repeating: 0, count: 8)
    for x in 0..<UInt32(samples) {
      counts[Int(mapper.map(rule: 0, x: x, resultMax: 1, weights: weights)[0])] += 1
    }
    let total = Double(crushWeights.reduce(0, +))
    for osd in 0..<8 {
      let expected = Double(crushWeights[osd]) / total
      let observed = Double(counts[osd]) / Double(samples)
      XCTAssertEqual(observed, expected, accuracy: expected * 0.04, "osd.\(osd)")
    }
  }

  /// `crushtool --reweight-item` steps rebuild the vector maps exactly.
  func testReweightReproducesVectorMaps() throws {
    var uneven = try CrushBuilder.build(
      osdCount: 16,
      layers: try CrushBuilder.layers(fromArguments: ["host", "straw2", "5", "root", "straw2", "0"])
    )
    for (osd, weight) in [(1, 0.5), (3, 2.0), (6, 1.819), (8, 0.25), (12, 3.5), (15, 4.0)]
      as [(Int32, Float)]
    {
      uneven.reweightItem(osd, to: CrushMap.weight(fromFloat: weight))
    }
    XCTAssertEqual(uneven, try Vectors.crushMap(named: "uneven16"))
    var zero = try CrushBuilder.build(
      osdCount: 12,
      layers: try CrushBuilder.layers(fromArguments: ["host", "straw2", "3", "root", "straw2", "0"])
    )
    zero.reweightItem(4, to: 0)
    XCTAssertEqual(zero, try Vectors.crushMap(named: "zero12"))
  }

  /// The fixed-point logarithm: every table entry is close to its definition and the result
  /// tracks 2^44 log2(u + 1) over the whole input range. (It is not quite monotonic at the
  /// very top, because Ceph's last coarse entry is 0xffff00000000 rather than 2^48.)
  func testLogarithmTable() {
    for k in 0...128 {
      XCTAssertEqual(CrushLn.reciprocals[k], ((1 << 55) + UInt64(127 + k)) / UInt64(128 + k))
      let coarse = log2(1 + Double(k) / 128) * pow(2, 48)
      XCTAssertEqual(Double(CrushLn.coarseLog2[k]), coarse, accuracy: k == 128 ? 4.3e9 : 1)
    }
    for k in 0..<256 {
      let fine = log2(1 + Double(k) / 32768) * pow(2, 48)
      XCTAssertEqual(Double(CrushLn.fineLog2[k]), fine, accuracy: 6e9, "fine \(k)")
    }
    for u in 0..<0x10000 as Range<UInt32> {
      let exact = log2(Double(u) + 1) * pow(2, 44)
      XCTAssertEqual(Double(CrushLn.log2Scaled(u)), exact, accuracy: 1e9, "u \(u)")
    }
    XCTAssertEqual(CrushLn.log2Scaled(0xffff), 0x1_0000_0000_0000 - 0x1000_0000)
  }
}
