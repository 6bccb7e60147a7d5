import Foundation
import LoligoCore
import XCTest

/// The repository stands alone: what it ships (sources, tests, docs, scripts, profiles) names
/// nothing outside the clone, so a clone with nothing beside it builds, tests and reads whole.
final class StandaloneTests: XCTestCase {
  func testNothingPointsOutsideTheRepository() throws {
    // Spelled in pieces so this file does not match itself.
    let outside = ["..", "/shar", "ed/"].joined()
    let kinds = [".swift", ".md", ".sh", ".toml", ".c", ".h", ".py", ".json"]
    var offenders: [String] = []
    var scanned = 0
    for top in ["Sources", "Tests", "docs", "scripts", "Profiles", "Fuzz", "Results", ".ci"] {
      let directory = Repository.root.appendingPathComponent(top)
      guard let walker = FileManager.default.enumerator(atPath: directory.path) else { continue }
      for case let path as String in walker where kinds.contains(where: path.hasSuffix) {
        let text =
          (try? String(contentsOf: directory.appendingPathComponent(path), encoding: .utf8))
        scanned += 1
        if text?.contains(outside) == true { offenders.append("\(top)/\(path)") }
      }
    }
    for file in ["README.md", "Package.swift", "bench.sh"] {
      let text = try String(
        contentsOf: Repository.root.appendingPathComponent(file), encoding: .utf8)
      scanned += 1
      if text.contains(outside) { offenders.append(file) }
    }
    XCTAssertGreaterThan(scanned, 100, "scanned too few files: is the root right?")
    XCTAssertEqual(offenders, [], "these files point outside the repository")
  }
}

/// The README stays true about configuration: its table names every option the code has.
final class ReadmeTests: XCTestCase {
  func testEveryConfigOptionIsInTheReadme() throws {
    let readme = try String(
      contentsOf: Repository.root.appendingPathComponent("README.md"), encoding: .utf8)
    let missing = ConfigOption.all.map(\.name).filter { !readme.contains("| `\($0)` |") }
    XCTAssertEqual(missing, [], "regenerate the table with `loligo config help --markdown`")
  }
}
