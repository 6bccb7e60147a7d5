import Foundation

/// The machine-readable parts of docs/ARCHITECTURE.md: the layer block (top layer first, one
/// line per layer: its name, then its modules) and the pure-core block (`Module: allowed
/// imports`), each a fenced block between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.
struct Architecture {
  struct Layer {
    var name: String
    var modules: [String]
  }

  var layers: [Layer]
  var pure: [String: Set<String>]

  static func load() throws -> Architecture {
    let url = Repository.root.appendingPathComponent("docs/ARCHITECTURE.md")
    guard let text = try? String(contentsOf: url, encoding: .utf8) else {
      throw RepositoryError("cannot read \(url.path)")
    }
    return try Architecture(parsing: text)
  }

  init(parsing text: String) throws {
    layers = try Self.block("layers", in: text).map { line in
      let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
      guard words.count >= 2 else { throw RepositoryError("layer line without modules: \(line)") }
      return Layer(name: words[0], modules: Array(words.dropFirst()))
    }
    pure = [:]
    for line in try Self.block("pure", in: text) {
      let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
      guard parts.count == 2 else { throw RepositoryError("pure-core line without ':': \(line)") }
      let module = parts[0].trimmingCharacters(in: .whitespaces)
      pure[module] = Set(parts[1].split(whereSeparator: \.isWhitespace).map(String.init))
    }
  }

  /// The non-blank lines of the fenced block between the markers, without the fences.
  private static func block(_ name: String, in text: String) throws -> [String] {
    guard let begin = text.range(of: "<!-- \(name):begin -->"),
      let end = text.range(of: "<!-- \(name):end -->", range: begin.upperBound..<text.endIndex)
    else { throw RepositoryError("docs/ARCHITECTURE.md has no \(name) block") }
    return text[begin.upperBound..<end.lowerBound].split(separator: "\n")
      .map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty && !$0.hasPrefix("```") }
  }
}

enum Repository {
  /// The clone's root: three levels above this file (Tests/RepositoryTests/Architecture.swift).
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The directories of `Sources/`: one module each.
  static func sourceModules() throws -> Set<String> {
    let sources = root.appendingPathComponent("Sources")
    let names = try FileManager.default.contentsOfDirectory(atPath: sources.path)
    return Set(
      names.filter { name in
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(
          atPath: sources.appendingPathComponent(name).path, isDirectory: &isDirectory)
          && isDirectory.boolValue
      })
  }

  /// Every module a module's Swift files import, with one file that does.
  static func imports(of module: String) throws -> [String: String] {
    try imports(in: "Sources/\(module)")
  }

  /// Every module the Swift files under a directory of the clone import, with one file that does.
  static func imports(in folder: String) throws -> [String: String] {
    let directory = root.appendingPathComponent(folder)
    var found: [String: String] = [:]
    guard let walker = FileManager.default.enumerator(atPath: directory.path) else {
      throw RepositoryError("cannot list \(directory.path)")
    }
    for case let path as String in walker where path.hasSuffix(".swift") {
      let file = "\(folder)/\(path)"
      let text = try String(
        contentsOf: directory.appendingPathComponent(path), encoding: .utf8)
      for imported in importedModules(in: text) where found[imported] == nil {
        found[imported] = file
      }
    }
    return found
  }

  /// The modules named by `import` lines (with attributes like `@testable`, and kinds like
  /// `import struct M.T`), in order.
  static func importedModules(in source: String) -> [String] {
    var modules: [String] = []
    let kinds: Set<String> = [
      "struct", "class", "enum", "protocol", "func", "var", "let", "typealias",
    ]
    for line in source.split(separator: "\n") {
      var words = line.split(whereSeparator: \.isWhitespace).map(String.init)
      while let first = words.first,
        first.hasPrefix("@") || first == "public"
          || first == "internal" || first == "private" || first == "fileprivate"
          || first == "package"
      {
        words.removeFirst()
      }
      guard words.first == "import", words.count >= 2 else { continue }
      var target = words[1]
      if kinds.contains(target), words.count >= 3 { target = words[2] }
      if let dot = target.firstIndex(of: ".") { target = String(target[..<dot]) }
      modules.append(target)
    }
    return modules
  }
}

struct RepositoryError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
