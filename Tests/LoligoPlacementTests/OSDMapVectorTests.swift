import Foundation
import LoligoPlacement
import XCTest

/// Object -> PG -> OSDs and PG -> OSDs against osdmaptool, with the map built both the way
/// the vectors were made (createsimple + import-crush) and from osdmaptool's JSON dump.
final class OSDMapVectorTests: XCTestCase {
  /// Options of the two osdmaptool commands in a vector header.
  struct Recipe {
    var osdCount: Int32
    var pgBits: Int
    var pgpBits: Int
    var size: UInt8
    var crushName: String
    var markUpIn: Bool
    var markedOut: [Int32]
  }

  static func recipe(from header: String) throws -> Recipe {
    func value(after option: String, in line: Substring) -> String? {
      let words = line.split(separator: " ")
      guard let index = words.firstIndex(where: { $0 == option }), index + 1 < words.count
      else { return nil }
      return String(words[index + 1])
    }
    let lines = header.split(separator: "\n")
    guard let create = lines.first(where: { $0.contains("--createsimple") }),
      let importing = lines.first(where: { $0.contains("--import-crush") }),
      let count = value(after: "--createsimple", in: create).flatMap({ Int32($0) }),
      let crushPath = value(after: "--import-crush", in: importing)
    else { throw VectorError("no osdmaptool recipe in header") }
    let crushName = String(crushPath.dropFirst("maps/".count).dropLast(".bin".count))
    var markedOut: [Int32] = []
    let words = importing.split(separator: " ")
    for (index, word) in words.enumerated() where word == "--mark-out" && index + 1 < words.count {
      markedOut.append(Int32(words[index + 1])!)
    }
    return Recipe(
      osdCount: count,
      pgBits: value(after: "--pg_bits", in: create).flatMap { Int($0) } ?? 6,
      pgpBits: value(after: "--pgp_bits", in: create).flatMap { Int($0) } ?? 6,
      size: value(after: "--osd_pool_default_size", in: create).flatMap { UInt8($0) } ?? 3,
      crushName: crushName, markUpIn: importing.contains("--mark-up-in"), markedOut: markedOut)
  }

  static func maps(for name: String, header: String) throws -> [(String, OSDMap)] {
    let recipe = try recipe(from: header)
    let crush = try Vectors.crushMap(named: recipe.crushName)
    var created = try OSDMap.simple(
      osdCount: recipe.osdCount, pgBits: recipe.pgBits, pgpBits: recipe.pgpBits,
      poolSize: recipe.size, crush: crush)
    if recipe.markUpIn { created.markAllUpIn() }
    for osd in recipe.markedOut {
      try created.updateEntry(osd) { entry in
        entry.state.formUnion([.exists, .up])
        entry.weight = 0
      }
    }
    let json = try Data(
      contentsOf: try Vectors.directory().appendingPathComponent("osdmaps/\(name).json"))
    let imported = try OSDMap.fromCephJSON(json, crush: crush)
    return [("created", created), ("imported", imported)]
  }

  func testObjectVectors() throws {
    let files = try Vectors.files(in: "objects", suffix: ".objects.txt")
    XCTAssertGreaterThan(files.count, 0)
    for file in files {
      let name = String(file.lastPathComponent.dropLast(".objects.txt".count))
      let text = try Vectors.text(file)
      for (how, map) in try Self.maps(for: name, header: text) {
        var checked = 0
        for line in text.split(separator: "\n") where line.hasPrefix("\"") {
          // "name" -> 1.16 -> [1, 4, 6]
          let parts = line.components(separatedBy: " -> ")
          let objectName =
            try JSONSerialization.jsonObject(
              with: Data(parts[0].utf8), options: .fragmentsAllowed) as! String
          let mapping = try map.map(object: objectName, pool: 1)
          XCTAssertEqual(mapping.pgid.description, parts[1], "\(name)/\(how) \(objectName)")
          XCTAssertEqual(mapping.acting, Vectors.osdList(parts[2]), "\(name)/\(how) \(objectName)")
          checked += 1
        }
        XCTAssertEqual(checked, 200, "\(name)/\(how)")
      }
    }
  }

  func testObjectDetailVectors() throws {
    for file in try Vectors.files(in: "objects", suffix: ".objects.jsonl") {
      let name = String(file.lastPathComponent.dropLast(".objects.jsonl".count))
      let header = try Vectors.text(
        file.deletingLastPathComponent().appendingPathComponent("\(name).objects.txt"))
      let map = try Self.maps(for: name, header: header)[0].1
      for line in try Vectors.text(file).split(separator: "\n") {
        let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        let objectName = record["name"] as! String
        let number = { (key: String) in (record[key] as! NSNumber).uint32Value }
        let ints = { (key: String) in (record[key] as! [NSNumber]).map(\.int32Value) }
        let raw = try map.rawPG(forObject: objectName, locator: ObjectLocator(pool: 1))
        XCTAssertEqual(raw.seed, number("hash_rjenkins"), objectName)
        let mapping = try map.map(object: objectName, pool: 1)
        XCTAssertEqual(mapping.pgid.seed, number("ps"), objectName)
        XCTAssertEqual(mapping.placementSeed, number("crush_x"), objectName)
        XCTAssertEqual(mapping.raw, ints("raw"), objectName)
        XCTAssertEqual(mapping.up, ints("up"), objectName)
        XCTAssertEqual(mapping.upPrimary, (record["up_primary"] as! NSNumber).int32Value)
        XCTAssertEqual(mapping.acting, ints("acting"), objectName)
        XCTAssertEqual(mapping.actingPrimary, (record["acting_primary"] as! NSNumber).int32Value)
        let pool = try XCTUnwrap(map.pool(1))
        XCTAssertEqual(pool.pgNumMask, number("pg_num_mask"))
        XCTAssertEqual(pool.pgpNumMask, number("pgp_num_mask"))
      }
    }
  }

  func testPGVectors() throws {
    let files = try Vectors.files(in: "pgs", suffix: ".pgs.txt")
    XCTAssertGreaterThan(files.count, 0)
    for file in files {
      let name = String(file.lastPathComponent.dropLast(".pgs.txt".count))
      let text = try Vectors.text(file)
      let records = Vectors.records(text)
      for (how, map) in try Self.maps(for: name, header: text) {
        let mappings = try map.mapAllPGs(pool: 1)
        XCTAssertEqual(mappings.count, records.count, "\(name)/\(how)")
        let byPG = Dictionary(uniqueKeysWithValues: mappings.map { ($0.pgid.description, $0) })
        for (pgid, osds) in records {
          let mapping = try XCTUnwrap(byPG[pgid], "\(name)/\(how): no PG \(pgid)")
          XCTAssertEqual(mapping.acting, Vectors.osdList(osds), "\(name)/\(how) \(pgid)")
          XCTAssertEqual(mapping.actingPrimary, mapping.acting.first ?? -1)
        }
      }
      let details = file.deletingLastPathComponent().appendingPathComponent("\(name).pgs.jsonl")
      let map = try Self.maps(for: name, header: text)[0].1
      for line in try Vectors.text(details).split(separator: "\n") {
        let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        let pg = try XCTUnwrap(PGID(record["pgid"] as! String))
        let mapping = try map.map(pg: pg)
        XCTAssertEqual(mapping.placementSeed, (record["crush_x"] as! NSNumber).uint32Value)
        XCTAssertEqual(mapping.raw, (record["raw"] as! [NSNumber]).map(\.int32Value))
        XCTAssertEqual(mapping.up, (record["up"] as! [NSNumber]).map(\.int32Value))
        XCTAssertEqual(mapping.upPrimary, (record["up_primary"] as! NSNumber).int32Value)
        XCTAssertEqual(mapping.acting, (record["acting"] as! [NSNumber]).map(\.int32Value))
      }
    }
  }

  /// osdmaptool's `--test-map-pgs-dump` output (PG lines and summary) is reproduced exactly.
  func testPGDumpAndSummaryMatchOsdmaptool() throws {
    let directory = try Vectors.directory().appendingPathComponent("raw/pgs")
    guard FileManager.default.fileExists(atPath: directory.path) else { return }
    for file in try Vectors.files(in: "pgs", suffix: ".pgs.txt") {
      let name = String(file.lastPathComponent.dropLast(".pgs.txt".count))
      let raw = directory.appendingPathComponent("\(name).dump.out")
      guard FileManager.default.fileExists(atPath: raw.path) else { continue }
      let lines = try Vectors.text(raw).split(separator: "\n").map(String.init)
      guard let start = lines.firstIndex(where: { $0.hasPrefix("pool ") }),
        let end = lines.lastIndex(where: { $0.hasPrefix("size ") })
      else {
        XCTFail("\(name): unexpected raw dump")
        continue
      }
      let map = try Self.maps(for: name, header: try Vectors.text(file))[0].1
      let mappings = try map.mapAllPGs(pool: 1)
      var ours = ["pool 1 pg_num \(mappings.count)"] + mappings.map(OSDMapPrinter.dumpLine)
      ours += OSDMapPrinter.summary(of: mappings, map: map)
      XCTAssertEqual(ours, Array(lines[start...end]), name)
    }
  }
}
