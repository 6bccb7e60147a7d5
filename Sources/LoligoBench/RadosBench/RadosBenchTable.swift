/// rados bench's per-second accounting (`ObjBencher::status_printer`), without the thread:
/// feed it a snapshot per second and it returns the row and keeps the bandwidth and IOPS
/// samples the summary's stddev, min and max come from.
///
/// As in rados, `cur MB/s` is the progress since the last row that had progress divided by the
/// seconds since then, so a burst after a stall is averaged over the stall; each row after the
/// first adds one sample (0 for a second without progress), IOPS samples are whole numbers.
public struct RadosBenchTable: Sendable {
  public let opSize: UInt64
  public private(set) var bandwidth = RadosBenchSeries()
  public private(set) var iops = RadosBenchSeries()
  public private(set) var rows: [RadosBenchRow] = []
  private var previousFinished: UInt64 = 0
  private var secondsSinceChange = 0

  public init(opSize: UInt64) {
    self.opSize = opSize
  }

  static let mebibyte = 1024.0 * 1024.0

  @discardableResult
  public mutating func record(
    sec: Int, snapshot: RadosBenchSnapshot, elapsedSeconds: Double, time: String
  ) -> RadosBenchRow {
    let progress = snapshot.finished &- previousFinished
    var current = 0.0
    if secondsSinceChange > 0 {
      current = Double(progress) * Double(opSize) / Self.mebibyte / Double(secondsSinceChange)
      bandwidth.add(current)
      iops.add(Double(Int(Double(progress) / Double(secondsSinceChange))))
    }
    let average =
      elapsedSeconds > 0
      ? Double(opSize) * Double(snapshot.finished) / elapsedSeconds / Self.mebibyte : 0
    let moved = snapshot.finished != previousFinished
    let row = RadosBenchRow(
      sec: sec, curOps: snapshot.inFlight, started: snapshot.started, finished: snapshot.finished,
      avgBandwidth: average, curBandwidth: moved ? current : nil,
      lastLatency: moved ? snapshot.lastLatency : nil, avgLatency: snapshot.avgLatency,
      minLatency: snapshot.minLatency, maxLatency: snapshot.maxLatency, time: time,
      secondLatency: snapshot.secondLatency)
    if moved {
      previousFinished = snapshot.finished
      secondsSinceChange = 0
    }
    secondsSinceChange += 1
    rows.append(row)
    return row
  }

  // MARK: text

  /// Widths 5, 8, 10, 10, 10, 10, 12, 12, as rados prints the header.
  public static let header =
    "  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)"

  /// `sec`(5) `cur ops`(7) `started`(9) `finished`(9) `avg`(9) `cur`(9) `last`(11) `avg`(11),
  /// one space between columns.
  public static func text(of row: RadosBenchRow) -> String {
    typealias F = RadosBenchNumberFormat
    let current = row.curBandwidth.map { F.general($0) } ?? "0"
    let last = row.lastLatency.map { F.general($0) } ?? "-"
    return F.padded(String(row.sec), 5) + " " + F.padded(String(row.curOps), 7) + " "
      + F.padded(String(row.started), 9) + " " + F.padded(String(row.finished), 9) + " "
      + F.padded(F.general(row.avgBandwidth), 9) + " " + F.padded(current, 9) + " "
      + F.padded(last, 11) + " " + F.padded(F.general(row.avgLatency), 11)
  }

  /// Printed before every header but the first: `<time> min lat: x max lat: y avg lat: z`.
  public static func latencyLine(of row: RadosBenchRow) -> String {
    typealias F = RadosBenchNumberFormat
    return "\(row.time) min lat: \(F.general(row.minLatency)) max lat: "
      + "\(F.general(row.maxLatency)) avg lat: \(F.general(row.avgLatency))"
  }

  /// rados repeats the header every 20 rows.
  public static func needsHeader(_ row: RadosBenchRow) -> Bool { row.sec % 20 == 0 }

  // MARK: CSV

  public static let csvHeader = [
    "sec", "cur_ops", "started", "finished", "avg_mib_s", "cur_mib_s", "last_lat_s", "avg_lat_s",
    "p50_lat_s", "p99_lat_s", "max_lat_s",
  ]

  /// Full precision; an empty `last_lat_s` and `cur_mib_s` 0 when nothing finished in the row,
  /// and empty percentiles (of the ops finished in that second, from an HdrHistogram).
  public static func csv(of row: RadosBenchRow) -> [String] {
    // Through whole nanoseconds, so a figure prints as its digits (0.000123456, no binary tail).
    let second = row.secondLatency.map {
      [$0.p50Us, $0.p99Us, $0.maxUs].map { "\(($0 * 1000).rounded() / 1e9)" }
    }
    return [
      String(row.sec), String(row.curOps), String(row.started), String(row.finished),
      "\(row.avgBandwidth)", "\(row.curBandwidth ?? 0)", row.lastLatency.map { "\($0)" } ?? "",
      "\(row.avgLatency)",
    ] + (second ?? ["", "", ""])
  }
}
