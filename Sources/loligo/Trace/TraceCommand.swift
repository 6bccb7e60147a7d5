import ArgumentParser
import CLoligoSys
import Foundation
import LoligoCore
import LoligoTrace
import LoligoTraceExport
import LoligoWire

/// `loligo trace record|export|cost`: LTTng-UST traces of the messenger, client, OSDs and
/// monitors, and exports people can look at.
struct TraceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "trace",
    abstract: "Record LTTng traces of Loligo programs and export them (Chrome JSON, CSV, summary).",
    subcommands: [Record.self, Export.self, Cost.self])

  struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Record the Loligo tracepoints while a command runs.",
      discussion: """
        Starts a user-space lttng-sessiond if none runs (and stops that one, by its pid, at \
        the end), creates a session writing a CTF trace to --output, enables the Loligo \
        events with the vpid, vtid and procname contexts, runs COMMAND, then stops and \
        destroys the session and prints the trace's path. Every Loligo process registered \
        with the session daemon is recorded, not only COMMAND. With --daemons it first waits \
        until the Loligo daemons already running (loligo-osd, loligo-mon, perf-msgr-server) \
        have registered; without a COMMAND it then records until SIGINT/SIGTERM or \
        --duration. The exit status is COMMAND's.

        Examples:
          loligo trace record --output /tmp/t1 -- perf-msgr-client 127.0.0.1:10001 1 4 2000 0 4096
          loligo trace record --daemons --output /tmp/t2 -- loligo -p bench bench 5 write -b 4K
          loligo trace record --daemons --per-batch --duration 10 --output /tmp/t3
          loligo trace export /tmp/t2 --format summary
        """)

    @Option(help: "Directory for the CTF trace (default: loligo-trace-<UTC time>).")
    var output: String?
    @Option(
      help: """
        lttng event patterns, comma separated ('loligo_*' adds the messenger's per-message \
        encode and decode to the default).
        """)
    var events = TraceRecorder.defaultEvents
    @Flag(
      help: """
        Record messages per batch: a write event per flush and a received event per socket \
        read, each naming its messages, instead of a send and a dispatch event per message. \
        Much cheaper for a busy messenger; messages of one batch share its times.
        """)
    var perBatch = false
    @Flag(help: "Attach to the Loligo daemons already running (wait for their registration).")
    var daemons = false
    @Option(help: "Without COMMAND: seconds to record (default: until SIGINT/SIGTERM).")
    var duration: Double?
    @Option(help: "Ring buffer per CPU (K/M/G suffixes).") var bufferSize = "32M"
    @Argument(parsing: .postTerminator, help: "The command to run (after --).")
    var command: [String] = []

    func validate() throws {
      guard !command.isEmpty || daemons else {
        throw ValidationError("give a COMMAND after --, or --daemons")
      }
      guard parseSize(bufferSize).map({ $0 >= 1 << 20 }) == true else {
        throw ValidationError("--buffer-size must be a size of at least 1M")
      }
      guard !perBatch || events == TraceRecorder.defaultEvents else {
        throw ValidationError("give --events or --per-batch, not both")
      }
    }

    func run() throws {
      ToolSupport.blockTerminationSignals()
      let signals = SignalForwarder()
      let directory = output ?? "loligo-trace-\(TraceCommand.stamp())"
      let path = URL(fileURLWithPath: directory).standardizedFileURL.path
      var recorder = TraceRecorder(output: path)
      recorder.events = perBatch ? TraceRecorder.perBatchEvents : events
      recorder.bufferSize = parseSize(bufferSize) ?? 32 << 20
      recorder.waitForDaemons = daemons
      var exitCode: Int32 = 0
      do {
        _ = try recorder.record {
          if command.isEmpty {
            signals.wait(seconds: duration)
          } else {
            exitCode = try TraceCommand.runChild(command, signals: signals)
          }
        }
      } catch let error as TraceError {
        ToolSupport.fail("loligo trace record", error.description)
      }
      print("trace: \(path)")
      if exitCode != 0 { throw ExitCode(exitCode) }
    }
  }

  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Export a recorded trace: chrome (trace-event JSON), csv (per operation), summary.",
      discussion: """
        Reads the CTF trace with `babeltrace2 --clock-seconds --no-delta` (its text output, \
        which every babeltrace2 install has) and joins each operation's events across the \
        client, the messengers and the OSDs by reqid (client, tid) and message identity.

          chrome   Chrome trace-event JSON for Perfetto (ui.perfetto.dev) or chrome://tracing: \
        a track per process and thread, every tracepoint, a span per operation and Paxos round
          csv      one row per operation: reqid, object, PG, OSD, result, each stage in us
          summary  each stage's count, p50, p99 and max in us (the last line is `total`)
        """)

    @Argument(help: "The trace directory (what `loligo trace record` printed).")
    var trace: String
    @Option(help: "chrome, csv or summary.") var format = "summary"
    @Option(help: "Write to this file instead of standard output.") var output: String?

    func validate() throws {
      guard ["chrome", "csv", "summary"].contains(format) else {
        throw ValidationError("--format must be chrome, csv or summary")
      }
    }

    func run() throws {
      let data: TraceData
      do {
        data = try TraceReader.read(trace: trace)
      } catch let error as TraceReadError {
        ToolSupport.fail("loligo trace export", error.description)
      }
      if data.events.isEmpty {
        ToolSupport.warn("loligo trace export", "no events in \(trace)")
      }
      let analysis = TraceAnalysis(data)
      let sink: FileHandle
      if let output {
        guard FileManager.default.createFile(atPath: output, contents: nil),
          let handle = FileHandle(forWritingAtPath: output)
        else {
          ToolSupport.fail("loligo trace export", "cannot write \(output)")
        }
        sink = handle
      } else {
        sink = FileHandle.standardOutput
      }
      defer { if output != nil { try? sink.close() } }
      switch format {
      case "chrome":
        ChromeTrace.write(data, analysis) { sink.write(Data($0.utf8)) }
      case "csv":
        sink.write(Data(StageReport.csv(analysis).utf8))
      default:
        sink.write(Data(StageReport.summary(data, analysis, path: trace).utf8))
      }
    }
  }

  struct Cost: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Measure what one tracepoint costs here (with or without a recording session).",
      discussion: """
        Fires a messenger tracepoint COUNT times from Swift, the way the messenger does, and \
        prints the time per call: loligo_msgr:send (the per-message event, 9 fields) or \
        loligo_msgr:write (the per-flush event, 6 fields). Run it alone for the cost with no \
        session, and under `loligo trace record -- loligo trace cost` for the cost while \
        recording (with the vpid, vtid and procname contexts).
        """)

    @Option(help: "Calls (default: 10000000, or 200000 while recording so the buffers hold them).")
    var count: Int?
    @Option(help: "send or write.") var event = "send"

    func validate() throws {
      guard ["send", "write"].contains(event) else {
        throw ValidationError("--event must be send or write")
      }
      if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() throws {
      let send = event == "send"
      let recording = send ? MsgrTrace.isSendEnabled : MsgrTrace.isWriteEnabled
      let calls = count ?? (recording ? 200_000 : 10_000_000)
      let start = loligo_monotonic_ns()
      for i in 0..<calls {
        let seq = UInt64(truncatingIfNeeded: i)
        if send {
          MsgrTrace.send(
            conn: 0, seq: seq, type: MessageType.osdOp, tid: seq, length: 4096, myType: 8, myNum: 0,
            peerType: 4, peerNum: 0)
        } else {
          MsgrTrace.write(conn: 0, seq: seq, myType: 8, myNum: 0, peerType: 4, peerNum: 0)
        }
      }
      let elapsed = loligo_monotonic_ns() - start
      let perCall = Double(elapsed) / Double(calls)
      print(
        String(
          format: "loligo_msgr:%@: %d calls, %@, %.2f ns per call", event, calls,
          recording ? "recording" : "no session recording", perCall))
    }
  }

  static func stamp() -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
    return formatter.string(from: Date())
  }

  /// Runs `command` (searched on PATH) with the terminal's signals at their defaults, and
  /// returns its exit status (128 + signal if a signal ended it).
  static func runChild(_ command: [String], signals: SignalForwarder) throws -> Int32 {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGTERM)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = command.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let status = posix_spawnp(&pid, command[0], nil, &attributes, argv, environ)
    guard status == 0 else {
      throw TraceError("cannot run \(command[0]): \(String(cString: strerror(status)))")
    }
    signals.child = pid
    var wait: Int32 = 0
    while waitpid(pid, &wait, 0) < 0 && errno == EINTR {}
    signals.child = 0
    let signal = wait & 0x7f
    return signal == 0 ? (wait >> 8) & 0xff : 128 + signal
  }
}

/// Takes SIGINT and SIGTERM (blocked in every thread) on its own thread: passes them to the
/// running command, or ends a recording that has no command.
// `childPid` under `lock`; a semaphore is thread-safe
final class SignalForwarder: @unchecked Sendable {
  private let lock = NSLock()
  private var childPid: pid_t = 0
  private let stopped = DispatchSemaphore(value: 0)

  init() {
    let thread = Thread { [self] in
      while true {
        let signal = ToolSupport.waitForTermination()
        let pid = child
        if pid > 0 {
          kill(pid, signal)
        } else {
          stopped.signal()
        }
      }
    }
    thread.start()
  }

  var child: pid_t {
    get { lock.withLock { childPid } }
    set { lock.withLock { childPid = newValue } }
  }

  /// Until a signal arrives or `seconds` pass.
  func wait(seconds: Double?) {
    if let seconds {
      _ = stopped.wait(timeout: .now() + seconds)
    } else {
      stopped.wait()
    }
  }
}
