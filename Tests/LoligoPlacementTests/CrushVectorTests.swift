import Foundation
import LoligoPlacement
import XCTest

/// Every CRUSH vector file must agree 100 % with crushtool's output, and the maps must move
/// between Ceph's binary and text forms byte for byte.
final class CrushVectorTests: XCTestCase {
  func testEveryCrushMappingVector() throws {
    let files = try Vectors.files(in: "crush", suffix: ".txt").filter {
      !$0.lastPathComponent.hasSuffix(".xhash.txt")
    }
    XCTAssertGreaterThan(files.count, 0, "no crush vectors")
    var maps: [String: CrushMap] = [:]
    var checked = 0
    for file in files {
      let text = try Vectors.text(file)
      guard let (mapName, arguments) = Vectors.crushCommand(text) else {
        XCTFail("\(file.lastPathComponent): no '# command: crushtool -i maps/...' header")
        continue
      }
      if maps[mapName] == nil { maps[mapName] = try Vectors.crushMap(named: mapName) }
      var tester = CrushTester(map: maps[mapName]!)
      try tester.configure(crushtoolArguments: arguments)
      var actual: [Int64: [Int32]] = [:]
      tester.run { line in
        // CRUSH rule R x X [a,b,c]
        let words = line.split(separator: " ")
        guard words.count == 6, words[0] == "CRUSH", let x = Int64(words[4]),
          let osds = Vectors.osdList(String(words[5]))
        else {
          XCTFail("unexpected tester line \(line)")
          return
        }
        actual[x] = osds
      }
      let expected = Vectors.records(text)
      XCTAssertGreaterThan(expected.count, 0, file.lastPathComponent)
      var mismatches = 0
      for (key, value) in expected {
        guard let x = Int64(key), let osds = Vectors.osdList(value) else {
          XCTFail("\(file.lastPathComponent): unparsable line '\(key) -> \(value)'")
          continue
        }
        if actual[x] != osds {
          mismatches += 1
          if mismatches <= 3 {
            XCTFail(
              "\(file.lastPathComponent) x \(x): expected \(osds), got \(actual[x] ?? [])")
          }
        }
        checked += 1
      }
      XCTAssertEqual(mismatches, 0, "\(file.lastPathComponent): \(mismatches) mappings differ")
    }
    XCTAssertGreaterThan(checked, 30_000)
  }

  /// The `.xhash` companions list `hash2(x, pool)`, the CRUSH input for PG x of a pool.
  func testPoolInputHashes() throws {
    let files = try Vectors.files(in: "crush", suffix: ".xhash.txt")
    XCTAssertGreaterThan(files.count, 0)
    for file in files {
      // crush/MAP.rN.poolP.xhash.txt
      let parts = file.lastPathComponent.split(separator: ".")
      guard let poolPart = parts.first(where: { $0.hasPrefix("pool") }),
        let pool = UInt32(poolPart.dropFirst(4))
      else {
        XCTFail("no pool id in \(file.lastPathComponent)")
        continue
      }
      for (key, value) in Vectors.records(try Vectors.text(file)) {
        let x = UInt32(key)!
        let expected = UInt32(value.dropFirst(2), radix: 16)!
        XCTAssertEqual(CrushHash.hash2(x, pool), expected, "\(file.lastPathComponent) x \(x)")
      }
    }
  }

  /// Compiling the vector text gives crushtool's binary; decoding the binary and writing it
  /// as text gives crushtool's text.
  func testTextAndBinaryMatchCrushtool() throws {
    let directory = try Vectors.directory().appendingPathComponent("maps")
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
      .filter { $0.hasSuffix(".bin") }.map { String($0.dropLast(4)) }.sorted()
    XCTAssertGreaterThan(names.count, 0)
    for name in names {
      let text = try Vectors.text(directory.appendingPathComponent("\(name).txt"))
      let binary = try Array(Data(contentsOf: directory.appendingPathComponent("\(name).bin")))
      let compiled = try CrushTextParser.parse(text)
      let encoded = CrushBinaryCodec.encodedBytes(compiled)
      XCTAssertEqual(encoded, binary, "\(name): compiled binary differs from crushtool's")
      let decoded = try CrushBinaryCodec.decode(binary)
      XCTAssertEqual(try CrushTextWriter.text(of: decoded), text, "\(name): decompiled text")
      XCTAssertEqual(decoded, compiled, "\(name): decoded map differs from compiled map")
    }
  }

  /// The exact 16.16 weights in `maps/*.json` (crushtool --dump) equal the compiled ones.
  func testCompiledWeightsMatchDump() throws {
    let directory = try Vectors.directory().appendingPathComponent("maps")
    for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
    where name.hasSuffix(".json") {
      let dump =
        try JSONSerialization.jsonObject(
          with: Data(contentsOf: directory.appendingPathComponent(name))) as! [String: Any]
      let map = try CrushMapFile.load(
        path: directory.appendingPathComponent(name.replacingOccurrences(of: ".json", with: ".txt"))
          .path)
      for bucket in dump["buckets"] as! [[String: Any]] {
        let id = Int32(bucket["id"] as! Int)
        let compiled = try XCTUnwrap(map.bucket(id), "\(name): bucket \(id)")
        XCTAssertEqual(compiled.weight, UInt32(bucket["weight"] as! Int), "\(name) \(id)")
        let items = bucket["items"] as! [[String: Any]]
        XCTAssertEqual(compiled.items, items.map { Int32($0["id"] as! Int) })
        XCTAssertEqual(compiled.itemWeights, items.map { UInt32($0["weight"] as! Int) })
      }
    }
  }

  /// Ceph's own text for `crushtool --build` maps is reproduced by the builder.
  func testBuilderMatchesCrushtoolBuild() throws {
    let cases: [(String, Int, [String])] = [
      ("flat8", 8, ["host", "straw2", "1", "root", "straw2", "0"]),
      ("hosts4x3", 12, ["host", "straw2", "3", "root", "straw2", "0"]),
      ("small2h", 4, ["host", "straw2", "2", "root", "straw2", "0"]),
    ]
    for (name, osds, layers) in cases {
      let built = try CrushBuilder.build(
        osdCount: osds, layers: try CrushBuilder.layers(fromArguments: layers))
      let expected = try Vectors.text(
        try Vectors.directory().appendingPathComponent("maps/\(name).txt"))
      XCTAssertEqual(try CrushTextWriter.text(of: built), expected, name)
    }
  }
}
