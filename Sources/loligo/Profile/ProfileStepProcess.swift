import Foundation

/// Runs a profile step's command: its stdout and stderr shown as they come (the bench's
/// per-second table, the client's progress) and kept in a file.
enum ProfileStepProcess {
  /// Runs `executable` to its end; returns its exit status and the last line it printed.
  static func run(_ executable: String, _ arguments: [String], output: URL) throws -> (
    status: Int32, lastLine: String?
  ) {
    guard FileManager.default.createFile(atPath: output.path, contents: nil),
      let file = FileHandle(forWritingAtPath: output.path)
    else { throw ProfileError("cannot write \(output.path)") }
    defer { try? file.close() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    var tail = Data()
    while case let chunk = pipe.fileHandleForReading.availableData, !chunk.isEmpty {
      FileHandle.standardOutput.write(chunk)
      file.write(chunk)
      tail = (tail + chunk).suffix(4096)
    }
    process.waitUntilExit()
    let lastLine = String(decoding: tail, as: UTF8.self).split(separator: "\n").last
    return (process.terminationStatus, lastLine.map(String.init))
  }
}
