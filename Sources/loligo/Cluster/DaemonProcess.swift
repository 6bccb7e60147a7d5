import CLoligoSys
import Foundation
import LoligoDaemon

/// Starting and stopping daemons for `loligo cluster`: each runs in its own session (so it
/// outlives the command that started it and ignores the terminal's signals), with its output
/// in a file, and is stopped by the pid in its pid file.
enum DaemonProcess {
  /// Starts `executable` detached; returns its pid.
  static func spawn(_ executable: String, _ arguments: [String], output: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    // Nothing else crosses over: a parent waiting for its pipes to close must not wait for us.
    _ = loligo_spawn_close_from(&actions, 3)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(
      &attributes, loligo_posix_spawn_setsid() | Int16(POSIX_SPAWN_SETSIGMASK))
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
    guard status == 0 else {
      throw ClusterError("cannot start \(executable): \(String(cString: strerror(status)))")
    }
    return pid
  }

  /// Runs `executable` to completion; returns its exit status and output.
  static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
  }

  static func isAlive(_ pid: pid_t) -> Bool {
    // A zombie child of ours is reaped here; anyone's zombie counts as gone.
    var status: Int32 = 0
    _ = waitpid(pid, &status, WNOHANG)
    return PidFile.isAlive(pid)
  }

  /// SIGTERM, then SIGKILL after `grace` seconds. Returns true if it had to kill.
  @discardableResult
  static func stop(_ pid: pid_t, grace: TimeInterval = 10) -> Bool {
    guard isAlive(pid) else { return false }
    kill(pid, SIGTERM)
    let deadline = Date().addingTimeInterval(grace)
    while Date() < deadline {
      if !isAlive(pid) { return false }
      usleep(20_000)
    }
    kill(pid, SIGKILL)
    for _ in 0..<100 where isAlive(pid) { usleep(20_000) }
    return true
  }

  static func readPid(_ path: String) -> pid_t? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }
}

struct ClusterError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
