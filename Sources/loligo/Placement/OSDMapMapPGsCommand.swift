import ArgumentParser
import LoligoPlacement

/// `loligo osdmap map-pgs`: osdmaptool's `--test-map-pgs-dump[-all]`.
struct OSDMapMapPGsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "map-pgs",
    abstract: "Map every PG of a pool (or all pools), like osdmaptool --test-map-pgs-dump.",
    discussion: """
      Prints `pool P pg_num N`, then `PGID<TAB>[acting]<TAB>primary` per PG (with --all: \
      `PGID raw ([..], pX) up ([..], pY) acting ([..], pZ)`), then osdmaptool's per-OSD \
      summary (omit with --no-summary).

      Example:
        loligo osdmap map-pgs -i cluster.osdmap --pool 1
      """
  )

  @OptionGroup var input: OSDMapInput

  @Option(help: "Pool id or name (default: every pool).")
  var pool: String?

  @Flag(name: .customLong("all"), help: "Print raw, up and acting sets (--test-map-pgs-dump-all).")
  var all = false

  @Flag(name: .customLong("no-summary"), help: "Only the PG lines.")
  var noSummary = false

  func run() throws {
    let map = try input.load()
    let pools = try pool.map { [try map.resolvePool($0)] } ?? map.pools.keys.sorted()
    var output = OutputBuffer()
    var every: [PGMapping] = []
    for id in pools {
      let mappings: [PGMapping]
      do {
        mappings = try map.mapAllPGs(pool: id)
      } catch {
        throw PlacementCLI.failure(error.description)
      }
      output.line("pool \(id) pg_num \(map.pool(id)!.pgNum)")
      for mapping in mappings {
        output.line(all ? OSDMapPrinter.fullLine(mapping) : OSDMapPrinter.dumpLine(mapping))
      }
      every += mappings
    }
    if !noSummary {
      for line in OSDMapPrinter.summary(of: every, map: map) { output.line(line) }
    }
    output.flush()
  }
}
