import ArgumentParser
import LoligoPlacement

/// `loligo pg ...`: placement groups as the monitors and their primaries see them.
struct PGCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pg", abstract: "Placement groups: list, dump, query one.",
    subcommands: [])

  /// A PG id as the user typed it, checked for its form (the monitors check that it exists).
  static func parsePGID(_ text: String) throws -> PGID {
    guard text.utf8.count <= 32, text.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == ".") }),
      let pgid = PGID(text)
    else { throw ValidationError("invalid pgid '\(text)' (POOL.SEED, e.g. 1.a)") }
    return pgid
  }
}
