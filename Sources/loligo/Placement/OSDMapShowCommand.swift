import ArgumentParser
import LoligoPlacement

/// `loligo osdmap show`: print a map.
struct OSDMapShowCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract: "Print an OSD map (epoch, pools, OSDs), like osdmaptool --print.",
    discussion: """
      Example:
        loligo osdmap show -i cluster.osdmap
      """
  )

  @OptionGroup var input: OSDMapInput

  @Flag(help: "Also print the CRUSH map as text.")
  var crush = false

  func run() throws {
    let map = try input.load()
    var output = OutputBuffer()
    for line in OSDMapPrinter.describe(map) { output.line(line) }
    if crush {
      output.line("")
      do {
        output.line(try CrushTextWriter.text(of: map.crush))
      } catch {
        throw PlacementCLI.failure("cannot print the CRUSH map: \(error)")
      }
    }
    output.flush()
  }
}
