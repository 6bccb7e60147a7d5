import ArgumentParser

struct OSDMapCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "osdmap", abstract: "OSD maps: create, show, map objects and PGs.")
}
