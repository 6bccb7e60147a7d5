import ArgumentParser
import LoligoPlacement

/// `loligo osdmap map-pg`: osdmaptool's `--test-map-pg PGID`.
struct OSDMapMapPGCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "map-pg",
    abstract: "Map one PG to its raw, up and acting sets, like osdmaptool --test-map-pg.",
    discussion: """
      Example:
        loligo osdmap map-pg -i cluster.osdmap 1.2a
      """
  )

  @OptionGroup var input: OSDMapInput

  @Argument(help: ArgumentHelp("The PG, as POOL.HEXSEED.", valueName: "pgid"))
  var pgid: String

  func run() throws {
    let map = try input.load()
    guard let pg = PGID(pgid) else { throw PlacementCLI.failure("failed to parse pg '\(pgid)'") }
    let mapping: PGMapping
    do {
      mapping = try map.map(pg: pg)
    } catch {
      throw PlacementCLI.failure(error.description)
    }
    print(" parsed '\(pgid)' -> \(pg)")
    print(OSDMapPrinter.fullLine(mapping))
  }
}
