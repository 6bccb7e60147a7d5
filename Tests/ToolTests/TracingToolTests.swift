import Foundation
import LoligoTraceExport
import XCTest

/// The session daemon the tracing tests record with: one the test starts (stopped by its pid
/// when the class ends), or one that already runs (left alone). The daemon runs with a
/// temporary LTTNG_HOME (a root daemon still uses /var/run/lttng: there is one per user).
final class TestSessionDaemon: @unchecked Sendable {
  let pid: pid_t
  let ours: Bool
  let home: URL

  private init(pid: pid_t, ours: Bool, home: URL) {
    self.pid = pid
    self.ours = ours
    self.home = home
  }

  static func tool(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(name)" }.first {
      FileManager.default.isExecutableFile(atPath: $0)
    }
  }

  static var runDirectory: String {
    if getuid() == 0 { return "/var/run/lttng" }
    let environment = ProcessInfo.processInfo.environment
    return (environment["LTTNG_HOME"] ?? environment["HOME"] ?? "/tmp") + "/.lttng"
  }

  /// The session daemon serving this user, if one runs.
  static func running() -> pid_t? {
    guard
      let text = try? String(
        contentsOfFile: runDirectory + "/lttng-sessiond.pid", encoding: .utf8),
      let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), isAlive(pid),
      let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8),
      comm.hasPrefix("lttng-sessiond")
    else { return nil }
    return pid
  }

  static func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0,
      let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state != "Z" && state != "X"
  }

  /// Skips (with the reason) only when lttng-tools cannot run at all.
  static func start() throws -> TestSessionDaemon {
    for name in ["lttng", "lttng-sessiond", "babeltrace2"] where tool(name) == nil {
      throw XCTSkip("\(name) is not installed: lttng-tools cannot run here (scripts/setup.sh)")
    }
    let home = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("lttng-home-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    if let pid = running() { return TestSessionDaemon(pid: pid, ours: false, home: home) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool("lttng-sessiond")!)
    process.arguments = ["--daemonize", "--no-kernel"]
    var environment = ProcessInfo.processInfo.environment
    environment["LTTNG_HOME"] = home.path
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0, let pid = running() else {
      let text = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
      throw XCTSkip("lttng-sessiond cannot run here: \(text)")
    }
    return TestSessionDaemon(pid: pid, ours: true, home: home)
  }

  func stop() {
    defer { try? FileManager.default.removeItem(at: home) }
    guard ours else { return }
    kill(pid, SIGTERM)
    for _ in 0..<500 where TestSessionDaemon.isAlive(pid) { usleep(20_000) }
    if TestSessionDaemon.isAlive(pid) { kill(pid, SIGKILL) }
  }
}

/// `loligo trace record` and `export` against real programs and a real session daemon.
final class TracingToolTests: XCTestCase {
  nonisolated(unsafe) static var daemon: TestSessionDaemon?

  override func setUpWithError() throws {
    if Self.daemon == nil { Self.daemon = try TestSessionDaemon.start() }
  }

  override class func tearDown() {
    daemon?.stop()
    daemon = nil
    super.tearDown()
  }

  private func temporaryDirectory() -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("loligo-trace-test-\(UUID().uuidString.prefix(8))")
    addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
  }

  /// Records 500 perf-msgr round trips (one job, `inFlight` at a time) against a fresh server
  /// with `options` given to `loligo trace record`; the server and the trace's path.
  private func recordPerfRun(_ options: [String], inFlight: Int) throws -> (ToolProcess, String) {
    let (server, port) = try startPerfServer(workers: 1)
    addTeardownBlock { server.terminate() }
    let trace = temporaryDirectory().appendingPathComponent("trace").path
    let client = ToolProcess.binDirectory.appendingPathComponent("perf-msgr-client").path
    let record = try ToolProcess(
      "loligo",
      ["trace", "record"] + options + [
        "--output", trace, "--", client, "127.0.0.1:\(port)", "1", "\(inFlight)", "500", "0",
        "4096", "--quiet",
      ])
    XCTAssertEqual(record.wait(timeout: 120), 0, record.stderr)
    XCTAssertTrue(record.stdout.hasSuffix("trace: \(trace)\n"), record.stdout)
    return (server, trace)
  }

  func testPerfMsgrRunHasOneSendAndOneDispatchPerMessage() throws {
    let (server, trace) = try recordPerfRun(["--events", "loligo_*"], inFlight: 4)

    let data = try TraceReader.read(trace: trace)
    let serverPid = server.process.processIdentifier
    let clientPid = try XCTUnwrap(data.processNames.first { $0.value == "perf-msgr-clien" }?.key)
    func count(_ kind: EventKind, _ pid: Int32, type: Int64) -> Int {
      data.events.filter { $0.kind == kind && $0.vpid == pid && $0.int("type") == type }.count
    }
    func count(_ kind: EventKind, _ pid: Int32) -> Int {
      data.events.filter { $0.kind == kind && $0.vpid == pid }.count
    }
    // Client: each request sent once, each reply decoded and dispatched once; server: each
    // request decoded and dispatched once, each reply sent once; every message encoded once.
    XCTAssertEqual(count(.msgrSend, clientPid, type: 42), 500)
    XCTAssertEqual(count(.msgrDecode, clientPid, type: 43), 500)
    XCTAssertEqual(count(.msgrDispatch, clientPid, type: 43), 500)
    XCTAssertEqual(count(.msgrEncode, clientPid), 500)
    XCTAssertEqual(count(.msgrDecode, serverPid, type: 42), 500)
    XCTAssertEqual(count(.msgrDispatch, serverPid, type: 42), 500)
    XCTAssertEqual(count(.msgrSend, serverPid, type: 43), 500)
    XCTAssertEqual(count(.msgrEncode, serverPid), 500)
    XCTAssertGreaterThan(data.events.filter { $0.kind == .msgrWrite }.count, 0)
    XCTAssertGreaterThan(data.events.filter { $0.kind == .msgrRead }.count, 0)

    let analysis = TraceAnalysis(data)
    let joined = analysis.operations.filter { Stage.total.span($0, analysis.messages) != nil }
    XCTAssertEqual(joined.count, 500, "every request joined with its reply")
    XCTAssertEqual(
      joined.filter { Stage.osdHandle.span($0, analysis.messages) != nil }.count, 500,
      "the server's side of every request")

    let json = temporaryDirectory().appendingPathComponent("t.json").path
    try FileManager.default.createDirectory(
      atPath: (json as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let export = try ToolProcess(
      "loligo", ["trace", "export", trace, "--format", "chrome", "--output", json])
    XCTAssertEqual(export.wait(timeout: 60), 0, export.stderr)
    let document = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
        as? [String: Any])
    let events = try XCTUnwrap(document["traceEvents"] as? [[String: Any]])
    let processNames = Dictionary(
      events.filter { $0["name"] as? String == "process_name" }.map {
        ($0["pid"] as? Int ?? -1, ($0["args"] as? [String: Any])?["name"] as? String ?? "")
      }, uniquingKeysWith: { a, _ in a })
    XCTAssertEqual(processNames[Int(clientPid)], "perf-msgr-clien client.0 (pid \(clientPid))")
    XCTAssertEqual(processNames[Int(serverPid)], "perf-msgr-serve osd.0 (pid \(serverPid))")
    let threadTracks = Set(
      events.filter { $0["name"] as? String == "thread_name" }.map {
        "\($0["pid"] as? Int ?? -1)/\($0["tid"] as? Int ?? -1)"
      })
    let eventThreads = Set(
      events.filter { $0["ph"] as? String == "i" }.map {
        "\($0["pid"] as? Int ?? -1)/\($0["tid"] as? Int ?? -1)"
      })
    XCTAssertFalse(eventThreads.isEmpty)
    XCTAssertTrue(eventThreads.isSubset(of: threadTracks), "every thread with events is named")
    XCTAssertEqual(
      events.filter { $0["ph"] as? String == "b" && $0["cat"] as? String == "op" }.count, 500)

    let summary = try ToolProcess("loligo", ["trace", "export", trace, "--format", "summary"])
    XCTAssertEqual(summary.wait(timeout: 60), 0, summary.stderr)
    let last = summary.stdout.split(separator: "\n").last?.split(separator: " ") ?? []
    XCTAssertEqual(last.prefix(2), ["total", "500"], summary.stdout)
  }

  /// `--per-batch` records messages per batch: every message is an entry of exactly one
  /// `received` event on its receiver, and the export still joins each request to its reply.
  func testPerBatchRecordsEveryMessageOnceInABatch() throws {
    let (server, trace) = try recordPerfRun(["--per-batch"], inFlight: 8)

    let data = try TraceReader.read(trace: trace)
    let serverPid = server.process.processIdentifier
    let clientPid = try XCTUnwrap(data.processNames.first { $0.value == "perf-msgr-clien" }?.key)
    XCTAssertTrue(
      data.events.allSatisfy { ![.msgrSend, .msgrDispatch, .msgrEncode].contains($0.kind) },
      "no per-message events")
    func entries(_ pid: Int32) -> [Int64] {
      data.events.filter { $0.kind == .msgrReceived && $0.vpid == pid }.flatMap {
        $0.ints("types")
      }
    }
    func tids(_ pid: Int32) -> [Int64] {
      data.events.filter { $0.kind == .msgrReceived && $0.vpid == pid }.flatMap {
        $0.ints("tids")
      }
    }
    XCTAssertEqual(entries(serverPid).filter { $0 == 42 }.count, 500)
    XCTAssertEqual(entries(clientPid).filter { $0 == 43 }.count, 500)
    XCTAssertEqual(Set(tids(serverPid)).count, 500, "each request once")
    let batches = data.events.filter { $0.kind == .msgrReceived && $0.vpid == serverPid }.count
    XCTAssertLessThanOrEqual(batches, 500)

    let analysis = TraceAnalysis(data)
    let joined = analysis.operations.filter { Stage.total.span($0, analysis.messages) != nil }
    XCTAssertEqual(joined.count, 500, "every request joined with its reply")
    XCTAssertEqual(
      analysis.operations.filter { Stage.netToOSD.span($0, analysis.messages) != nil }.count, 500,
      "every request's flush found on the client")
    XCTAssertEqual(
      analysis.operations.filter { Stage.netToClient.span($0, analysis.messages) != nil }.count,
      500, "every reply's flush found on the server")

    let summary = try ToolProcess("loligo", ["trace", "export", trace, "--format", "summary"])
    XCTAssertEqual(summary.wait(timeout: 60), 0, summary.stderr)
    let last = summary.stdout.split(separator: "\n").last?.split(separator: " ") ?? []
    XCTAssertEqual(last.prefix(2), ["total", "500"], summary.stdout)
  }

  func testBenchOpsHaveMatchingOSDEventsOnEveryReplica() throws {
    let cluster = try TestCluster(mons: 1, osds: 3)
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "b", "8", "--size", "3"]).0, 0)
    let trace = temporaryDirectory().appendingPathComponent("trace").path
    let record = try ToolProcess(
      "loligo",
      [
        "trace", "record", "--daemons", "--output", trace, "--",
        ToolProcess.binDirectory.appendingPathComponent("loligo").path, "-p", "b", "bench", "2",
        "write", "-b", "4K", "-t", "4", "--no-cleanup", "--conf", cluster.conf,
      ])
    XCTAssertEqual(record.wait(timeout: 120), 0, record.stderr)
    XCTAssertTrue(record.stderr.contains("attached to 4 daemon(s)"), record.stderr)
    let writes = try XCTUnwrap(
      record.stdout.split(separator: "\n").first { $0.hasPrefix("Total writes made:") }
        .flatMap { Int($0.split(separator: " ").last ?? "") })

    let data = try TraceReader.read(trace: trace)
    let analysis = TraceAnalysis(data)
    let clientOps = analysis.operations.filter { $0.submit != nil }
    XCTAssertGreaterThanOrEqual(clientOps.filter { $0.isWrite == true }.count, writes)
    for op in clientOps {
      XCTAssertNotNil(op.clientSend, "\(op.name) sent")
      XCTAssertNotNil(op.osdReceive, "\(op.name) received by its OSD")
      XCTAssertNotNil(op.osdStart, "\(op.name) started by its PG")
      XCTAssertNotNil(op.osdReply, "\(op.name) answered by its OSD")
      XCTAssertEqual(op.result, 0, "\(op.name) succeeded")
      XCTAssertNotNil(op.complete, "\(op.name) completed")
      XCTAssertNotNil(op.request, "\(op.name)'s request message")
      XCTAssertNotNil(op.reply, "\(op.name)'s reply message")
      if op.isWrite == true {
        XCTAssertEqual(op.replicaSends, 2, "\(op.name) sent to both replicas")
        XCTAssertEqual(op.replicaAcks, 2, "\(op.name) acknowledged by both replicas")
        XCTAssertNotNil(op.osdStoreCommit, "\(op.name) committed on the primary")
        XCTAssertEqual(op.replicaEvents, 4, "\(op.name) started and committed on both replicas")
      }
    }
    let entities = Set(analysis.processes.values.compactMap { $0.entity?.description })
    XCTAssertTrue(entities.isSuperset(of: ["osd.0", "osd.1", "osd.2"]), "\(entities)")

    var json = ""
    ChromeTrace.write(data, analysis) { json += $0 }
    let document = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let events = try XCTUnwrap(document["traceEvents"] as? [[String: Any]])
    let names = events.filter { $0["name"] as? String == "process_name" }.compactMap {
      ($0["args"] as? [String: Any])?["name"] as? String
    }
    for osd in 0..<3 {
      XCTAssertTrue(names.contains { $0.hasPrefix("loligo-osd osd.\(osd) (pid ") }, "\(names)")
    }
    XCTAssertTrue(names.contains { $0.hasPrefix("loligo client.") }, "\(names)")
    XCTAssertEqual(
      events.filter { $0["ph"] as? String == "b" && $0["cat"] as? String == "osd_op" }.count,
      clientOps.count)
  }

  /// A profile with `trace = true` keeps its trace and exports in its one run directory.
  func testATracedProfileKeepsItsTraceInTheRunDirectory() throws {
    let directory = temporaryDirectory()
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let profile = directory.appendingPathComponent("traced.toml").path
    try "kind = \"messenger\"\ntrace = true\n[client]\nconcurrency = 4\nios = 500\n".write(
      toFile: profile, atomically: true, encoding: .utf8)
    let results = directory.appendingPathComponent("results")
    let run = try ToolProcess("loligo", ["profile", "run", profile, "--results", results.path])
    XCTAssertEqual(run.wait(timeout: 120), 0, run.stdout + run.stderr)
    let runs = try FileManager.default.contentsOfDirectory(atPath: results.path)
    XCTAssertEqual(runs.count, 1, "the trace is not a directory of its own: \(runs)")
    let runDirectory = results.appendingPathComponent(try XCTUnwrap(runs.first))
    for file in ["ctf", "summary.txt", "trace.json", "operations.csv"] {
      XCTAssertTrue(
        FileManager.default.fileExists(
          atPath: runDirectory.appendingPathComponent("trace/\(file)").path),
        file)
    }
    XCTAssertTrue(
      FileManager.default.fileExists(
        atPath: runDirectory.appendingPathComponent("steps/01-perf-msgr/result.json").path))
    let summary = try XCTUnwrap(
      JSONSerialization.jsonObject(
        with: Data(contentsOf: runDirectory.appendingPathComponent("summary.json")))
        as? [String: Any])
    XCTAssertEqual(summary["trace"] as? String, "trace")
    XCTAssertEqual(summary["status"] as? String, "ok")
    let data = try TraceReader.read(trace: runDirectory.appendingPathComponent("trace/ctf").path)
    // Both ends of the 500 round trips; other Loligo processes on the machine may add theirs.
    XCTAssertGreaterThanOrEqual(data.events.filter { $0.kind == .msgrSend }.count, 2 * 500)
  }

  func testClearMessagesWhenTheToolsAreMissing() throws {
    let record = try ToolProcess(
      "loligo", ["trace", "record", "--output", "/tmp/never", "--", "true"],
      environment: ["PATH": "/nonexistent"])
    XCTAssertNotEqual(record.wait(timeout: 30), 0)
    XCTAssertTrue(record.stderr.contains("lttng-tools is not installed"), record.stderr)
    let export = try ToolProcess(
      "loligo", ["trace", "export", "/tmp"], environment: ["PATH": "/nonexistent"])
    XCTAssertNotEqual(export.wait(timeout: 30), 0)
    XCTAssertTrue(export.stderr.contains("babeltrace2 is not installed"), export.stderr)
    let usage = try ToolProcess("loligo", ["trace", "record", "--output", "/tmp/never"])
    XCTAssertNotEqual(usage.wait(timeout: 30), 0)
    XCTAssertTrue(usage.stderr.contains("give a COMMAND after --, or --daemons"), usage.stderr)
  }
}

/// Traced programs when no session daemon runs, and `record` managing its own.
final class TracingWithoutSessionDaemonTests: XCTestCase {
  override func setUpWithError() throws {
    if let pid = TestSessionDaemon.running() {
      throw XCTSkip("a session daemon (pid \(pid)) not started by these tests is running")
    }
  }

  func testTracedProgramsRunNormallyWithoutASessionDaemon() throws {
    let (server, port) = try startPerfServer(workers: 1)
    defer { server.terminate() }
    let client = try ToolProcess(
      "perf-msgr-client", ["127.0.0.1:\(port)", "1", "4", "300", "0", "4096", "--quiet"])
    XCTAssertEqual(client.wait(timeout: 60), 0, client.stderr)
    XCTAssertTrue(client.stdout.contains(" Total op 300 run time "), client.stdout)
    XCTAssertFalse(client.stderr.lowercased().contains("lttng"), client.stderr)
    let cost = try ToolProcess("loligo", ["trace", "cost", "--count", "100000"])
    XCTAssertEqual(cost.wait(timeout: 60), 0, cost.stderr)
    XCTAssertTrue(cost.stdout.contains("100000 calls, no session recording"), cost.stdout)
    XCTAssertFalse(cost.stderr.lowercased().contains("lttng"), cost.stderr)
  }

  func testRecordStartsItsOwnSessionDaemonAndStopsOnlyThatOne() throws {
    guard TestSessionDaemon.tool("lttng-sessiond") != nil, TestSessionDaemon.tool("lttng") != nil
    else {
      throw XCTSkip("lttng-tools is not installed")
    }
    let directory = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("loligo-trace-own-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: directory) }
    let trace = directory.appendingPathComponent("trace").path
    let loligo = ToolProcess.binDirectory.appendingPathComponent("loligo").path
    let record = try ToolProcess(
      "loligo",
      ["trace", "record", "--output", trace, "--", loligo, "trace", "cost", "--count", "1000"])
    XCTAssertEqual(record.wait(timeout: 60), 0, record.stderr)
    XCTAssertTrue(record.stdout.contains("1000 calls, recording"), record.stdout)
    let started = try XCTUnwrap(
      record.stderr.firstMatch(of: /started lttng-sessiond \(pid (\d+)\)/).flatMap {
        pid_t($0.1)
      }, record.stderr)
    XCTAssertTrue(record.stderr.contains("stopped lttng-sessiond (pid \(started))"), record.stderr)
    XCTAssertFalse(TestSessionDaemon.isAlive(started))
    XCTAssertNil(TestSessionDaemon.running())
    let data = try TraceReader.read(trace: trace)
    XCTAssertEqual(data.events.filter { $0.kind == .msgrSend }.count, 1000)
  }
}
