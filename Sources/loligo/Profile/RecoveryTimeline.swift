import Foundation
import LoligoBench

/// The recovery step's seconds: one row each (the writes the load had acknowledged in that
/// second, what the PG counters say was recovered in it, and the PG map as the monitors last
/// showed it), and the sums per phase. The load and the counters are taken at every poll
/// (four times a second while recovering), each into the phase it was taken in, so a recovery
/// shorter than a second still has its own figures.
struct RecoveryTimeline {
  static let csvHeader = [
    "second", "phase", "ops_per_s", "mib_per_s", "avg_lat_us", "p99_lat_us", "degraded_objects",
    "misplaced_objects", "recovery_bytes_per_s", "recovery_objects_per_s", "bytes_recovered",
    "objects_recovered", "pgs_active_clean", "pgs", "osdmap_epoch",
  ]

  private struct Totals {
    var duration: Double = 0
    var latency = LatencyHistogram()
    var bytes: UInt64 = 0
    var bytesRecovered = 0
    var objectsRecovered = 0
    var maxDegraded = 0
    var maxMisplaced = 0

    mutating func add(_ other: Totals) {
      duration += other.duration
      latency.add(other.latency)
      bytes += other.bytes
      bytesRecovered += other.bytesRecovered
      objectsRecovered += other.objectsRecovered
      maxDegraded = max(maxDegraded, other.maxDegraded)
      maxMisplaced = max(maxMisplaced, other.maxMisplaced)
    }
  }

  private(set) var rows: [[String]] = []
  private var totals: [RecoveryPhase: Totals] = [:]
  /// Taken since the last row, for the next one.
  private var inRow = Totals()

  /// Counts what was recovered in `phase` (from one poll of the PG counters).
  mutating func addRecovered(bytes: Int, objects: Int, phase: RecoveryPhase) {
    var add = Totals()
    add.bytesRecovered = bytes
    add.objectsRecovered = objects
    totals[phase, default: Totals()].add(add)
    inRow.add(add)
  }

  /// Counts the load's writes acknowledged over the last `duration` seconds, all in `phase`.
  mutating func addLoad(
    _ interval: LoadLatencyRecorder.Interval, duration: Double, phase: RecoveryPhase
  ) {
    var add = Totals()
    add.duration = duration
    add.latency = interval.latency
    add.bytes = interval.bytes
    totals[phase, default: Totals()].add(add)
    inRow.add(add)
  }

  /// Ends second `second` (in `phase` at its end); returns it as one line for the step's
  /// output.
  mutating func endRow(second: Int, phase: RecoveryPhase, sample: PGMapSample?) -> String {
    let row = inRow
    inRow = Totals()
    let latency = row.latency.summary()
    let iops = row.duration > 0 ? Double(latency.count) / row.duration : 0
    let mib = row.duration > 0 ? Double(row.bytes) / row.duration / 1_048_576 : 0
    let s = sample
    rows.append([
      String(second), phase.rawValue, Self.decimal(iops, 1), Self.decimal(mib, 3),
      Self.decimal(latency.meanUs, 1), Self.decimal(latency.p99Us, 1),
      s.map { String($0.degradedObjects) } ?? "", s.map { String($0.misplacedObjects) } ?? "",
      s.map { Self.decimal($0.recoveringBytesPerSecond, 0) } ?? "",
      s.map { Self.decimal($0.recoveringObjectsPerSecond, 1) } ?? "",
      String(row.bytesRecovered), String(row.objectsRecovered),
      s.map { String($0.activeClean) } ?? "", s.map { String($0.numPGs) } ?? "",
      s.map { String($0.osdmapEpoch) } ?? "",
    ])
    var add = Totals()
    add.maxDegraded = s?.degradedObjects ?? 0
    add.maxMisplaced = s?.misplacedObjects ?? 0
    totals[phase, default: Totals()].add(add)
    let pgs = s.map { "\($0.activeClean)/\($0.numPGs) active+clean" } ?? "no status"
    return String(
      format: "%4d %-14@ %7.0f IOPS %7.2f MiB/s avg %7.2f ms p99 %7.2f ms | %@, degraded %d, "
        + "misplaced %d, recovered %.2f MiB",
      second, phase.rawValue, iops, mib, latency.meanUs / 1000, latency.p99Us / 1000, pgs,
      s?.degradedObjects ?? 0, s?.misplacedObjects ?? 0, Double(row.bytesRecovered) / 1_048_576)
  }

  /// The figures of one phase, or (nil) of both recoveries together.
  func figures(_ phase: RecoveryPhase?) -> RecoveryResult.Phase {
    var sum = Totals()
    for (key, value) in totals where phase == key || (phase == nil && key.isRecovering) {
      sum.add(value)
    }
    var figures = RecoveryResult.Phase()
    let latency = sum.latency.summary()
    figures.seconds = sum.duration
    figures.ops = latency.count
    figures.iops = sum.duration > 0 ? Double(latency.count) / sum.duration : 0
    figures.mibS = sum.duration > 0 ? Double(sum.bytes) / sum.duration / 1_048_576 : 0
    figures.meanUs = latency.meanUs
    figures.p50Us = latency.p50Us
    figures.p99Us = latency.p99Us
    figures.maxUs = latency.maxUs
    figures.latencyHistogram = sum.latency.encoded
    figures.bytesRecovered = sum.bytesRecovered
    figures.objectsRecovered = sum.objectsRecovered
    figures.maxDegradedObjects = sum.maxDegraded
    figures.maxMisplacedObjects = sum.maxMisplaced
    return figures
  }

  private static func decimal(_ value: Double, _ places: Int) -> String {
    String(format: "%.\(places)f", value)
  }
}
