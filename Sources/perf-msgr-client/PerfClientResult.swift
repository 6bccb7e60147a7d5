import LoligoBench

/// The JSON result of a perf-msgr-client run (schema `loligo.perf-msgr/2`: version 1 had no
/// latency histograms).
struct PerfClientResult: Codable {
  struct Parameters: Codable {
    var server: String
    var numjobs: Int
    var concurrency: Int
    var ios: Int
    var thinkTimeUs: Int
    var messageLength: Int
    var legacy: Bool
    var msType: String
    var msAsyncOpThreads: Int
    var msCrcData: Bool

    enum CodingKeys: String, CodingKey {
      case server, numjobs, concurrency, ios, legacy
      case thinkTimeUs = "think_time_us"
      case messageLength = "msg_length"
      case msType = "ms_type"
      case msAsyncOpThreads = "ms_async_op_threads"
      case msCrcData = "ms_crc_data"
    }
  }

  struct Totals: Codable {
    var totalOps: Int
    var repliesReceived: Int
    var runTimeUs: UInt64
    var messagesPerSecond: Double
    var mibPerSecond: Double
    var latency: LatencySummary
    /// All jobs' reply latencies in nanoseconds, HdrHistogram's compressed base64 form.
    var latencyHistogram: String?
    var cpuSeconds: Double
    var cpuUsPerMessage: Double

    enum CodingKeys: String, CodingKey {
      case latency
      case latencyHistogram = "latency_histogram_ns"
      case totalOps = "total_ops"
      case repliesReceived = "replies_received"
      case runTimeUs = "run_time_us"
      case messagesPerSecond = "msgs_per_s"
      case mibPerSecond = "mib_per_s"
      case cpuSeconds = "client_cpu_s"
      case cpuUsPerMessage = "client_cpu_us_per_msg"
    }
  }

  struct Job: Codable {
    var job: Int
    var ops: Int
    var runTimeUs: UInt64
    var messagesPerSecond: Double
    var latency: LatencySummary
    /// This job's reply latencies, as the total's.
    var latencyHistogram: String?

    enum CodingKeys: String, CodingKey {
      case job, ops, latency
      case latencyHistogram = "latency_histogram_ns"
      case runTimeUs = "run_time_us"
      case messagesPerSecond = "msgs_per_s"
    }
  }

  var schema = "loligo.perf-msgr/2"
  var tool = "perf-msgr-client"
  var name: String
  var environment: RunEnvironment
  var parameters: Parameters
  var result: Totals
  var jobs: [Job]
  var perSecondCSV: String?

  enum CodingKeys: String, CodingKey {
    case schema, tool, name, environment, parameters, result, jobs
    case perSecondCSV = "per_second_csv"
  }
}
