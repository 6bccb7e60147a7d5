import ArgumentParser
import Foundation
import LoligoPlacement

/// `loligo osdmap map-object`: osdmaptool's `--test-map-object NAME --pool P`.
struct OSDMapMapObjectCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "map-object",
    abstract: "Map object names to PG and acting set, like osdmaptool --test-map-object.",
    discussion: """
      Prints ` object 'NAME' -> PGID -> [acting]` per name (osdmaptool's format), or with \
      --details the PG's raw, up and acting sets with primaries. Names come from the \
      arguments and/or --names-from FILE (one per line).

      Example:
        loligo osdmap map-object -i cluster.osdmap --pool rbd obj1 obj2
      """
  )

  @OptionGroup var input: OSDMapInput

  @Option(help: "Pool id or name.")
  var pool: String

  @Option(help: "Locator key (placement uses it instead of the name).")
  var key = ""

  @Option(help: "Object namespace.")
  var namespace = ""

  @Option(name: .customLong("names-from"), help: "Read object names from this file, one per line.")
  var namesFrom: String?

  @Flag(help: "Print raw/up/acting sets and primaries too.")
  var details = false

  @Argument(help: ArgumentHelp("Object names.", valueName: "object"))
  var objects: [String] = []

  func run() throws {
    let map = try input.load()
    let poolID = try map.resolvePool(pool)
    var names = objects
    if let namesFrom {
      let data = try PlacementCLI.readFile(namesFrom)
      names += String(decoding: data, as: UTF8.self)
        .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
    guard !names.isEmpty else { throw PlacementCLI.failure("no object names given") }
    let locator = ObjectLocator(pool: poolID, key: key, namespace: namespace)
    var output = OutputBuffer()
    for name in names {
      let mapping: PGMapping
      do {
        mapping = try map.map(object: name, locator: locator)
      } catch {
        throw PlacementCLI.failure(error.description)
      }
      output.line(OSDMapPrinter.objectLine(name: name, mapping: mapping))
      if details { output.line(OSDMapPrinter.fullLine(mapping)) }
    }
    output.flush()
  }
}
