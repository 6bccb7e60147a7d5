/// Objects and bytes recovered per second, over the last few seconds: the increases of the
/// PGs' `num_objects_recovered` and `num_bytes_recovered` from one report to the next (Ceph's
/// pg_sum_delta over stamp_delta), summed over a sliding window.
struct RecoveryRate {
  /// Seconds the rate is averaged over (Ceph smooths over a few report intervals too).
  static let window = 5.0
  /// Samples kept at most, whatever the report rate.
  static let maxSamples = 4096

  private var samples: [(time: Double, objects: Int64, bytes: Int64)] = []

  /// Records what reports received at `time` added.
  mutating func add(time: Double, objects: Int64, bytes: Int64) {
    guard objects > 0 || bytes > 0 else { return }
    samples.append((time, objects, bytes))
    prune(now: time)
    if samples.count > Self.maxSamples { samples.removeFirst(samples.count - Self.maxSamples) }
  }

  private mutating func prune(now: Double) {
    if let keep = samples.firstIndex(where: { now - $0.time < Self.window }) {
      samples.removeFirst(keep)
    } else {
      samples.removeAll()
    }
  }

  /// Per second at `now`, averaged over the window (0, 0 when nothing was recovered in it).
  func rate(now: Double) -> (objects: Int64, bytes: Int64) {
    var objects: Int64 = 0
    var bytes: Int64 = 0
    for sample in samples where now - sample.time < Self.window {
      objects =
        objects.addingReportingOverflow(sample.objects).overflow
        ? .max : objects + sample.objects
      bytes = bytes.addingReportingOverflow(sample.bytes).overflow ? .max : bytes + sample.bytes
    }
    return (Int64(Double(objects) / Self.window), Int64(Double(bytes) / Self.window))
  }
}
