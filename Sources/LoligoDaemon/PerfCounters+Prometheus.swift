/// The perf counters as Prometheus metrics, named after their section and name the way Ceph's
/// mgr module names them (`osd` `op_r` -> `loligo_osd_op_r_total`, latency `op_r_latency` ->
/// histogram `loligo_osd_op_r_latency_seconds`).
extension PerfCounters {
  public func write(to out: inout PrometheusText, prefix: String = "loligo") {
    let (counted, timed) = snapshot()
    for entry in counted {
      out.counter(
        "\(prefix)_\(entry.section)_\(entry.name)_total",
        help: "perf counter \(entry.section).\(entry.name)", entry.value)
    }
    let bounds = Latency.bucketBounds.map { Double($0) / 1e9 }
    for entry in timed {
      out.histogram(
        "\(prefix)_\(entry.section)_\(entry.name)_seconds",
        help: "perf counter \(entry.section).\(entry.name), seconds",
        bounds: bounds, counts: entry.latency.bucketCounts, sum: entry.latency.sumSeconds)
    }
  }
}
