import Foundation

/// Runs a messenger profile: server up, client run, server stopped by pid, result path shown.
struct MessengerProfileRunner {
  let profile: Profile
  let resultsDirectory: String

  /// The other tools live beside this executable.
  static var toolDirectory: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
      .deletingLastPathComponent()
  }

  func run() throws {
    let configArguments = profile.config.flatMap { ["--\($0.0)", $0.1] }
    say("profile \(profile.name): \(profile.description)")
    let server = Process()
    server.executableURL = Self.toolDirectory.appendingPathComponent("perf-msgr-server")
    server.arguments =
      ["127.0.0.1:0", String(profile.server.workers), String(profile.server.thinkTimeUs)]
      + configArguments
    let serverErrors = Pipe()
    server.standardError = serverErrors
    try server.run()
    defer {
      if server.isRunning {
        kill(server.processIdentifier, SIGTERM)
        server.waitUntilExit()
      }
    }
    guard let port = Self.awaitListeningPort(serverErrors.fileHandleForReading, timeout: 15) else {
      throw ProfileError("perf-msgr-server did not start (pid \(server.processIdentifier))")
    }
    say("server pid \(server.processIdentifier) listening on 127.0.0.1:\(port)")

    let client = Process()
    client.executableURL = Self.toolDirectory.appendingPathComponent("perf-msgr-client")
    let c = profile.client
    client.arguments =
      [
        "127.0.0.1:\(port)", String(c.numjobs), String(c.concurrency), String(c.ios),
        String(c.thinkTimeUs), String(c.messageLength), "--results", resultsDirectory,
        "--name", profile.name,
      ] + configArguments
    try client.run()
    client.waitUntilExit()
    kill(server.processIdentifier, SIGTERM)
    server.waitUntilExit()
    let tail = String(
      decoding: serverErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    if let served = tail.split(separator: "\n").last(where: { $0.contains("served") }) {
      say("server:\(served)")
    }
    guard client.terminationStatus == 0 else {
      throw ProfileError("perf-msgr-client failed (exit \(client.terminationStatus))")
    }
  }

  /// Reads the server's stderr until it prints `listening on HOST:PORT`.
  static func awaitListeningPort(_ handle: FileHandle, timeout: TimeInterval) -> Int? {
    var text = ""
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let data = handle.availableData
      if data.isEmpty { return nil }  // the server exited
      text += String(decoding: data, as: UTF8.self)
      for line in text.split(separator: "\n") where line.contains("listening on ") {
        if let colon = line.lastIndex(of: ":"), let port = Int(line[line.index(after: colon)...]) {
          return port
        }
      }
    }
    return nil
  }
}

/// Unbuffered, so lines interleave correctly with the child processes' output.
func say(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
