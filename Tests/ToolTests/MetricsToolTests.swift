import Foundation
import LoligoCore
import XCTest

/// Prometheus metrics from real daemons (`cluster up --metrics`) and from a running bench
/// (`bench --metrics-port`), checked by promtool and by scraping twice.
final class MetricsToolTests: XCTestCase {
  private func metricsPort(_ cluster: TestCluster, _ daemon: String) throws -> Int {
    var config = Config()
    try config.load(file: cluster.conf, entity: daemon)
    return config.int(.prometheusPort)
  }

  private func requirePromtool() throws -> String {
    guard let promtool = promtoolPath() else {
      throw XCTSkip("promtool not found on PATH (Debian package prometheus; scripts/setup.sh)")
    }
    return promtool
  }

  func testDaemonsServeMetricsPromtoolAccepts() throws {
    let promtool = try requirePromtool()
    let cluster = try TestCluster(mons: 1, osds: 2, extra: ["--metrics"])
    defer { cluster.tearDown() }
    let statusTool = try ToolProcess(
      "loligo", ["cluster", "status", "--dir", cluster.directory.path])
    XCTAssertEqual(statusTool.wait(timeout: 30), 0, statusTool.stderr)
    let status = statusTool.stdout
    let osdPort = try metricsPort(cluster, "osd.0")
    let monPort = try metricsPort(cluster, "mon.a")
    XCTAssertGreaterThan(osdPort, 0)
    XCTAssertTrue(status.contains("metrics http://127.0.0.1:\(osdPort)/metrics"), status)
    XCTAssertEqual(try cluster.loligo(["pool", "create", "m", "8", "--size", "2"]).0, 0)
    let bench = try cluster.loligo(["-p", "m", "bench", "1", "write", "-b", "4K", "-t", "4"])
    XCTAssertEqual(bench.0, 0, bench.2)

    // Both OSDs took writes (as primary or replica): at least one counted client writes.
    var osdWrites = 0.0
    for daemon in ["osd.0", "osd.1"] {
      let scrape = try XCTUnwrap(scrapeMetrics(port: try metricsPort(cluster, daemon)))
      let check = try promtoolCheck(promtool, scrape)
      XCTAssertEqual(check.status, 0, check.output)
      XCTAssertEqual(check.output.trimmingCharacters(in: .whitespacesAndNewlines), "")
      osdWrites += metricValue(scrape, "loligo_osd_op_w_total") ?? 0
      XCTAssertGreaterThan(try XCTUnwrap(metricValue(scrape, "loligo_msgr_recv_bytes_total")), 0)
      XCTAssertEqual(
        metricValue(scrape, #"loligo_osd_op_w_latency_seconds_bucket{le="+Inf"}"#),
        metricValue(scrape, "loligo_osd_op_w_latency_seconds_count"))
      XCTAssertNotNil(metricValue(scrape, "loligo_osd_ops_in_flight"), scrape)
    }
    XCTAssertGreaterThan(osdWrites, 0)

    // The monitor leads: it has the PG map (8 PGs, all active once peered).
    var mon = ""
    let deadline = Date().addingTimeInterval(30)
    repeat {
      mon = try XCTUnwrap(scrapeMetrics(port: monPort))
      if metricValue(mon, "loligo_pg_active") == 8 { break }
      usleep(200_000)
    } while Date() < deadline
    let check = try promtoolCheck(promtool, mon)
    XCTAssertEqual(check.status, 0, check.output)
    XCTAssertEqual(metricValue(mon, "loligo_pg_num"), 8, mon)
    XCTAssertEqual(metricValue(mon, "loligo_pg_active"), 8, mon)
    XCTAssertEqual(metricValue(mon, "loligo_mon_is_leader"), 1)
    XCTAssertGreaterThan(try XCTUnwrap(metricValue(mon, "loligo_mon_committed_versions_total")), 0)
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(metricValue(mon, "loligo_mon_elections_total")), 1)
    XCTAssertGreaterThan(try XCTUnwrap(metricValue(mon, "loligo_paxos_last_committed")), 0)
    for osd in ["osd.0", "osd.1"] {
      XCTAssertEqual(metricValue(mon, #"loligo_osd_up{ceph_daemon="\#(osd)"}"#), 1, mon)
      XCTAssertEqual(metricValue(mon, #"loligo_osd_in{ceph_daemon="\#(osd)"}"#), 1)
    }
  }

  /// Whoever connects is a stranger: wrong paths, methods, garbage and floods get a status
  /// (or a close), and the daemon still answers afterwards.
  func testMetricsEndpointRefusesWhatItDoesNotServe() throws {
    let cluster = try TestCluster(mons: 1, extra: ["--metrics"])
    defer { cluster.tearDown() }
    let port = try metricsPort(cluster, "mon.a")
    let cases: [(String, [UInt8], Int)] = [
      ("other path", Array("GET / HTTP/1.1\r\n\r\n".utf8), 404),
      ("other method", Array("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n".utf8), 405),
      ("not HTTP", Array("\u{16}\u{03}\u{01}\0\0garbage\r\n\r\n".utf8), 400),
      (
        "endless head",
        Array("GET /metrics HTTP/1.1\r\n".utf8) + Array(repeating: 65, count: 20000), 431
      ),
    ]
    for (what, request, expected) in cases {
      let answer = try XCTUnwrap(httpExchange(port: port, request: request), what)
      XCTAssertEqual(answer.status, expected, what)
    }
    // Half a request, then silence: the server closes the connection (after 10 s), before
    // the client's own 30 s are up.
    let idle = try XCTUnwrap(httpExchange(port: port, request: Array("GET /met".utf8), timeout: 30))
    XCTAssertTrue(idle.closed, "an idle connection stayed open")
    XCTAssertEqual(idle.status, 0)
    // Random bytes without an end of head: refused once too long, else closed when idle.
    var random = SystemRandomNumberGenerator()
    let noise = (0..<9000).map { _ in UInt8.random(in: 0...255, using: &random) }
    XCTAssertNotNil(httpExchange(port: port, request: noise, timeout: 15))
    // A flood of silent connections: beyond 32 open at once, the server closes new ones at
    // once (the 32 it keeps are closed when idle).
    let flood = (0..<40).compactMap { _ in openConnection(port: port) }
    XCTAssertEqual(flood.count, 40)
    sleep(1)
    let refused = flood.filter(peerHasClosed).count
    XCTAssertGreaterThanOrEqual(refused, 8)
    XCTAssertLessThan(refused, 40)
    for fd in flood { close(fd) }
    usleep(200_000)
    let scrape = try XCTUnwrap(scrapeMetrics(port: port))
    XCTAssertTrue(scrape.contains("# TYPE loligo_mon_is_leader gauge"), scrape)
  }

  /// A running bench's figures: two scrapes a second and more apart see the write count grow,
  /// and promtool accepts them.
  func testBenchMetricsGrowWhileItRuns() throws {
    let promtool = try requirePromtool()
    let cluster = try TestCluster(mons: 1, osds: 2)
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "b", "8", "--size", "2"]).0, 0)
    let port = freePort()
    let bench = try ToolProcess(
      "loligo",
      [
        "-p", "b", "bench", "6", "write", "-b", "4K", "-t", "4", "--metrics-port", "\(port)",
        "--conf", cluster.conf,
      ])
    defer { bench.terminate() }
    var first: String?
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      if let scrape = scrapeMetrics(port: port),
        (metricValue(scrape, "loligo_bench_op_w_total") ?? 0) > 0
      {
        first = scrape
        break
      }
      usleep(100_000)
    }
    let before = try XCTUnwrap(first, "no scrape with writes: \(bench.stderr)")
    usleep(1_500_000)
    let after = try XCTUnwrap(scrapeMetrics(port: port))
    XCTAssertGreaterThan(
      try XCTUnwrap(metricValue(after, "loligo_bench_op_w_total")),
      try XCTUnwrap(metricValue(before, "loligo_bench_op_w_total")))
    XCTAssertGreaterThan(
      try XCTUnwrap(metricValue(after, "loligo_bench_op_w_bytes_total")),
      try XCTUnwrap(metricValue(before, "loligo_bench_op_w_bytes_total")))
    XCTAssertGreaterThan(try XCTUnwrap(metricValue(after, "loligo_bench_ops_per_second")), 0)
    let check = try promtoolCheck(promtool, after)
    XCTAssertEqual(check.status, 0, check.output)
    XCTAssertEqual(bench.wait(timeout: 30), 0, bench.stderr)
  }
}
