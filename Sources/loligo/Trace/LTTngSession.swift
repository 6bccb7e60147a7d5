import Foundation
import LoligoDaemon

/// A user-space LTTng recording session driven through the `lttng` command (lttng-tools 2.13):
/// a session daemon (ours if none runs, stopped by its pid at the end), a session writing a
/// CTF trace to a directory, a channel with room for bursts, the Loligo events and the
/// `vpid`/`vtid`/`procname` contexts the export needs.
///
/// `lttng create` would silently spawn a session daemon of its own, which nothing would stop;
/// the daemon is therefore always started (or found) first.
struct LTTngSession {
  let lttng: String
  let sessiond: String
  let name: String
  let output: String
  /// The session daemon this session started (and stops), if it had to.
  private(set) var startedDaemon: pid_t?
  private var created = false
  /// Where `lttng` logs what it runs (`loligo trace record` prints it on stderr).
  var log: (String) -> Void = { _ in }

  /// Events always recorded besides the chosen ones: each process's name, from lttng-ust's
  /// statedump (the `procname` context is the thread's name, not the program's).
  static let statedumpEvents = "lttng_ust_statedump:procname"

  init(output: String) throws {
    guard let lttng = LTTngSession.which("lttng"),
      let sessiond = LTTngSession.which("lttng-sessiond")
    else {
      throw TraceError(
        "lttng-tools is not installed: `lttng` and `lttng-sessiond` are needed "
          + "(scripts/setup.sh installs lttng-tools, liblttng-ust-dev and babeltrace2)")
    }
    self.lttng = lttng
    self.sessiond = sessiond
    self.output = output
    name = "loligo-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  }

  static func which(_ tool: String) -> String? {
    let path = Foundation.ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = "\(directory)/\(tool)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// The session daemon's run directory: the root daemon's for root, else per user
  /// (`$LTTNG_HOME/.lttng`, `$LTTNG_HOME` defaulting to `$HOME`).
  static var runDirectory: String {
    if getuid() == 0 { return "/var/run/lttng" }
    let environment = Foundation.ProcessInfo.processInfo.environment
    let home = environment["LTTNG_HOME"] ?? environment["HOME"] ?? "/tmp"
    return home + "/.lttng"
  }

  /// The pid of the session daemon serving this user, if one runs.
  static func runningDaemon() -> pid_t? {
    guard let pid = PidFile.read(runDirectory + "/lttng-sessiond.pid"), PidFile.isAlive(pid),
      let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
      comm.hasPrefix("lttng-sessiond")
    else { return nil }
    return pid
  }

  /// Uses the running session daemon, or starts one (`--no-kernel`: user space only).
  mutating func ensureDaemon() throws {
    if let pid = LTTngSession.runningDaemon() {
      log("using the running lttng-sessiond (pid \(pid))")
      return
    }
    // --daemonize returns once the daemon accepts commands.
    let (status, text) = try LTTngSession.spawnDaemon(sessiond, ["--daemonize", "--no-kernel"])
    guard status == 0, let pid = LTTngSession.runningDaemon() else {
      throw TraceError(
        "cannot start the LTTng session daemon (\(sessiond) exited \(status)): "
          + (text.split(separator: "\n").last.map(String.init) ?? "no message"))
    }
    startedDaemon = pid
    log("started lttng-sessiond (pid \(pid))")
  }

  /// Creates the session, its channel, events and contexts, and starts recording.
  mutating func start(events: String, bufferSize: Int64) throws {
    try lttngCommand(["create", name, "--output=\(output)"])
    created = true
    // Sub-buffers of up to 4 MiB, at least eight per CPU (both powers of two, as lttng
    // wants): bursts of hundreds of thousands of events a second fit while the consumer
    // daemon catches up.
    var subbuffer: Int64 = 4096
    while subbuffer * 2 <= min(4 << 20, bufferSize / 8) { subbuffer *= 2 }
    var count: Int64 = 8
    while subbuffer * count * 2 <= bufferSize { count *= 2 }
    try lttngCommand([
      "enable-channel", "--userspace", "--session=\(name)", "--subbuf-size=\(subbuffer)",
      "--num-subbuf=\(count)", "loligo",
    ])
    try lttngCommand([
      "enable-event", "--userspace", "--session=\(name)", "--channel=loligo",
      events + "," + LTTngSession.statedumpEvents,
    ])
    try lttngCommand([
      "add-context", "--userspace", "--session=\(name)", "--channel=loligo", "--type=vpid",
      "--type=vtid", "--type=procname",
    ])
    try lttngCommand(["start", name])
  }

  /// Pids of the processes registered with the session daemon (`lttng list -u`).
  func registeredPids() -> Set<pid_t> {
    guard let (status, text) = try? LTTngSession.run(lttng, ["list", "--userspace"], timeout: 30),
      status == 0
    else { return [] }
    var pids = Set<pid_t>()
    for line in text.split(separator: "\n") where line.hasPrefix("PID: ") {
      let digits = line.dropFirst(5).prefix { $0.isNumber }
      if let pid = pid_t(digits) { pids.insert(pid) }
    }
    return pids
  }

  /// Events the tracer had to drop (full buffers), as `lttng list SESSION` reports them.
  func discardedEvents() -> Int? {
    guard let (_, text) = try? LTTngSession.run(lttng, ["list", name], timeout: 30) else {
      return nil
    }
    var total: Int?
    for line in text.split(separator: "\n") {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.hasPrefix("Discarded events:") {
        total =
          (total ?? 0) + (Int(trimmed.dropFirst(17).trimmingCharacters(in: .whitespaces)) ?? 0)
      }
    }
    return total
  }

  /// Stops recording (waiting until the data is on disk) and destroys the session.
  mutating func stop() -> Int? {
    guard created else { return nil }
    created = false
    _ = try? lttngCommand(["stop", name])
    let discarded = discardedEvents()
    _ = try? lttngCommand(["destroy", name])
    return discarded
  }

  /// Stops the session daemon if this session started it (SIGTERM, by its pid).
  mutating func stopDaemon() {
    guard let pid = startedDaemon else { return }
    startedDaemon = nil
    if DaemonProcess.stop(pid, grace: 10) {
      log("lttng-sessiond (pid \(pid)) did not stop on SIGTERM; killed it")
    } else {
      log("stopped lttng-sessiond (pid \(pid))")
    }
  }

  /// Runs the session daemon's launcher with an empty signal mask and default handlers: the
  /// recorder blocks SIGINT and SIGTERM, and a daemon inheriting that mask would ignore the
  /// SIGTERM that stops it.
  static func spawnDaemon(_ tool: String, _ arguments: [String]) throws -> (Int32, String) {
    let log = NSTemporaryDirectory() + "loligo-sessiond-\(getpid()).log"
    defer { unlink(log) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var defaults = sigset_t()
    sigfillset(&defaults)
    sigdelset(&defaults, SIGKILL)
    sigdelset(&defaults, SIGSTOP)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = ([tool] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let status = posix_spawn(&pid, tool, &actions, &attributes, argv, environ)
    guard status == 0 else {
      throw TraceError("cannot run \(tool): \(String(cString: strerror(status)))")
    }
    var wait: Int32 = 0
    let deadline = Date().addingTimeInterval(30)
    while waitpid(pid, &wait, WNOHANG) == 0 {
      guard Date() < deadline else {
        kill(pid, SIGKILL)
        waitpid(pid, &wait, 0)
        throw TraceError("\(tool) did not become ready in 30 s")
      }
      usleep(10_000)
    }
    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    let signal = wait & 0x7f
    return (signal == 0 ? (wait >> 8) & 0xff : 128 + signal, text)
  }

  @discardableResult
  private func lttngCommand(_ arguments: [String]) throws -> String {
    let (status, text) = try LTTngSession.run(lttng, arguments, timeout: 60)
    guard status == 0 else {
      let why =
        text.split(separator: "\n").last(where: { $0.contains("Error") }) ?? text.split(
          separator: "\n"
        ).last ?? ""
      throw TraceError("lttng \(arguments.first ?? "") failed (exit \(status)): \(why)")
    }
    return text
  }

  /// Runs a tool with a deadline (a wedged session daemon must not hang `loligo`).
  static func run(_ tool: String, _ arguments: [String], timeout: TimeInterval) throws -> (
    Int32, String
  ) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    let collected = Collected()
    pipe.fileHandleForReading.readabilityHandler = { handle in
      collected.append(handle.availableData)
    }
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(5_000) }
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      pipe.fileHandleForReading.readabilityHandler = nil
      throw TraceError(
        "\((tool as NSString).lastPathComponent) \(arguments.first ?? "") did not finish in "
          + "\(Int(timeout)) s (is the session daemon stuck?)")
    }
    process.waitUntilExit()
    pipe.fileHandleForReading.readabilityHandler = nil
    collected.append(pipe.fileHandleForReading.readDataToEndOfFile())
    return (process.terminationStatus, collected.text)
  }
}

private final class Collected: @unchecked Sendable {  // `data` under `lock`
  private let lock = NSLock()
  private var data = Data()

  func append(_ more: Data) { lock.withLock { data.append(more) } }
  var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}

struct TraceError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
