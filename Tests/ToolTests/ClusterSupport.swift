import Foundation
import LoligoClient
import LoligoCore
import LoligoMessages
import XCTest

/// A local cluster for a test: `loligo cluster up` in a temporary directory, `down` at the end
/// (and every daemon pid it recorded killed, whatever happened). Tests make their own pools, so
/// no default pool (ClusterUpTests covers it).
final class TestCluster {
  let directory: URL
  var conf: String { directory.appendingPathComponent("loligo.toml").path }
  private(set) var extraPids: [pid_t] = []

  /// In `directory` when given (a test's own file system), else a new one under /tmp.
  init(mons: Int, osds: Int = 0, extra: [String] = [], directory: URL? = nil) throws {
    self.directory =
      directory
      ?? URL(fileURLWithPath: "/tmp").appendingPathComponent("lt-\(UUID().uuidString.prefix(8))")
    let up = try ToolProcess(
      "loligo",
      ["cluster", "up", "--mons", "\(mons)", "--osds", "\(osds)", "--dir", self.directory.path]
        + (osds > 0 && !extra.contains("--no-pool") ? ["--no-pool"] : []) + extra)
    guard up.wait(timeout: 120) == 0 else {
      let output = up.stdout + up.stderr
      tearDown()
      throw NSError(
        domain: "TestCluster", code: 1,
        userInfo: [NSLocalizedDescriptionKey: "cluster up failed: \(output)"])
    }
  }

  func pid(_ daemon: String) -> pid_t? {
    guard
      let text = try? String(
        contentsOf: directory.appendingPathComponent("\(daemon).pid"), encoding: .utf8)
    else { return nil }
    return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// Starts a daemon again (after a kill), as `cluster up` did.
  func restart(_ tool: String, id: String) throws {
    let process = Process()
    process.executableURL = ToolProcess.binDirectory.appendingPathComponent(tool)
    process.arguments = ["--id", id, "--conf", conf]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    extraPids.append(process.processIdentifier)
  }

  func config() throws -> Config {
    var config = Config()
    try config.load(file: conf, entity: "client")
    return config
  }

  func client() throws -> MonClient { try MonClient.connect(config: try config()) }

  func loligo(_ arguments: [String], timeout: TimeInterval = 60) throws -> (Int32?, String, String)
  {
    let process = try ToolProcess("loligo", arguments + ["--conf", conf])
    let status = process.wait(timeout: timeout)
    return (status, process.stdout, process.stderr)
  }

  func tearDown() {
    // Debugging: leave the cluster running for a look (`loligo cluster down --dir` after).
    if ProcessInfo.processInfo.environment["LOLIGO_KEEP_TEST_CLUSTER"] == "1" {
      print("kept test cluster at \(directory.path)")
      return
    }
    if let down = try? ToolProcess("loligo", ["cluster", "down", "--dir", directory.path]) {
      down.wait(timeout: 60)
    }
    for pid in extraPids { kill(pid, SIGKILL) }
    // Anything still alive from the pid files.
    if let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) {
      for name in names where name.hasSuffix(".pid") {
        if let pid = self.pid(String(name.dropLast(4))) { kill(pid, SIGKILL) }
      }
    }
    try? FileManager.default.removeItem(at: directory)
  }
}

func jsonObject(_ text: String) -> [String: Any] {
  ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:]
}
