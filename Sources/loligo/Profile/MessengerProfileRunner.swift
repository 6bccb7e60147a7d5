import Foundation

/// Runs a messenger profile: server up, the client as the run's one step, server stopped by
/// pid.
struct MessengerProfileRunner {
  let profile: Profile
  let profileRun: ProfileRun

  /// The run's one step.
  static let steps: [(name: String, kind: ProfileStepKind)] = [("perf-msgr", .perfMsgr)]

  /// The other tools live beside this executable.
  static var toolDirectory: URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
      .deletingLastPathComponent()
  }

  func run() throws {
    let configArguments = profile.config.flatMap { ["--\($0.0)", $0.1] }
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

    let c = profile.client
    let succeeded = try profileRun.runStep(
      1, executable: Self.toolDirectory.appendingPathComponent("perf-msgr-client").path
    ) { stepDirectory in
      [
        "127.0.0.1:\(port)", String(c.numjobs), String(c.concurrency), String(c.ios),
        String(c.thinkTimeUs), String(c.messageLength), "--result-dir", stepDirectory,
        "--name", profile.name,
      ] + configArguments
    }
    kill(server.processIdentifier, SIGTERM)
    server.waitUntilExit()
    let tail = String(
      decoding: serverErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    if let served = tail.split(separator: "\n").last(where: { $0.contains("served") }) {
      say("server:\(served)")
    }
    guard succeeded else {
      throw ProfileError("perf-msgr-client failed: \(profileRun.summary.steps[0].error ?? "")")
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
