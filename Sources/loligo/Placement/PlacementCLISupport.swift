import ArgumentParser
import Foundation
import LoligoPlacement

/// Shared plumbing for the placement subcommands: one clear line on stderr and a non-zero exit
/// for any failure, buffered stdout, and file helpers.
enum PlacementCLI {
  /// Prints `loligo: message` to stderr and returns the error that ends the command with
  /// status 1 (ArgumentParser would otherwise add usage text to what is not a usage error).
  static func failure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data(("loligo: " + message + "\n").utf8))
    return ExitCode.failure
  }

  static func loadCrushMap(_ path: String) throws -> CrushMap {
    do {
      return try CrushMapFile.load(path: path)
    } catch {
      throw failure(error.description)
    }
  }

  static func write(_ data: Data, to path: String) throws {
    do {
      try data.write(to: URL(fileURLWithPath: path))
    } catch {
      throw failure("\(path): cannot write: \(error.localizedDescription)")
    }
  }

  static func readFile(_ path: String, limit: Int = 64 << 20) throws -> Data {
    let url = URL(fileURLWithPath: path)
    if let size = try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize, size > limit {
      throw failure("\(path): file larger than \(limit) bytes")
    }
    do {
      return try Data(contentsOf: url)
    } catch {
      throw failure("\(path): cannot read: \(error.localizedDescription)")
    }
  }
}

/// Collects output lines and writes them to stdout in large chunks.
struct OutputBuffer {
  private var pending = ""

  mutating func line(_ text: String) {
    pending += text
    pending += "\n"
    if pending.utf8.count >= 1 << 16 { flush() }
  }

  mutating func flush() {
    guard !pending.isEmpty else { return }
    FileHandle.standardOutput.write(Data(pending.utf8))
    pending = ""
  }
}
