import Foundation
import LoligoBench
import XCTest

final class PerfMsgrToolTests: XCTestCase {
  func testClientAndServerEndToEndWithSeveralJobs() throws {
    let (server, port) = try startPerfServer(workers: 2)
    defer { server.terminate() }
    let results = FileManager.default.temporaryDirectory.appendingPathComponent("loligo-\(UUID())")
    defer { try? FileManager.default.removeItem(at: results) }
    let client = try ToolProcess(
      "perf-msgr-client",
      ["127.0.0.1:\(port)", "3", "8", "2000", "0", "4096", "--results", results.path, "--quiet"])
    XCTAssertEqual(client.wait(timeout: 120), 0, client.stderr)
    XCTAssertTrue(client.stdout.contains(" Total op 6000 run time "), client.stdout)
    XCTAssertTrue(client.stdout.contains("6000 replies"), client.stdout)
    XCTAssertTrue(client.stdout.contains("msgs/s"))

    let runs = try FileManager.default.contentsOfDirectory(atPath: results.path)
    XCTAssertEqual(runs.count, 1)
    let run = results.appendingPathComponent(runs[0])
    let json =
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: run.appendingPathComponent("result.json"))) as! [String: Any]
    XCTAssertEqual(json["schema"] as? String, "loligo.perf-msgr/2")
    let result = json["result"] as! [String: Any]
    XCTAssertEqual(result["total_ops"] as? Int, 6000)
    XCTAssertEqual(result["replies_received"] as? Int, 6000)
    let jobs = json["jobs"] as! [[String: Any]]
    XCTAssertEqual(jobs.count, 3)
    // The jobs' histograms, decoded and merged, are the total's, count for count.
    let total = try LatencyHistogram(encoded: XCTUnwrap(result["latency_histogram_ns"] as? String))
    XCTAssertEqual(total.count, 6000)
    var merged = try LatencyHistogram(
      encoded: XCTUnwrap(jobs[0]["latency_histogram_ns"] as? String))
    for job in jobs.dropFirst() {
      merged = try merged.merging(
        LatencyHistogram(encoded: XCTUnwrap(job["latency_histogram_ns"] as? String)))
    }
    XCTAssertEqual(merged.encoded, total.encoded)
    let environment = json["environment"] as! [String: Any]
    XCTAssertNotNil((environment["clock"] as? [String: Any])?["source"])
    XCTAssertNotNil((environment["machine"] as? [String: Any])?["cpus"])
    let csv = try String(contentsOf: run.appendingPathComponent("per-second.csv"), encoding: .utf8)
    XCTAssertTrue(
      csv.hasPrefix(
        "second,replies,msgs_per_s,mib_per_s,avg_lat_us,total_replies,"
          + "p50_lat_us,p99_lat_us,max_lat_us\n"), csv)
    // A second with replies has its percentiles, in order.
    for line in csv.split(separator: "\n").dropFirst() {
      let fields = line.split(separator: ",", omittingEmptySubsequences: false)
      guard fields.count == 9, Int(fields[1]) ?? 0 > 0 else { continue }
      let figures = fields.suffix(3).compactMap { Double($0) }
      XCTAssertEqual(figures.count, 3, String(line))
      XCTAssertTrue(figures.count == 3 && figures[0] <= figures[1] && figures[1] <= figures[2])
    }

    server.terminate()
    XCTAssertEqual(server.wait(timeout: 10), 0, "server stops cleanly on SIGTERM")
    XCTAssertTrue(server.stderr.contains("served 6000 requests"), server.stderr)
  }

  func testZeroWorkersRepliesInline() throws {
    let (server, port) = try startPerfServer(workers: 0)
    defer { server.terminate() }
    let client = try ToolProcess(
      "perf-msgr-client", ["127.0.0.1:\(port)", "1", "1", "500", "0", "0", "--quiet"])
    XCTAssertEqual(client.wait(timeout: 60), 0, client.stderr)
    XCTAssertTrue(client.stdout.contains(" Total op 500 run time "))
  }

  func testBadArgumentsGiveOneLineAndNonZeroExit() throws {
    let port = freePort()
    let cases: [[String]] = [
      ["not-an-address", "1", "1", "1", "0", "4096"],
      ["127.0.0.1:\(port)", "0", "1", "1", "0", "4096"],
      ["127.0.0.1:\(port)", "1", "-3", "1", "0", "4096"],
      ["127.0.0.1:\(port)", "1", "1", "zero", "0", "4096"],
      ["127.0.0.1:\(port)", "1", "1", "1", "0", "999999999999"],
      ["127.0.0.1:\(port)", "1", "1", "1", "0", "4096", "--ms_async_op_threads", "99"],
      ["127.0.0.1:\(port)", "1", "1", "1", "0", "2000000", "--ms_max_queued_bytes", "1M"],
    ]
    for arguments in cases {
      let client = try ToolProcess("perf-msgr-client", arguments)
      let status = client.wait(timeout: 20)
      XCTAssertNotNil(status, "\(arguments) hung")
      XCTAssertNotEqual(status, 0, "\(arguments) accepted")
      let errorLines = client.stderr.split(separator: "\n").filter { $0.contains("error") }
      XCTAssertEqual(errorLines.count, 1, "\(arguments): \(client.stderr)")
      XCTAssertFalse(client.stderr.contains("Fatal error"), client.stderr)
    }
  }

  func testClusterFileIsRead() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "loligo-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let conf = directory.appendingPathComponent("cluster.toml")
    try "[global]\nms_max_message_size = \"64K\"\n".write(
      to: conf, atomically: true, encoding: .utf8)
    let tooBig = try ToolProcess(
      "perf-msgr-client", ["127.0.0.1:1", "1", "1", "1", "0", "100000", "--conf", conf.path])
    XCTAssertEqual(tooBig.wait(timeout: 20), 2)
    XCTAssertTrue(tooBig.stderr.contains("ms_max_message_size (65536"), tooBig.stderr)
    let viaEnvironment = try ToolProcess(
      "perf-msgr-client", ["127.0.0.1:1", "1", "1", "1", "0", "100000"],
      environment: ["LOLIGO_CONF": conf.path])
    XCTAssertEqual(viaEnvironment.wait(timeout: 20), 2)
    let broken = directory.appendingPathComponent("broken.toml")
    try "[global]\nms_type = = tcp\n".write(to: broken, atomically: true, encoding: .utf8)
    let bad = try ToolProcess("perf-msgr-server", ["127.0.0.1:0", "1", "0", "--conf", broken.path])
    XCTAssertEqual(bad.wait(timeout: 20), 2)
    XCTAssertTrue(bad.stderr.contains("line 2"), bad.stderr)
  }

  func testUnreachableServerFailsWithoutHanging() throws {
    let client = try ToolProcess(
      "perf-msgr-client", ["127.0.0.1:\(freePort())", "1", "1", "1", "0", "4096"])
    let status = client.wait(timeout: 20)
    XCTAssertNotNil(status, "client hung on an unreachable server")
    XCTAssertNotEqual(status, 0)
    XCTAssertTrue(client.stderr.contains("cannot reach server"), client.stderr)
  }

  func testServerReportsPortInUse() throws {
    let (server, port) = try startPerfServer()
    defer { server.terminate() }
    let second = try ToolProcess("perf-msgr-server", ["127.0.0.1:\(port)", "1", "0"])
    let status = second.wait(timeout: 20)
    XCTAssertNotNil(status)
    XCTAssertNotEqual(status, 0)
    XCTAssertTrue(second.stderr.contains("cannot bind"), second.stderr)
    let bad = try ToolProcess("perf-msgr-server", ["127.0.0.1:notaport", "1", "0"])
    XCTAssertEqual(bad.wait(timeout: 20), 2)
  }

  func testClientFailsWhenServerDiesMidRun() throws {
    let (server, port) = try startPerfServer()
    let client = try ToolProcess(
      "perf-msgr-client", ["127.0.0.1:\(port)", "1", "4", "100000000", "0", "4096", "--quiet"])
    usleep(500_000)
    kill(server.process.processIdentifier, SIGKILL)
    let status = client.wait(timeout: 30)
    XCTAssertNotNil(status, "client hung after the server died")
    XCTAssertNotEqual(status, 0)
    XCTAssertTrue(client.stderr.contains("lost the server"), client.stderr)
  }
}
