import ArgumentParser

struct CrushCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "crush", abstract: "CRUSH maps: test, build, compile, decompile.")
}
