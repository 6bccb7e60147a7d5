import ArgumentParser
import LoligoPlacement

/// `loligo osdmap`: build OSD maps and map objects and PGs through them, with osdmaptool's
/// output formats.
struct OSDMapCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "osdmap",
    abstract: "OSD maps: create, show, map objects and PGs.",
    discussion: """
      An OSD map file is made by `create` (like osdmaptool --createsimple + --import-crush) \
      or `import` (from osdmaptool --dump json plus a CRUSH map); the mapping commands print \
      what osdmaptool --test-map-object / --test-map-pg / --test-map-pgs-dump print.

      Examples:
        loligo osdmap create -o cluster.osdmap --num-osds 12 --pg-bits 2 --size 3 \\
          --crush map.txt --mark-up-in
        loligo osdmap map-object -i cluster.osdmap --pool rbd myobject
        loligo osdmap map-pgs -i cluster.osdmap --pool 1
      """,
    subcommands: [
      OSDMapCreateCommand.self, OSDMapImportCommand.self, OSDMapShowCommand.self,
      OSDMapMapObjectCommand.self, OSDMapMapPGCommand.self, OSDMapMapPGsCommand.self,
    ]
  )
}

/// Shared `-i FILE` option and pool lookup.
struct OSDMapInput: ParsableArguments {
  @Option(
    name: [.customShort("i"), .customLong("osdmap")],
    help: ArgumentHelp(
      "The OSD map file (from `osdmap create` or `osdmap import`).",
      valueName: "file"))
  var path: String

  func load() throws -> OSDMap {
    do {
      return try OSDMapFile.load(path: path)
    } catch {
      throw PlacementCLI.failure(error.description)
    }
  }
}

extension OSDMap {
  /// A pool given by id (as osdmaptool takes it) or by name.
  func resolvePool(_ text: String) throws -> Int64 {
    if let id = Int64(text), pool(id) != nil { return id }
    if let id = poolID(named: text) { return id }
    throw PlacementCLI.failure("there is no pool \(text)")
  }
}
