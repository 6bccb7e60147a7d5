import ArgumentParser
import Foundation
import LoligoPlacement

/// `loligo osdmap import`: rebuild a Ceph OSD map from its JSON dump and CRUSH map.
struct OSDMapImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Import `osdmaptool --dump json` (or `ceph osd dump -f json`) output.",
    discussion: """
      The JSON gives epoch, OSD states and reweights, pools and pg_temp/primary_temp/upmaps; \
      the CRUSH map (text or binary, e.g. from `ceph osd getcrushmap`) gives the hierarchy.

      Example:
        loligo osdmap import --json osdmaps/A.json --crush maps/hosts4x3.txt \\
          -o A.osdmap
      """
  )

  @Option(help: "The JSON dump.")
  var json: String

  @Option(help: "The CRUSH map (text or binary).")
  var crush: String

  @Option(name: [.customShort("o"), .customLong("output")], help: "Where to write the map.")
  var output: String

  func run() throws {
    let crushMap = try PlacementCLI.loadCrushMap(crush)
    let data = try PlacementCLI.readFile(json)
    let map: OSDMap
    do {
      map = try OSDMap.fromCephJSON(data, crush: crushMap)
    } catch {
      throw PlacementCLI.failure("\(json): \(error.description)")
    }
    try PlacementCLI.write(Data(OSDMapFile.encode(map)), to: output)
  }
}
