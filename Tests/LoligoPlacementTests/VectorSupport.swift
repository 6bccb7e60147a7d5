import Foundation
import LoligoPlacement
import XCTest

/// Finds and reads the Ceph-generated placement vectors: the copy kept with this test target
/// (`Vectors/`, a resource), or another set named by `$LOLIGO_VECTORS`.
enum Vectors {
  /// The vector directory: `$LOLIGO_VECTORS` when set, else the bundled copy. A missing or
  /// incomplete set is an error that names what is absent, so a test fails instead of skipping.
  static func directory() throws -> URL {
    if let override = ProcessInfo.processInfo.environment["LOLIGO_VECTORS"], !override.isEmpty {
      let url = URL(fileURLWithPath: override)
      guard FileManager.default.fileExists(atPath: url.appendingPathComponent("crush").path)
      else {
        throw VectorError("LOLIGO_VECTORS=\(override) has no crush/ directory")
      }
      return url
    }
    guard let bundled = Bundle.module.url(forResource: "Vectors", withExtension: nil) else {
      throw VectorError(
        "the bundled vectors (Tests/LoligoPlacementTests/Vectors) are missing from the test "
          + "bundle \(Bundle.module.bundlePath); rebuild, or set LOLIGO_VECTORS=DIR")
    }
    guard FileManager.default.fileExists(atPath: bundled.appendingPathComponent("crush").path)
    else {
      throw VectorError("the bundled vectors at \(bundled.path) have no crush/ directory")
    }
    return bundled
  }

  static func files(in subdirectory: String, suffix: String) throws -> [URL] {
    let directory = try directory().appendingPathComponent(subdirectory)
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path),
      names.contains(where: { $0.hasSuffix(suffix) })
    else {
      throw VectorError("the vector set has no \(subdirectory)/*\(suffix) (\(directory.path))")
    }
    return names.filter { $0.hasSuffix(suffix) }.sorted().map {
      directory.appendingPathComponent($0)
    }
  }

  static func text(_ url: URL) throws -> String {
    try String(contentsOf: url, encoding: .utf8)
  }

  static func crushMap(named name: String) throws -> CrushMap {
    let url = try directory().appendingPathComponent("maps/\(name).txt")
    return try CrushMapFile.load(path: url.path)
  }

  /// Non-comment, non-blank lines split at the first ` -> `.
  static func records(_ text: String) -> [(key: String, value: String)] {
    text.split(separator: "\n").compactMap { line in
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      guard !trimmed.isEmpty, !trimmed.hasPrefix("#"),
        let arrow = trimmed.range(of: " -> ")
      else { return nil }
      return (String(trimmed[..<arrow.lowerBound]), String(trimmed[arrow.upperBound...]))
    }
  }

  /// `[1, 4, 6]` -> [1, 4, 6].
  static func osdList(_ text: String) -> [Int32]? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard trimmed.hasPrefix("["), trimmed.hasSuffix("]") else { return nil }
    let inner = trimmed.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
    if inner.isEmpty { return [] }
    var result: [Int32] = []
    for part in inner.split(separator: ",") {
      guard let value = Int32(part.trimmingCharacters(in: .whitespaces)) else { return nil }
      result.append(value)
    }
    return result
  }

  /// The `# command: crushtool -i maps/MAP.bin ARGS` header of a crush vector file.
  static func crushCommand(_ text: String) -> (map: String, arguments: [String])? {
    for line in text.split(separator: "\n") where line.hasPrefix("# command: crushtool -i maps/") {
      let words = line.split(separator: " ").map(String.init)
      guard words.count > 4, words[4].hasSuffix(".bin") else { return nil }
      let map = String(words[4].dropFirst("maps/".count).dropLast(".bin".count))
      return (map, Array(words[5...]))
    }
    return nil
  }
}

struct VectorError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

extension CrushTester {
  /// Configures a tester from crushtool `--test` arguments (the subset the vectors use plus
  /// the common extras), failing on anything unknown so new vector options are noticed.
  mutating func configure(crushtoolArguments arguments: [String]) throws {
    var index = 0
    func value() throws -> String {
      index += 1
      guard index < arguments.count else { throw VectorError("missing value in \(arguments)") }
      return arguments[index]
    }
    while index < arguments.count {
      switch arguments[index] {
      case "--test", "--show-mappings", "--show_mappings":
        showMappings = true
      case "--rule":
        let rule = Int(try value())!
        (minRule, maxRule) = (rule, rule)
      case "--num-rep", "--num_rep":
        let count = Int(try value())!
        (minReplicas, maxReplicas) = (count, count)
      case "--min-x", "--min_x": minX = Int64(try value())!
      case "--max-x", "--max_x": maxX = Int64(try value())!
      case "--x":
        let x = Int64(try value())!
        (minX, maxX) = (x, x)
      case "--pool-id", "--pool_id": poolID = Int64(try value())!
      case "--weight", "-w":
        let device = Int32(try value())!
        deviceWeights[device] = CrushTester.reweight(fromText: try value())
      default:
        throw VectorError("unsupported crushtool argument \(arguments[index])")
      }
      index += 1
    }
  }
}
