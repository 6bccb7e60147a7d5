import Foundation
import XCTest

@testable import LoligoTraceExport

/// The export on babeltrace2 text written by hand: parsing, the joins across processes, the
/// stage arithmetic and the three output formats.
final class TraceExportTests: XCTestCase {
  /// One 4 KiB write by client.77 (pid 100) to osd.1 (pid 200), replicated to osd.2 (pid 300),
  /// with times in microseconds from 1_000_000_000 s.
  static let oneWrite: [String] = {
    let client = "{ vpid = 100, vtid = 101, procname = \"NIO-ELT-0-#0\" }"
    let osd = "{ vpid = 200, vtid = 201, procname = \"NIO-ELT-0-#0\" }"
    let replica = "{ vpid = 300, vtid = 301, procname = \"NIO-ELT-0-#0\" }"
    func line(_ us: Int, _ context: String, _ name: String, _ payload: String) -> String {
      let ns = 1_000_000_000 * 1_000_000_000 as UInt64 + UInt64(us) * 1000
      let fraction = String(ns % 1_000_000_000)
      let stamp =
        "\(ns / 1_000_000_000)." + String(repeating: "0", count: 9 - fraction.count) + fraction
      return "[\(stamp)] host \(name): { cpu_id = 0 }, \(context), { \(payload) }"
    }
    let request = "type = 42, tid = 9, length = 4175"
    let toOSD = "my_type = 8, my_num = 77, peer_type = 4, peer_num = 1"
    let fromClient = "my_type = 4, my_num = 1, peer_type = 8, peer_num = 77"
    return [
      line(0, client, "lttng_ust_statedump:procname", "procname = \"loligo\""),
      line(0, osd, "lttng_ust_statedump:procname", "procname = \"loligo-osd\""),
      line(
        10, client, "loligo_client:op_submit",
        "client = 77, tid = 9, pool = 1, object = \"obj \\\"a\\\"\", length = 4096, ops = 1, write = 1"
      ),
      line(
        15, client, "loligo_client:op_send",
        "client = 77, tid = 9, osd = 1, pool = 1, seed = 0x1A, attempt = 0"),
      line(16, client, "loligo_msgr:send", "conn = 3, seq = 5, \(request), \(toOSD)"),
      line(20, client, "loligo_msgr:encode", "conn = 3, seq = 5"),
      line(30, client, "loligo_msgr:write", "conn = 3, seq = 5"),
      line(40, osd, "loligo_msgr:read", "conn = 8, bytes = 4265"),
      line(42, osd, "loligo_msgr:decode", "conn = 8, seq = 5, type = 42, length = 4175"),
      line(43, osd, "loligo_msgr:dispatch", "conn = 8, seq = 5, \(request), \(fromClient)"),
      line(44, osd, "loligo_osd:op_receive", "osd = 1, client = 77, tid = 9, length = 4175"),
      line(
        45, osd, "loligo_osd:op_queue", "osd = 1, client = 77, tid = 9, pool = 1, seed = 0x1A"),
      line(
        47, osd, "loligo_osd:op_start",
        "osd = 1, client = 77, tid = 9, pool = 1, seed = 0x1A, object = \"obj\", write = 1"),
      line(
        50, osd, "loligo_osd:op_replica_send",
        "osd = 1, client = 77, tid = 9, pool = 1, seed = 0x1A, replica = 2, version = 3"),
      line(
        55, osd, "loligo_osd:op_store_commit",
        "osd = 1, client = 77, tid = 9, pool = 1, seed = 0x1A, version = 3, replica = 0, result = 0"
      ),
      line(
        60, replica, "loligo_osd:repop_start",
        "osd = 2, client = 77, tid = 9, pool = 1, seed = 0x1A, version = 3"),
      line(
        70, replica, "loligo_osd:op_store_commit",
        "osd = 2, client = 77, tid = 9, pool = 1, seed = 0x1A, version = 3, replica = 1, result = 0"
      ),
      line(
        90, osd, "loligo_osd:op_replica_ack",
        "osd = 1, client = 77, tid = 9, pool = 1, seed = 0x1A, replica = 2, result = 0"),
      line(91, osd, "loligo_osd:op_reply", "osd = 1, client = 77, tid = 9, result = 0"),
      line(
        92, osd, "loligo_msgr:send",
        "conn = 8, seq = 11, type = 43, tid = 9, length = 40, \(fromClient)"),
      line(93, osd, "loligo_msgr:encode", "conn = 8, seq = 11"),
      line(95, osd, "loligo_msgr:write", "conn = 8, seq = 11"),
      line(100, client, "loligo_msgr:read", "conn = 3, bytes = 120"),
      line(101, client, "loligo_msgr:decode", "conn = 3, seq = 11, type = 43, length = 40"),
      line(
        102, client, "loligo_msgr:dispatch",
        "conn = 3, seq = 11, type = 43, tid = 9, length = 40, \(toOSD)"),
      line(103, client, "loligo_client:op_reply", "client = 77, tid = 9, osd = 1, result = 0"),
      line(110, client, "loligo_client:op_complete", "client = 77, tid = 9, result = 0"),
    ]
  }()

  func testParsesTimestampContextsAndFields() throws {
    var parser = BabeltraceTextParser()
    let event = try XCTUnwrap(
      parser.parse(
        "[1795327133.931992790] vm loligo_client:op_submit: { cpu_id = 1 }, { vpid = 19977, "
          + "vtid = 19979, procname = \"NIO-ELT-1-#2\" }, { client = -5, tid = 18446744073709551615, "
          + "pool = 0x1F, object = \"a \\\"b\\\"\\\\c\", length = 4096, ops = 1, write = 1 }"))
    XCTAssertEqual(event.time, 1_795_327_133_931_992_790)
    XCTAssertEqual(event.kind, .clientSubmit)
    XCTAssertEqual(event.name, "loligo_client:op_submit")
    XCTAssertEqual(event.vpid, 19977)
    XCTAssertEqual(event.vtid, 19979)
    XCTAssertEqual(event.int("client"), -5)
    XCTAssertEqual(UInt64(bitPattern: event.int("tid")), UInt64.max)
    XCTAssertEqual(event.int("pool"), 31)
    XCTAssertEqual(event.text("object"), "a \"b\"\\c")
    XCTAssertFalse(event.has("vpid"), "contexts are not payload")
    XCTAssertEqual(parser.threadNames[ThreadID(vpid: 19977, vtid: 19979)], "NIO-ELT-1-#2")
    // Short fractions scale to nanoseconds; lines that are not events are skipped.
    XCTAssertEqual(parser.parse("[12.5] h p:e: { x = 1 }")?.time, 12_500_000_000)
    XCTAssertNil(parser.parse("[06:58:38.985722640] (+?.?????????) vm loligo_msgr:read: { }"))
    XCTAssertNil(parser.parse("babeltrace2: warning"))
    let nested = try XCTUnwrap(
      parser.parse("[1.0] h p:e: { a = [ [0] = 1, [1] = 2 ], b = { c = \"}\" }, d = 7 }"))
    XCTAssertEqual(nested.int("d"), 7)
    XCTAssertEqual(nested.text("b"), "{ c = \"}\" }")
  }

  func testJoinsOneOperationAcrossProcesses() throws {
    let trace = TraceData(lines: Self.oneWrite)
    XCTAssertEqual(trace.events.count, Self.oneWrite.count)
    XCTAssertEqual(trace.processNames[200], "loligo-osd")
    let analysis = TraceAnalysis(trace)
    XCTAssertEqual(analysis.operations.count, 1)
    let op = try XCTUnwrap(analysis.operations.first)
    XCTAssertEqual(op.client, 77)
    XCTAssertEqual(op.tid, 9)
    XCTAssertEqual(op.object, "obj \"a\"")
    XCTAssertEqual(op.pg, "1.1a")
    XCTAssertEqual(op.osd, 1)
    XCTAssertEqual(op.replicaSends, 1)
    XCTAssertEqual(op.replicaAcks, 1)
    XCTAssertEqual(op.replicaEvents, 2)
    XCTAssertEqual(analysis.messages.count, 2)
    let request = analysis.messages[try XCTUnwrap(op.request)]
    XCTAssertEqual(request.sender, ThreadID(vpid: 100, vtid: 101))
    XCTAssertEqual(request.receiver, ThreadID(vpid: 200, vtid: 201))
    XCTAssertEqual(request.from?.description, "client.77")
    XCTAssertEqual(request.to?.description, "osd.1")

    var stages: [Stage: UInt64] = [:]
    for stage in Stage.allCases {
      if let (start, end) = stage.span(op, analysis.messages) { stages[stage] = end - start }
    }
    let expected: [Stage: UInt64] = [
      .clientQueue: 5, .clientMsgrOut: 14, .netToOSD: 10, .osdMsgrIn: 3, .osdQueue: 3,
      .osdStore: 8, .osdReplication: 43, .osdHandle: 49, .osdMsgrOut: 3, .netToClient: 5,
      .clientMsgrIn: 2, .clientFinish: 8, .total: 100,
    ]
    XCTAssertEqual(stages, expected.mapValues { $0 * 1000 })
    XCTAssertEqual(analysis.processes[200]?.label, "loligo-osd osd.1 (pid 200)")
    XCTAssertEqual(analysis.processes[100]?.label, "loligo client.77 (pid 100)")
    XCTAssertEqual(analysis.processes[300]?.entity?.description, "osd.2")
  }

  func testSummaryCSVAndChromeOutputs() throws {
    let trace = TraceData(lines: Self.oneWrite)
    let analysis = TraceAnalysis(trace)

    let summary = StageReport.summary(trace, analysis, path: "t")
    let last = try XCTUnwrap(summary.split(separator: "\n").last)
    XCTAssertEqual(
      last.split(separator: " ").map(String.init), ["total", "1", "100.0", "100.0", "100.0"])
    XCTAssertTrue(summary.contains("loligo_osd 9"), summary)

    let csv = StageReport.csv(analysis).split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    XCTAssertEqual(csv.count, 2)
    let row = Dictionary(uniqueKeysWithValues: zip(csv[0], csv[1]))
    XCTAssertEqual(row["client"], "77")
    XCTAssertEqual(row["object"], "\"obj \"\"a\"\"\"")
    XCTAssertEqual(row["pg"], "1.1a")
    XCTAssertEqual(row["osd_replication_us"], "43.000")
    XCTAssertEqual(row["total_us"], "100.000")

    var json = ""
    ChromeTrace.write(trace, analysis) { json += $0 }
    let document = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let events = try XCTUnwrap(document["traceEvents"] as? [[String: Any]])
    let names = events.filter { $0["name"] as? String == "process_name" }.compactMap {
      ($0["args"] as? [String: Any])?["name"] as? String
    }
    XCTAssertEqual(
      Set(names),
      ["loligo client.77 (pid 100)", "loligo-osd osd.1 (pid 200)", "osd.2 (pid 300)"])
    XCTAssertEqual(events.filter { $0["name"] as? String == "thread_name" }.count, 3)
    let instants = events.filter { $0["ph"] as? String == "i" }
    XCTAssertEqual(instants.count, Self.oneWrite.count - 2, "every event but the statedump")
    let submit = try XCTUnwrap(instants.first { $0["name"] as? String == "client:op_submit" })
    XCTAssertEqual(submit["ts"] as? Double, 10)
    XCTAssertEqual((submit["args"] as? [String: Any])?["object"] as? String, "obj \"a\"")
    let spans = events.filter { $0["ph"] as? String == "b" }
    XCTAssertEqual(Set(spans.compactMap { $0["cat"] as? String }), ["op", "osd_op"])
    let clientSpan = try XCTUnwrap(spans.first { $0["cat"] as? String == "op" })
    XCTAssertEqual(clientSpan["pid"] as? Int, 100)
    XCTAssertEqual((clientSpan["args"] as? [String: Any])?["total_us"] as? Double, 100)
    XCTAssertEqual(events.filter { $0["ph"] as? String == "e" }.count, 2)
  }

  /// perf-msgr has no client or OSD events: the messages alone make the operations. The first
  /// request is sent before its session is ready (peer unknown until `session_ready`).
  func testMessagesAloneMakeOperationsAndUnmatchedEventsAreTolerated() {
    func at(_ us: Int) -> String { "[1.\(String(format: "%06d", us))000] h" }
    let c = "{ vpid = 1, vtid = 2, procname = \"c\" }"
    let s = "{ vpid = 3, vtid = 4, procname = \"s\" }"
    let client = "my_type = 8, my_num = 0, peer_type = 4, peer_num = 0"
    let server = "my_type = 4, my_num = 0, peer_type = 8, peer_num = 0"
    var lines: [String] = []
    for tid in 1...3 {
      let base = tid * 1000
      let req = "seq = \(tid), type = 42, tid = \(tid), length = 10"
      let rep = "seq = \(tid), type = 43, tid = \(tid), length = 10"
      let unready = "my_type = 8, my_num = 0, peer_type = 0, peer_num = -1"
      lines += [
        "\(at(base)) loligo_msgr:send: \(c), { conn = 1, \(req), \(tid == 1 ? unready : client) }",
        "\(at(base + 6)) loligo_msgr:dispatch: \(s), { conn = 1, \(req), \(server) }",
        "\(at(base + 7)) loligo_msgr:send: \(s), { conn = 1, \(rep), \(server) }",
        "\(at(base + 10)) loligo_msgr:dispatch: \(c), { conn = 1, \(rep), \(client) }",
      ]
    }
    lines.append(
      "\(at(1002)) loligo_msgr:session_ready: \(c), { conn = 1, initiator = 1, \(client), "
        + "lossy = 1, peer_addr = \"127.0.0.1:1/0\" }")
    lines.append("[1.9] h loligo_msgr:dispatch: { vpid = 1, vtid = 2 }, { conn = 9, seq = 1 }")
    lines.append("[1.9] h loligo_osd:op_reply: { vpid = 3, vtid = 4 }, { osd = 0 }")
    let analysis = TraceAnalysis(TraceData(lines: lines))
    let complete = analysis.operations.filter { Stage.total.span($0, analysis.messages) != nil }
    XCTAssertEqual(complete.count, 3)
    XCTAssertEqual(
      complete.compactMap { Stage.total.span($0, analysis.messages) }.map { $0.1 - $0.0 },
      [10_000, 10_000, 10_000])
    XCTAssertEqual(
      complete.compactMap { Stage.osdHandle.span($0, analysis.messages) }.map { $0.1 - $0.0 },
      [1000, 1000, 1000])
    let stats = StageReport.statistics(analysis)
    XCTAssertEqual(stats.last?.stage, "total")
    XCTAssertEqual(stats.last?.count, 3)
  }

  /// Messages recorded per batch (the default): `write` per flush and `received` per read, no
  /// per-message events. An older session between the same two ends, whose numbering a reset
  /// restarted, must not lend its earlier flush to the new session's messages.
  func testBatchEventsJoinSenderFlushesToReceivedEntries() throws {
    func at(_ us: Int) -> String { "[1.\(String(format: "%06d", us))000] h" }
    let c = "{ vpid = 1, vtid = 2, procname = \"c\" }"
    let s = "{ vpid = 3, vtid = 4, procname = \"s\" }"
    let client = "my_type = 8, my_num = 0, peer_type = 4, peer_num = 0"
    let server = "my_type = 4, my_num = 0, peer_type = 8, peer_num = 0"
    func received(_ types: Int) -> String {
      "first_seq = 1, \(types == 42 ? server : client), _types_length = 3, "
        + "types = [ [0] = \(types), [1] = \(types), [2] = \(types) ], _tids_length = 3, "
        + "tids = [ [0] = 1, [1] = 2, [2] = 3 ], _lengths_length = 3, "
        + "lengths = [ [0] = 10, [1] = 20, [2] = 30 ]"
    }
    let lines = [
      "\(at(10)) loligo_msgr:write: \(c), { conn = 2, seq = 5, \(client) }",
      "\(at(100)) loligo_msgr:write: \(c), { conn = 1, seq = 3, \(client) }",
      "\(at(150)) loligo_msgr:read: \(s), { conn = 7, bytes = 300 }",
      "\(at(160)) loligo_msgr:received: \(s), { conn = 7, \(received(42)) }",
      "\(at(200)) loligo_msgr:write: \(s), { conn = 7, seq = 3, \(server) }",
      "\(at(250)) loligo_msgr:read: \(c), { conn = 1, bytes = 300 }",
      "\(at(260)) loligo_msgr:received: \(c), { conn = 1, \(received(43)) }",
    ]
    let trace = TraceData(lines: lines)
    let event = try XCTUnwrap(trace.events.first { $0.kind == .msgrReceived })
    XCTAssertEqual(event.ints("tids"), [1, 2, 3])
    XCTAssertEqual(event.ints("lengths"), [10, 20, 30])
    XCTAssertEqual(event.int("first_seq"), 1)

    let analysis = TraceAnalysis(trace)
    XCTAssertEqual(analysis.messages.count, 6)
    XCTAssertEqual(analysis.messages.map(\.seq), [1, 2, 3, 1, 2, 3])
    XCTAssertEqual(analysis.messages.map(\.length), [10, 20, 30, 10, 20, 30])
    XCTAssertEqual(analysis.operations.count, 3)
    func spans(_ stage: Stage) -> [UInt64] {
      analysis.operations.compactMap { stage.span($0, analysis.messages) }.map { $0.1 - $0.0 }
    }
    XCTAssertEqual(spans(.netToOSD), [50_000, 50_000, 50_000])
    XCTAssertEqual(spans(.osdMsgrIn), [10_000, 10_000, 10_000])
    XCTAssertEqual(spans(.netToClient), [50_000, 50_000, 50_000])
    XCTAssertEqual(spans(.clientMsgrIn), [10_000, 10_000, 10_000])
    XCTAssertEqual(spans(.total), [160_000, 160_000, 160_000])
    XCTAssertEqual(analysis.processes[1]?.entity, Entity(type: 8, num: 0))
    XCTAssertEqual(analysis.processes[3]?.entity, Entity(type: 4, num: 0))
  }

  func testIntegerArraysParseAndOtherBracketsStayText() {
    var parser = BabeltraceTextParser()
    let event = parser.parse(
      "[1.000000001] h x:y: { vpid = 1, vtid = 1 }, { a = [ [0] = 1, [1] = -2, [2] = 0x10 ], "
        + "b = [ [0] = \"s\" ], e = [ ], c = 7 }")
    XCTAssertEqual(event?.ints("a"), [1, -2, 16])
    XCTAssertEqual(event?.text("b"), "[ [0] = \"s\" ]")
    XCTAssertEqual(event?.ints("e"), [])
    XCTAssertEqual(event?.int("c"), 7)
  }

  func testPercentilesAreNearestRank() {
    let stats = StageStatistics(stage: "x", samples: (1...200).map { UInt64($0) }.shuffled())
    XCTAssertEqual(stats.count, 200)
    XCTAssertEqual(stats.p50, 100)
    XCTAssertEqual(stats.p99, 198)
    XCTAssertEqual(stats.max, 200)
    XCTAssertEqual(StageStatistics(stage: "y", samples: [7]).p99, 7)
  }
}
