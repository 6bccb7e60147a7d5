import LoligoDaemon
import NIOCore
import XCTest

@testable import LoligoDaemon

final class PrometheusTextTests: XCTestCase {
  func testCountersAndHistogramsInTheTextFormat() {
    let counters = PerfCounters()
    counters.counter("osd", "op_w").add(3)
    let latency = counters.latency("osd", "op_w_latency")
    latency.record(nanoseconds: 40_000)  // first bucket (<= 50 us)
    latency.record(nanoseconds: 3_000_000)  // <= 5 ms
    latency.record(nanoseconds: 20_000_000_000)  // beyond 10 s
    var out = PrometheusText()
    counters.write(to: &out)
    let lines = out.text.split(separator: "\n").map(String.init)
    XCTAssertEqual(
      Array(lines.prefix(3)),
      [
        "# HELP loligo_osd_op_w_total perf counter osd.op_w",
        "# TYPE loligo_osd_op_w_total counter", "loligo_osd_op_w_total 3",
      ])
    XCTAssertTrue(lines.contains("# TYPE loligo_osd_op_w_latency_seconds histogram"))
    XCTAssertTrue(
      lines.contains(#"loligo_osd_op_w_latency_seconds_bucket{le="5e-05"} 1"#), out.text)
    XCTAssertTrue(lines.contains(#"loligo_osd_op_w_latency_seconds_bucket{le="0.0025"} 1"#))
    XCTAssertTrue(lines.contains(#"loligo_osd_op_w_latency_seconds_bucket{le="0.005"} 2"#))
    XCTAssertTrue(lines.contains(#"loligo_osd_op_w_latency_seconds_bucket{le="10"} 2"#))
    XCTAssertTrue(lines.contains(#"loligo_osd_op_w_latency_seconds_bucket{le="+Inf"} 3"#))
    XCTAssertTrue(lines.contains("loligo_osd_op_w_latency_seconds_sum 20.00304"), out.text)
    XCTAssertTrue(lines.contains("loligo_osd_op_w_latency_seconds_count 3"))
  }

  func testNamesAndLabelValuesAreEscaped() {
    var out = PrometheusText()
    out.gauge(
      "loligo_pg-states", help: "a \\ b\nc", [([("state", "a\"b\\c\nd")], 2), ([("9x", "y")], 1)])
    XCTAssertEqual(
      out.text,
      """
      # HELP loligo_pg_states a \\\\ b\\nc
      # TYPE loligo_pg_states gauge
      loligo_pg_states{state="a\\"b\\\\c\\nd"} 2
      loligo_pg_states{_x="y"} 1

      """)
  }

  func testRequestLines() {
    func parse(_ text: String) -> MetricsRequest {
      MetricsRequest(head: ByteBuffer(string: text).readableBytesView)
    }
    XCTAssertEqual(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), .metrics)
    XCTAssertEqual(parse("GET /metrics?x=1 HTTP/1.0\r\n\r\n"), .metrics)
    XCTAssertEqual(parse("GET / HTTP/1.1\r\n\r\n"), .status(code: 404, reason: "Not Found"))
    XCTAssertEqual(
      parse("DELETE /metrics HTTP/1.1\r\n\r\n"), .status(code: 405, reason: "Method Not Allowed"))
    XCTAssertEqual(parse("GET /metrics\r\n\r\n"), .status(code: 400, reason: "Bad Request"))
    XCTAssertEqual(parse("\0\u{1}\u{2}"), .status(code: 400, reason: "Bad Request"))
    XCTAssertEqual(
      parse("GET  /metrics HTTP/1.1\r\n\r\n"), .status(code: 400, reason: "Bad Request"))
  }
}
