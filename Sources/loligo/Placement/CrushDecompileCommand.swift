import ArgumentParser
import LoligoPlacement

/// `loligo crush decompile`: `crushtool -d MAP.bin [-o MAP.txt]`.
struct CrushDecompileCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "decompile",
    abstract: "Print a map as text, like `crushtool -d`.",
    discussion: """
      Reads a binary (or text) map and prints the text crushtool -d prints for it.

      Example:
        loligo crush decompile map.bin -o map.txt
      """
  )

  @Argument(help: ArgumentHelp("The map to decompile.", valueName: "map"))
  var input: String

  @Option(name: [.customShort("o"), .customLong("outfn")], help: "Write here instead of stdout.")
  var output: String?

  func run() throws {
    let map = try PlacementCLI.loadCrushMap(input)
    try MapFormat.emit(map, to: output, format: .text)
  }
}
