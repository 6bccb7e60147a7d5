import Foundation

/// Records a Loligo trace around some work: session daemon, session, events and contexts up
/// front; stop, destroy and (if it was ours) the session daemon stopped afterwards, whatever
/// happened in between.
struct TraceRecorder {
  /// The CTF trace's directory (must not exist yet, or be empty).
  var output: String
  /// lttng event patterns, comma separated.
  var events = TraceRecorder.defaultEvents
  /// Ring buffer per CPU, bytes.
  var bufferSize: Int64 = 32 << 20
  /// Wait until the Loligo daemons already running have registered before starting the work.
  var waitForDaemons = false
  var log: (String) -> Void = { TraceRecorder.note("loligo trace: \($0)") }

  /// Every Loligo event but the messenger's per-message `encode` and `decode`: `send` and
  /// `dispatch` already place each message, and two events fewer per message keep recording a
  /// busy messenger affordable (`--events 'loligo_*'` has them all).
  static let defaultEvents =
    "loligo_msgr:session_ready,loligo_msgr:send,loligo_msgr:write,loligo_msgr:read,"
    + "loligo_msgr:dispatch,loligo_client:*,loligo_osd:*,loligo_mon:*"

  /// `--per-batch`: messages recorded per batch (`write` per flush, `received` per socket read,
  /// each naming its messages) instead of a `send` and a `dispatch` each. On a 4 KiB perf-msgr
  /// pair on 2 vCPUs that costs a few percent of messages/s where the default costs 10-15 %
  /// (`Results/benchmarks/tracing-*.md`); the export joins both forms.
  static let perBatchEvents =
    "loligo_msgr:session_ready,loligo_msgr:write,loligo_msgr:read,loligo_msgr:received,"
    + "loligo_client:*,loligo_osd:*,loligo_mon:*"

  /// Names (`/proc/PID/comm`) of the long-running Loligo processes `--daemons` waits for.
  static let daemonNames: Set<String> = ["loligo-osd", "loligo-mon", "perf-msgr-serve"]

  struct Outcome {
    var discardedEvents: Int?
  }

  func record(_ work: () throws -> Void) throws -> Outcome {
    try prepareOutput()
    var session = try LTTngSession(output: output)
    session.log = log
    try session.ensureDaemon()
    defer { session.stopDaemon() }
    do {
      try session.start(events: events, bufferSize: bufferSize)
    } catch {
      _ = session.stop()
      throw error
    }
    log(
      "recording into \(output)"
        + (events == TraceRecorder.defaultEvents
          ? "" : events == TraceRecorder.perBatchEvents ? " (per batch)" : " (events \(events))"))
    var workError: (any Error)?
    do {
      if waitForDaemons { awaitRegistration(session) }
      try work()
    } catch {
      workError = error
    }
    let discarded = session.stop()
    if let discarded, discarded > 0 {
      log(
        "the tracer discarded \(discarded) events (full buffers: try --buffer-size or fewer --events)"
      )
    }
    if let workError { throw workError }
    return Outcome(discardedEvents: discarded)
  }

  private func prepareOutput() throws {
    let manager = FileManager.default
    var isDirectory: ObjCBool = false
    if manager.fileExists(atPath: output, isDirectory: &isDirectory) {
      guard isDirectory.boolValue,
        (try? manager.contentsOfDirectory(atPath: output))?.isEmpty == true
      else {
        throw TraceError("\(output) exists and is not an empty directory")
      }
      try manager.removeItem(atPath: output)  // lttng creates it
    }
    let parent = (output as NSString).deletingLastPathComponent
    if !parent.isEmpty {
      try manager.createDirectory(atPath: parent, withIntermediateDirectories: true)
    }
  }

  /// Running daemons register with a session daemon by themselves (lttng-ust wakes them when
  /// one starts); give them up to five seconds.
  private func awaitRegistration(_ session: LTTngSession) {
    var daemons = TraceRecorder.runningDaemons()
    // A daemon without lttng-ust mapped (a build without tracepoints) never registers.
    let untraceable = daemons.filter { !TraceRecorder.hasTracer($0.key) }
    if !untraceable.isEmpty {
      log(
        "without tracepoints (not recorded): "
          + untraceable.sorted { $0.key < $1.key }.map { "\($0.value) (pid \($0.key))" }
          .joined(separator: ", "))
      for pid in untraceable.keys { daemons[pid] = nil }
    }
    guard !daemons.isEmpty else {
      log("no running Loligo daemons to attach to")
      return
    }
    let deadline = Date().addingTimeInterval(5)
    var missing = Set(daemons.keys)
    while !missing.isEmpty && Date() < deadline {
      missing.subtract(session.registeredPids())
      if !missing.isEmpty { usleep(50_000) }
    }
    let attached = daemons.filter { !missing.contains($0.key) }
    log(
      "attached to \(attached.count) daemon(s): "
        + attached.sorted { $0.key < $1.key }.map { "\($0.value) (pid \($0.key))" }
        .joined(separator: ", "))
    if !missing.isEmpty {
      log(
        "not registered with lttng-sessiond (no events from them): "
          + missing.sorted().map { "\(daemons[$0]!) (pid \($0))" }.joined(separator: ", "))
    }
  }

  /// A status line on stderr, so stdout stays the command's own output.
  static func note(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }

  /// Whether the process has lttng-ust loaded (so it registers with a session daemon).
  static func hasTracer(_ pid: pid_t) -> Bool {
    // Read to the end: /proc files report size 0, and a sized read can stop early.
    guard let handle = FileHandle(forReadingAtPath: "/proc/\(pid)/maps") else { return false }
    defer { try? handle.close() }
    return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
      .contains("liblttng-ust.so")
  }

  /// Loligo daemons running now, by pid.
  static func runningDaemons() -> [pid_t: String] {
    var found: [pid_t: String] = [:]
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for entry in entries {
      guard let pid = pid_t(entry),
        let comm = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8)
      else { continue }
      let name = comm.trimmingCharacters(in: .whitespacesAndNewlines)
      if daemonNames.contains(name) { found[pid] = name }
    }
    return found
  }
}
