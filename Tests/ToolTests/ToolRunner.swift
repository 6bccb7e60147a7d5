import Foundation
import XCTest

/// Starts the package's built executables (they sit beside the test bundle) and collects their
/// output, with a deadline; processes still running at the end of a test are killed by pid.
final class ToolProcess: @unchecked Sendable {
  let process = Process()
  private let output = CapturedOutput()

  static var binDirectory: URL {
    // The test bundle is <bin>/LoligoPackageTests.xctest: the executables are beside it.
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  }

  /// `stdin`: bytes for its standard input, written from a thread of their own (the tool may
  /// stop reading early); without them it reads from the test's standard input.
  init(
    _ tool: String, _ arguments: [String], environment: [String: String] = [:],
    stdin: Data? = nil
  ) throws {
    process.executableURL = ToolProcess.binDirectory.appendingPathComponent(tool)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    process.standardOutput = output.stdoutPipe
    process.standardError = output.stderrPipe
    let input = stdin.map { _ in Pipe() }
    if let input { process.standardInput = input }
    try process.run()
    output.startReaders()
    if let input, let stdin {
      // A tool that stops reading closes the pipe: the write must fail, not kill the suite.
      signal(SIGPIPE, SIG_IGN)
      Thread {
        let fd = input.fileHandleForWriting.fileDescriptor
        var offset = 0
        stdin.withUnsafeBytes { bytes in
          while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            offset += n
          }
        }
        try? input.fileHandleForWriting.close()
      }.start()
    }
  }

  var stdout: String { output.text(\.stdoutData) }
  var stderr: String { output.text(\.stderrData) }

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
    // Everything it wrote, unless a child it left behind still holds the pipes open.
    output.waitForEnd(until: Date().addingTimeInterval(2))
    return process.terminationStatus
  }

  func terminate() {
    if process.isRunning { kill(process.processIdentifier, SIGTERM) }
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }
}

/// A process's stdout and stderr, read to EOF by one plain thread per pipe. (FileHandle's
/// readabilityHandler runs on a dispatch source whose teardown raced with the handler: a
/// SIGSEGV in libdispatch was seen once in the suite.) The threads hold this object, and the
/// pipes with it, not the ToolProcess, so a ToolProcess still ends (and kills its process).
private final class CapturedOutput: @unchecked Sendable {
  let stdoutPipe = Pipe()
  let stderrPipe = Pipe()
  var stdoutData = Data()
  var stderrData = Data()
  private var openStreams = 2
  private let lock = NSCondition()

  func startReaders() {
    startReader(stdoutPipe.fileHandleForReading.fileDescriptor) { $0.stdoutData.append($1) }
    startReader(stderrPipe.fileHandleForReading.fileDescriptor) { $0.stderrData.append($1) }
  }

  private func startReader(
    _ fd: Int32, _ append: @escaping @Sendable (CapturedOutput, Data) -> Void
  ) {
    let thread = Thread { [self] in
      var chunk = [UInt8](repeating: 0, count: 65536)
      while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { break }
        lock.withLock { append(self, Data(chunk[0..<n])) }
      }
      lock.withLock {
        openStreams -= 1
        lock.broadcast()
      }
    }
    thread.start()
  }

  func text(_ data: KeyPath<CapturedOutput, Data>) -> String {
    lock.withLock { String(decoding: self[keyPath: data], as: UTF8.self) }
  }

  func waitForEnd(until deadline: Date) {
    lock.withLock {
      while openStreams > 0 && lock.wait(until: deadline) {}
    }
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
