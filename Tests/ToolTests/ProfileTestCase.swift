import Foundation
import XCTest

/// A temporary directory per test for profiles and their results (`profile run --results`).
class ProfileTestCase: XCTestCase {
  var directory: URL!
  var results: URL { directory.appendingPathComponent("results") }

  override func setUpWithError() throws {
    directory = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("lpr-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  /// Writes `body` as `<name>.toml`; returns its path.
  func profile(_ name: String, _ body: String) throws -> String {
    let path = directory.appendingPathComponent("\(name).toml").path
    try body.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// A JSON object file, parsed.
  func json(_ url: URL) throws -> [String: Any] {
    try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any], url.path)
  }
}
