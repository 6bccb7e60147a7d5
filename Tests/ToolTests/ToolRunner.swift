import Foundation
import XCTest

/// Starts the package's built executables (they sit beside the test bundle) and collects their
/// output, with a deadline; processes still running at the end of a test are killed by pid.
final class ToolProcess: @unchecked Sendable {
  let process = Process()
  private let stdoutPipe = Pipe()
  private let stderrPipe = Pipe()
  private var stdoutData = Data()
  private var stderrData = Data()
  private let lock = NSLock()

  static var binDirectory: URL {
    // The test bundle is <bin>/LoligoPackageTests.xctest: the executables are beside it.
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  }

  init(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws {
    process.executableURL = ToolProcess.binDirectory.appendingPathComponent(tool)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    process.standardOutput = stdoutPipe
    process.standardError = stderrPipe
    stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
      let data = handle.availableData
      self?.lock.withLock { self?.stdoutData.append(data) }
    }
    stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
      let data = handle.availableData
      self?.lock.withLock { self?.stderrData.append(data) }
    }
    try process.run()
  }

  var stdout: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }
  var stderr: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

  /// Waits for exit; returns the status, or nil (after killing it) on timeout.
  @discardableResult
  func wait(timeout: TimeInterval) -> Int32? {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning {
      if Date() > deadline {
        kill(process.processIdentifier, SIGKILL)
        // Never block on it: a wait that cannot end would hang the whole suite.
        for _ in 0..<500 where process.isRunning { usleep(10_000) }
        return nil
      }
      usleep(10_000)
    }
    usleep(20_000)  // let the pipe handlers drain
    return process.terminationStatus
  }

  func terminate() {
    if process.isRunning { kill(process.processIdentifier, SIGTERM) }
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    stdoutPipe.fileHandleForReading.readabilityHandler = nil
    stderrPipe.fileHandleForReading.readabilityHandler = nil
  }
}

func freePort() -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var addr = sockaddr_in()
  addr.sin_family = sa_family_t(AF_INET)
  addr.sin_addr.s_addr = inet_addr("127.0.0.1")
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  _ = withUnsafePointer(to: &addr) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
  }
  _ = withUnsafeMutablePointer(to: &addr) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
  }
  return Int(UInt16(bigEndian: addr.sin_port))
}

/// Starts perf-msgr-server on a free port and waits until it listens.
func startPerfServer(workers: Int = 1, extra: [String] = []) throws -> (ToolProcess, Int) {
  for _ in 0..<5 {
    let port = freePort()
    let server = try ToolProcess(
      "perf-msgr-server", ["127.0.0.1:\(port)", "\(workers)", "0"] + extra)
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline && server.process.isRunning && !server.stderr.contains("listening on") {
      usleep(10_000)
    }
    if server.stderr.contains("listening on") { return (server, port) }
    server.terminate()
    server.wait(timeout: 5)
  }
  throw NSError(
    domain: "ToolTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "server did not start"])
}
