import Foundation
import XCTest

/// Keeps the module graph the shape docs/ARCHITECTURE.md gives it: every module of `Sources/`
/// sits in one layer of the document's layer block, imports only modules of layers below its
/// own, and a pure core imports nothing beyond what the document allows it.
final class LayeringTests: XCTestCase {
  func testEveryModuleImportsOnlyFromLayersBelow() throws {
    let layers = try Architecture.load().layers
    var rank: [String: Int] = [:]
    for (index, layer) in layers.enumerated() {
      for module in layer.modules {
        XCTAssertNil(rank[module], "\(module) is in two layers of docs/ARCHITECTURE.md")
        rank[module] = layers.count - index  // the block lists the top layer first
      }
    }
    let modules = try Repository.sourceModules()
    XCTAssertGreaterThan(modules.count, 10, "no modules found under Sources/")
    for module in modules {
      guard let own = rank[module] else {
        XCTFail("Sources/\(module) is in no layer of docs/ARCHITECTURE.md: place it there")
        continue
      }
      for (imported, file) in try Repository.imports(of: module) {
        guard let theirs = rank[imported] else { continue }  // not ours: a package or the SDK
        XCTAssertLessThan(
          theirs, own,
          "\(file) (\(module), layer \(layerName(own, layers))) imports \(imported) "
            + "(layer \(layerName(theirs, layers))): a module imports only from layers below")
      }
    }
    for layer in layers {
      for module in layer.modules where !modules.contains(module) {
        XCTFail("docs/ARCHITECTURE.md places \(module), which is not in Sources/")
      }
    }
  }

  func testPureCoresImportOnlyWhatTheDocumentAllows() throws {
    let pure = try Architecture.load().pure
    XCTAssertFalse(pure.isEmpty, "docs/ARCHITECTURE.md lists no pure cores")
    for (module, allowed) in pure {
      let imports = try Repository.imports(of: module)
      XCTAssertFalse(imports.isEmpty, "\(module) has no sources")
      for (imported, file) in imports where !allowed.contains(imported) {
        XCTFail(
          "\(file) imports \(imported): the pure core \(module) may import only "
            + allowed.sorted().joined(separator: ", "))
      }
    }
  }

  /// The checker itself: a layer map and an import it must catch.
  func testAnUpwardImportIsCaught() throws {
    let document = """
      <!-- layers:begin -->
      ```
      top     A
      bottom  B C
      ```
      <!-- layers:end -->
      <!-- pure:begin -->
      ```
      C: B
      ```
      <!-- pure:end -->
      """
    let parsed = try Architecture(parsing: document)
    XCTAssertEqual(parsed.layers.map(\.name), ["top", "bottom"])
    XCTAssertEqual(parsed.layers.map(\.modules), [["A"], ["B", "C"]])
    XCTAssertEqual(parsed.pure["C"], ["B"])
    XCTAssertThrowsError(try Architecture(parsing: "no block here"))
    let source = "import Foundation\n@testable import A\n  import struct B.Thing\n// import C\n"
    XCTAssertEqual(Repository.importedModules(in: source), ["Foundation", "A", "B"])
  }

  private func layerName(_ rank: Int, _ layers: [Architecture.Layer]) -> String {
    layers[layers.count - rank].name
  }
}
