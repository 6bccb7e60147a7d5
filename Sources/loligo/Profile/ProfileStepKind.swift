import Foundation

/// What a profile step runs, and which of its result's numbers the summary repeats.
enum ProfileStepKind: String, Codable {
  /// `loligo bench` (schema `loligo.rados-bench/2`; 1 reads the same).
  case radosBench = "rados-bench"
  /// `perf-msgr-client` (schema `loligo.perf-msgr/2`; 1 reads the same).
  case perfMsgr = "perf-msgr"
  /// A recovery profile's prefill, load with one OSD out and in, and read-back (schema
  /// `loligo.recovery/1`).
  case recovery

  /// Paths in `result.json`'s `result` object.
  var figurePaths: [String] {
    switch self {
    case .radosBench:
      return [
        "ops", "iops", "bandwidth_mib_s", "average_latency_s", "latency.p50_us",
        "latency.p99_us", "mismatches",
      ]
    case .perfMsgr:
      return [
        "replies_received", "msgs_per_s", "mib_per_s", "latency.p50_us", "latency.p99_us",
        "client_cpu_us_per_msg",
      ]
    case .recovery:
      return [
        "seconds_to_clean_out", "seconds_to_clean_in", "recovery_mib_s", "ops", "errors",
        "pre.iops", "pre.p99_us", "recovering.iops", "recovering.p99_us",
        "recovering_out.iops", "recovering_out.p99_us", "recovering_in.iops",
        "recovering_in.p99_us", "post.iops", "post.p99_us", "verification.blocks",
        "verification.blocks_lost",
      ]
    }
  }

  /// One line of the figures, for the end of a run.
  func describe(_ figures: [String: Double]) -> String {
    let value = { (key: String) in figures[key] ?? .nan }
    switch self {
    case .radosBench:
      return String(
        format: "%.0f IOPS, %.2f MiB/s, average latency %.3f ms, p99 %.3f ms", value("iops"),
        value("bandwidth_mib_s"), value("average_latency_s") * 1000,
        value("latency_p99_us") / 1000)
    case .perfMsgr:
      return String(
        format: "%.0f msgs/s, %.2f MiB/s, p50 %.1f us, p99 %.1f us, %.2f us CPU per message",
        value("msgs_per_s"), value("mib_per_s"), value("latency_p50_us"),
        value("latency_p99_us"), value("client_cpu_us_per_msg"))
    case .recovery:
      return String(
        format: "clean %.1f s after out, %.1f s after in, recovery %.1f MiB/s; client %.0f IOPS "
          + "p99 %.2f ms before, %.0f IOPS p99 %.2f ms recovering",
        value("seconds_to_clean_out"), value("seconds_to_clean_in"), value("recovery_mib_s"),
        value("pre_iops"), value("pre_p99_us") / 1000, value("recovering_iops"),
        value("recovering_p99_us") / 1000)
    }
  }

  /// The figures of the result at `url`, each named by its path with `_` for `.`; nil when
  /// the file is missing or not a result.
  func figures(result url: URL) -> [String: Double]? {
    guard let data = try? Data(contentsOf: url),
      let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let result = document["result"] as? [String: Any]
    else { return nil }
    var figures: [String: Double] = [:]
    for path in figurePaths {
      var value: Any? = result
      for key in path.split(separator: ".") { value = (value as? [String: Any])?[String(key)] }
      let number: Double?
      switch value {
      case let integer as Int: number = Double(integer)
      case let double as Double: number = double
      case let other as NSNumber: number = other.doubleValue
      default: number = nil
      }
      if let number { figures[path.replacingOccurrences(of: ".", with: "_")] = number }
    }
    return figures
  }
}
