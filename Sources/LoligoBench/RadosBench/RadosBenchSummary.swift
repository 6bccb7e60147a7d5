/// The final figures of a run and their text in rados bench's exact layout (labels padded to
/// 24 columns for write and 22 for reads, values in `%g` form), so parsers of rados output such
/// as CBT's read ours; then three percentile lines rados does not have.
///
/// Fixed from rados: a run shorter than one second (no per-second sample) reports its overall
/// IOPS and bandwidth as min and max instead of `INT_MAX`-style garbage and 1.79769e+308, and
/// no op finished prints latencies of 0 instead of 9999.
public struct RadosBenchSummary: Sendable, Equatable {
  public var mode: RadosBenchMode
  /// Seconds from the first op to the end of the drain.
  public var totalTime: Double
  public var ops: UInt64
  public var opSize: UInt64
  public var objectSize: UInt64
  /// MiB/s over the whole run.
  public var bandwidth: Double
  public var stddevBandwidth: Double
  public var maxBandwidth: Double
  public var minBandwidth: Double
  public var averageIOPS: Int
  public var stddevIOPS: Double
  public var maxIOPS: Int
  public var minIOPS: Int
  /// Seconds.
  public var averageLatency: Double
  public var stddevLatency: Double
  public var maxLatency: Double
  public var minLatency: Double
  public var p50Latency: Double
  public var p99Latency: Double
  public var p999Latency: Double
  /// Reads whose data differed from what write wrote.
  public var mismatches: Int

  public init(
    mode: RadosBenchMode, totalTime: Double, ops: UInt64, opSize: UInt64, objectSize: UInt64,
    table: RadosBenchTable, latency: RadosBenchLatencyStats, mismatches: Int
  ) {
    self.mode = mode
    self.totalTime = totalTime
    self.ops = ops
    self.opSize = opSize
    self.objectSize = objectSize
    self.mismatches = mismatches
    let bandwidth =
      totalTime > 0 ? Double(ops) * Double(opSize) / totalTime / RadosBenchTable.mebibyte : 0
    let iops = totalTime > 0 ? Double(ops) / totalTime : 0
    self.bandwidth = bandwidth
    averageIOPS = Self.truncated(iops)
    if table.bandwidth.isEmpty {
      stddevBandwidth = 0
      maxBandwidth = bandwidth
      minBandwidth = bandwidth
    } else {
      stddevBandwidth = table.bandwidth.stats.sampleStddev
      maxBandwidth = table.bandwidth.max
      minBandwidth = table.bandwidth.min
    }
    if table.iops.isEmpty {
      stddevIOPS = 0
      maxIOPS = averageIOPS
      minIOPS = averageIOPS
    } else {
      stddevIOPS = table.iops.stats.sampleStddev
      maxIOPS = Self.truncated(table.iops.max)
      minIOPS = Self.truncated(table.iops.min)
    }
    averageLatency = latency.mean
    stddevLatency = latency.sampleStddev
    maxLatency = latency.max
    minLatency = latency.min
    p50Latency = latency.percentile(50)
    p99Latency = latency.percentile(99)
    p999Latency = latency.percentile(99.9)
  }

  /// C's `(int)` of a double, saturating instead of trapping.
  static func truncated(_ value: Double) -> Int {
    guard value.isFinite else { return 0 }
    return Int(max(min(value, Double(Int32.max)), Double(Int32.min)))
  }

  // MARK: text

  public var labelWidth: Int { mode == .write ? 24 : 22 }

  /// The summary lines, without line ends.
  public var textLines: [String] {
    let g = RadosBenchNumberFormat.general
    var fields: [(String, String)] = [
      ("Total time run:", g(totalTime, 6)),
      (mode == .write ? "Total writes made:" : "Total reads made:", String(ops)),
      (mode == .write ? "Write size:" : "Read size:", String(opSize)),
      ("Object size:", String(objectSize)),
      ("Bandwidth (MB/sec):", g(bandwidth, 6)),
    ]
    if mode == .write {
      fields += [
        ("Stddev Bandwidth:", g(stddevBandwidth, 6)),
        ("Max bandwidth (MB/sec):", g(maxBandwidth, 6)),
        ("Min bandwidth (MB/sec):", g(minBandwidth, 6)),
      ]
    }
    fields += [
      ("Average IOPS:", String(averageIOPS)),
      ("Stddev IOPS:", g(stddevIOPS, 6)),
      ("Max IOPS:", String(maxIOPS)),
      ("Min IOPS:", String(minIOPS)),
      ("Average Latency(s):", g(averageLatency, 6)),
    ]
    if mode == .write { fields.append(("Stddev Latency(s):", g(stddevLatency, 6))) }
    fields += [
      ("Max latency(s):", g(maxLatency, 6)),
      ("Min latency(s):", g(minLatency, 6)),
      ("p50 latency(s):", g(p50Latency, 6)),
      ("p99 latency(s):", g(p99Latency, 6)),
      ("p99.9 latency(s):", g(p999Latency, 6)),
    ]
    return fields.map { RadosBenchNumberFormat.label($0.0, labelWidth) + $0.1 }
  }

  // MARK: JSON

  /// rados's summary keys in rados's order (numbers as numbers), then the percentiles and,
  /// for reads, the mismatch count. `object_size` is left to the document's head, where rados
  /// emits it a first time, so the document has no duplicate key.
  public var jsonMembers: [(String, RadosBenchJSON)] {
    var members: [(String, RadosBenchJSON)] = [
      ("total_time_run", .double(totalTime)),
      (mode == .write ? "total_writes_made" : "total_reads_made", .uint(ops)),
      (mode == .write ? "write_size" : "read_size", .uint(opSize)),
      ("bandwidth", .double(bandwidth)),
    ]
    if mode == .write {
      members += [
        ("stddev_bandwidth", .double(stddevBandwidth)),
        ("max_bandwidth", .double(maxBandwidth)),
        ("min_bandwidth", .double(minBandwidth)),
      ]
    }
    members += [
      ("average_iops", .int(Int64(averageIOPS))),
      ("stddev_iops", .double(stddevIOPS)),
      ("max_iops", .int(Int64(maxIOPS))),
      ("min_iops", .int(Int64(minIOPS))),
      ("average_latency", .double(averageLatency)),
    ]
    if mode == .write { members.append(("stddev_latency", .double(stddevLatency))) }
    members += [
      ("max_latency", .double(maxLatency)),
      ("min_latency", .double(minLatency)),
      ("p50_latency", .double(p50Latency)),
      ("p99_latency", .double(p99Latency)),
      ("p999_latency", .double(p999Latency)),
    ]
    if mode.isRead { members.append(("mismatches", .int(Int64(mismatches)))) }
    return members
  }
}
