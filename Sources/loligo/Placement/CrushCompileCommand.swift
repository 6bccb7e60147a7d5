import ArgumentParser
import LoligoPlacement

/// `loligo crush compile`: `crushtool -c MAP.txt -o MAP.bin`.
struct CrushCompileCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compile",
    abstract: "Compile map text to Ceph's binary form, like `crushtool -c`.",
    discussion: """
      Reads decompiled text (or a binary map) and writes Ceph's binary encoding, identical to \
      what crushtool -c produces. Malformed text fails with `line N: reason`.

      Example:
        loligo crush compile map.txt -o map.bin
      """
  )

  @Argument(help: ArgumentHelp("The map text to compile.", valueName: "map.txt"))
  var input: String

  @Option(name: [.customShort("o"), .customLong("outfn")], help: "Where to write the map.")
  var output: String?

  @Option(help: "Output form: binary (default) or text (normalised, as decompile prints).")
  var format: MapFormat = .binary

  func run() throws {
    let map = try PlacementCLI.loadCrushMap(input)
    if output == nil && format == .binary {
      throw PlacementCLI.failure("refusing to write a binary map to the terminal; use -o FILE")
    }
    try MapFormat.emit(map, to: output, format: format)
  }
}
