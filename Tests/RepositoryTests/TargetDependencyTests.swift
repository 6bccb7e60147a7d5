import Foundation
import XCTest

/// A target that imports one of the package's modules must reach it through the dependencies
/// Package.swift declares. An undeclared import still builds when another target happens to
/// have built that module first, so it passes here and fails on a clean clone (as it once did in
/// CI); this test reads the package's own description and catches it on any machine.
final class TargetDependencyTests: XCTestCase {
  func testEveryTargetDeclaresTheModulesItImports() throws {
    let targets = try PackageDescriptionDump.load()
    XCTAssertGreaterThan(targets.count, 10, "swift package dump-package listed no targets")
    let local = Set(targets.keys)
    for (name, target) in targets.sorted(by: { $0.key < $1.key }) {
      let reachable = PackageDescriptionDump.closure(of: name, in: targets)
      for (imported, file) in try Repository.imports(in: target.path)
      where local.contains(imported) && imported != name && !reachable.contains(imported) {
        XCTFail(
          "\(file) imports \(imported), but the target \(name) does not depend on it "
            + "(directly or through its dependencies) in Package.swift")
      }
    }
  }

  func testTheClosureFollowsDependenciesOfDependencies() {
    let targets: [String: PackageDescriptionDump.Target] = [
      "A": .init(path: "a", dependencies: ["B"]),
      "B": .init(path: "b", dependencies: ["C"]),
      "C": .init(path: "c", dependencies: []),
      "D": .init(path: "d", dependencies: []),
    ]
    XCTAssertEqual(PackageDescriptionDump.closure(of: "A", in: targets), ["B", "C"])
    XCTAssertEqual(PackageDescriptionDump.closure(of: "D", in: targets), [])
  }
}

/// The targets of Package.swift as `swift package dump-package` describes them.
enum PackageDescriptionDump {
  struct Target {
    var path: String
    var dependencies: [String]
  }

  static func load() throws -> [String: Target] {
    // A scratch path of its own: the running `swift test` holds the lock on .build.
    let scratch = FileManager.default.temporaryDirectory
      .appendingPathComponent("loligo-dump-\(getpid())")
    defer { try? FileManager.default.removeItem(at: scratch) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "swift", "package", "--package-path", Repository.root.path, "--scratch-path",
      scratch.path, "dump-package",
    ]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw RepositoryError("swift package dump-package exited \(process.terminationStatus)")
    }
    return try parse(data)
  }

  static func parse(_ data: Data) throws -> [String: Target] {
    guard let package = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let targets = package["targets"] as? [[String: Any]]
    else { throw RepositoryError("dump-package printed no targets") }
    var result: [String: Target] = [:]
    for target in targets {
      guard let name = target["name"] as? String, let type = target["type"] as? String else {
        continue
      }
      let folder = type == "test" ? "Tests" : "Sources"
      let path = target["path"] as? String ?? "\(folder)/\(name)"
      var dependencies: [String] = []
      for dependency in target["dependencies"] as? [[String: Any]] ?? [] {
        // Each dependency is {"byName"|"target"|"product": [name, ...]}.
        for key in ["byName", "target", "product"] {
          if let fields = dependency[key] as? [Any], let first = fields.first as? String {
            dependencies.append(first)
          }
        }
      }
      result[name] = Target(path: path, dependencies: dependencies)
    }
    return result
  }

  static func closure(of name: String, in targets: [String: Target]) -> Set<String> {
    var seen: Set<String> = []
    var pending = targets[name]?.dependencies ?? []
    while let next = pending.popLast() {
      guard seen.insert(next).inserted else { continue }
      pending += targets[next]?.dependencies ?? []
    }
    return seen
  }
}
