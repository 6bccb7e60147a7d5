import Foundation

/// Turns a run's events into rados bench's output: plain text (with `--show-time` prefixes and
/// the header repeated every 20 rows), or the `--format json` document streamed as rados streams
/// it (head, each per-second object as it is produced, summary). In JSON mode the plain-text
/// notices go to stderr so the document stays parseable (rados fixed the same leak in
/// ceph/ceph#66936).
final class RadosBenchPresenter: @unchecked Sendable {
  private let output: any RadosBenchOutput
  private let format: RadosBenchOutputFormat
  private let showTime: Bool
  private let localTime: @Sendable () -> String
  private let lock = NSLock()
  private var rowsWritten = 0
  private var documentOpen = false

  init(
    output: any RadosBenchOutput, format: RadosBenchOutputFormat, showTime: Bool,
    localTime: @escaping @Sendable () -> String
  ) {
    self.output = output
    self.format = format
    self.showTime = showTime
    self.localTime = localTime
  }

  var isJSON: Bool { format != .plain }
  private var pretty: Bool { format == .jsonPretty }

  /// A line of the plain report: stdout (time-prefixed with `--show-time`), stderr in JSON mode.
  func notice(_ line: String) {
    lock.lock()
    defer { lock.unlock() }
    if isJSON {
      output.standardError(line)
    } else {
      output.standardOutput(prefixed(line, time: nil))
    }
  }

  /// Errors and verification failures: always stderr, as rados writes them to `cerr`.
  func problem(_ line: String) {
    output.standardError(line)
  }

  /// Opens the JSON document with `head` (rados's run parameters) and its `datas` array.
  func begin(head: [(String, RadosBenchJSON)]) {
    guard isJSON else { return }
    lock.lock()
    defer { lock.unlock() }
    var text = "{"
    for (index, (key, value)) in head.enumerated() {
      text += (index > 0 ? "," : "") + newline(1) + RadosBenchJSON.member(key, pretty: pretty)
      text += value.rendered(pretty: pretty, depth: 1)
    }
    text += (head.isEmpty ? "" : ",") + newline(1) + RadosBenchJSON.member("datas", pretty: pretty)
    output.formatted(text + "[")
    documentOpen = true
  }

  func row(_ row: RadosBenchRow) {
    lock.lock()
    defer { lock.unlock() }
    if isJSON {
      guard documentOpen else { return }
      let object = RadosBenchJSON.object([
        ("sec", .int(Int64(row.sec))), ("cur_ops", .int(Int64(row.curOps))),
        ("started", .uint(row.started)), ("finished", .uint(row.finished)),
        ("avg_bw", .double(row.avgBandwidth)), ("cur_bw", .double(row.curBandwidth ?? 0)),
        ("last_lat", .double(row.lastLatency ?? 0)), ("avg_lat", .double(row.avgLatency)),
      ])
      output.formatted(
        (rowsWritten > 0 ? "," : "") + newline(2) + object.rendered(pretty: pretty, depth: 2))
    } else {
      if RadosBenchTable.needsHeader(row) {
        if row.sec > 0 { output.standardOutput(RadosBenchTable.latencyLine(of: row)) }
        output.standardOutput(prefixed(RadosBenchTable.header, time: row.time))
      }
      output.standardOutput(prefixed(RadosBenchTable.text(of: row), time: row.time))
    }
    rowsWritten += 1
  }

  /// Ends the report with the summary (nil after a failed run: the JSON document is closed
  /// without one, so it still parses).
  func finish(summary: RadosBenchSummary?) {
    lock.lock()
    defer { lock.unlock() }
    if isJSON {
      guard documentOpen else { return }
      var text = (rowsWritten > 0 ? newline(1) : "") + "]"
      for (key, value) in summary?.jsonMembers ?? [] {
        text += "," + newline(1) + RadosBenchJSON.member(key, pretty: pretty)
        text += value.rendered(pretty: pretty, depth: 1)
      }
      output.formatted(text + newline(0) + "}\n")
      documentOpen = false
    } else if let summary {
      for line in summary.textLines { output.standardOutput(prefixed(line, time: nil)) }
    }
  }

  private func newline(_ depth: Int) -> String {
    pretty ? "\n" + RadosBenchJSON.indent(depth) : ""
  }

  private func prefixed(_ line: String, time: String?) -> String {
    showTime ? (time ?? localTime()) + " " + line : line
  }
}
