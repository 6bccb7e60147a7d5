import Foundation
import XCTest

@testable import LoligoBench

/// Where results go: a new directory per run (never shared, even within one second), or a
/// directory given (a profile step), with the JSON and CSV side by side.
final class ResultsWriterTests: XCTestCase {
  func testRunDirectoriesAreNewAndTheGivenDirectoryIsUsedAsIs() throws {
    let parent = FileManager.default.temporaryDirectory
      .appendingPathComponent("results-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: parent) }
    let date = Date(timeIntervalSince1970: 1_795_000_000)
    let first = try ResultsWriter(.newRunDirectory(under: parent.path), name: "a b", date: date)
    let second = try ResultsWriter(.newRunDirectory(under: parent.path), name: "a b", date: date)
    XCTAssertEqual(
      first.jsonURL.deletingLastPathComponent().lastPathComponent, "20261118T110640Z-a_b")
    XCTAssertEqual(
      second.jsonURL.deletingLastPathComponent().lastPathComponent,
      first.jsonURL.deletingLastPathComponent().lastPathComponent + "-2")
    let step = parent.appendingPathComponent("run/steps/01-write")
    let writer = try ResultsWriter(.directory(step.path), name: "ignored")
    XCTAssertEqual(writer.jsonURL.path, step.appendingPathComponent("result.json").path)
    XCTAssertEqual(writer.csvURL.path, step.appendingPathComponent("per-second.csv").path)
    try writer.write(json: ["schema": "x/1"])
    try writer.write(csvHeader: ["a", "b"], rows: [["1", "2"]])
    XCTAssertEqual(try String(contentsOf: writer.csvURL, encoding: .utf8), "a,b\n1,2\n")
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: step.path).sorted(),
      ["per-second.csv", "result.json"], "no temporary file left")
  }
}
