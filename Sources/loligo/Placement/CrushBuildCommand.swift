import ArgumentParser
import Foundation
import LoligoPlacement

/// `loligo crush build`: `crushtool --build --num_osds N LAYER...`.
struct CrushBuildCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "build",
    abstract: "Build a map from layers, like `crushtool --build --num_osds N LAYER...`.",
    discussion: """
      Each layer is three words: NAME ALG SIZE, with ALG one of uniform, list, tree, straw, \
      straw2 and SIZE the number of lower items per bucket (0: all in one). Devices are \
      osd.0..osd.N-1 (weight 1.0), layer k gets type k, buckets are NAME0, NAME1, ... and the \
      rule replicated_rule takes the last layer's first bucket and spreads replicas over the \
      first layer's buckets. Tunables: the default (jewel) profile. The result equals \
      crushtool's byte for byte.

      Example:
        loligo crush build --num-osds 12 host straw2 3 root straw2 0 -o map.bin
      """
  )

  @Option(name: [.customLong("num-osds"), .customLong("num_osds")], help: "Number of OSDs.")
  var numOSDs: Int

  @Argument(help: ArgumentHelp("Layers: NAME ALG SIZE ...", valueName: "layer"))
  var layers: [String] = []

  @Option(
    name: [.customShort("o"), .customLong("outfn")],
    help: "Write the map here (default: text on stdout).")
  var output: String?

  @Option(help: "Output form: text or binary (default: binary with -o, text on stdout).")
  var format: MapFormat?

  func run() throws {
    let map: CrushMap
    do {
      map = try CrushBuilder.build(
        osdCount: numOSDs, layers: try CrushBuilder.layers(fromArguments: layers))
    } catch {
      throw PlacementCLI.failure(error.description)
    }
    try MapFormat.emit(map, to: output, format: format)
  }
}

/// How a map is written out.
enum MapFormat: String, ExpressibleByArgument, CaseIterable {
  case text
  case binary

  static func emit(_ map: CrushMap, to path: String?, format: MapFormat?) throws {
    let chosen = format ?? (path == nil ? .text : .binary)
    let data: Data
    switch chosen {
    case .text:
      do {
        data = Data(try CrushTextWriter.text(of: map).utf8)
      } catch {
        throw PlacementCLI.failure("cannot write the map as text: \(error)")
      }
    case .binary:
      let buffer = CrushBinaryCodec.encode(map)
      data = Data(buffer.readableBytesView)
    }
    if let path {
      try PlacementCLI.write(data, to: path)
    } else {
      FileHandle.standardOutput.write(data)
    }
  }
}
