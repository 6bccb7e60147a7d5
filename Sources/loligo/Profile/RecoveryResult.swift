import Foundation
import LoligoBench

/// The recovery step's `result.json` (schema `loligo.recovery/1`): the run's parameters and
/// its figures. Times are seconds; latencies microseconds; rates MiB (2^20 bytes) per second.
struct RecoveryResult: Encodable {
  static let schema = "loligo.recovery/1"

  struct Parameters: Codable {
    var mons: Int
    var osds: Int
    var objectstore: String
    var pool: String
    var pgNum: Int
    var size: Int
    var minSize: Int
    var prefillObjects: Int
    var prefillSize: String
    var blockSize: String
    var concurrency: Int
    var osd: Int
    var action: String
    var preTime: Int
    var postTime: Int
    var cleanTimeout: Int

    enum CodingKeys: String, CodingKey {
      case mons, osds, objectstore, pool, size, osd, action, concurrency
      case pgNum = "pg_num"
      case minSize = "min_size"
      case prefillObjects = "prefill_objects"
      case prefillSize = "prefill_size"
      case blockSize = "block_size"
      case preTime = "pre_time"
      case postTime = "post_time"
      case cleanTimeout = "clean_timeout"
    }
  }

  /// The client and the cluster over the seconds of one phase (or of both recoveries).
  struct Phase: Codable {
    /// Time spent in the phase.
    var seconds: Double = 0
    /// Writes acknowledged in those seconds.
    var ops: UInt64 = 0
    var iops: Double = 0
    var mibS: Double = 0
    var meanUs: Double = 0
    var p50Us: Double = 0
    var p99Us: Double = 0
    var maxUs: Double = 0
    /// The phase's write latencies in nanoseconds, HdrHistogram's compressed base64 form (a
    /// key Ceph's side of the comparison does not write, hence optional).
    var latencyHistogram: String?
    /// What the PGs' counters say was recovered while in the phase (`RecoveredCounter`).
    var bytesRecovered = 0
    var objectsRecovered = 0
    var maxDegradedObjects = 0
    var maxMisplacedObjects = 0

    enum CodingKeys: String, CodingKey {
      case seconds, ops, iops
      case mibS = "mib_s"
      case meanUs = "mean_us"
      case p50Us = "p50_us"
      case p99Us = "p99_us"
      case maxUs = "max_us"
      case latencyHistogram = "latency_histogram_ns"
      case bytesRecovered = "bytes_recovered"
      case objectsRecovered = "objects_recovered"
      case maxDegradedObjects = "max_degraded_objects"
      case maxMisplacedObjects = "max_misplaced_objects"
    }
  }

  struct Figures: Encodable {
    /// Writing the dataset before the load.
    var prefillSeconds: Double = 0
    /// From the action (out, or kill) to the first status showing every PG active+clean
    /// after one that did not; nil when it never came within clean_timeout.
    var secondsToCleanOut: Double?
    /// The same from the OSD's return (in, or restart + in).
    var secondsToCleanIn: Double?
    /// Bytes recovered over the times to clean: both recoveries, and each one's own (the
    /// second counts what the PG counters show after it, in post).
    var recoveryMibS: Double = 0
    var recoveryOutMibS: Double = 0
    var recoveryInMibS: Double = 0
    /// Writes the load had acknowledged when it stopped, and writes that failed.
    var ops: UInt64 = 0
    var errors: UInt64 = 0
    var pre = Phase()
    var recoveringOut = Phase()
    var recoveringIn = Phase()
    /// Both recoveries together.
    var recovering = Phase()
    var post = Phase()
    /// The read-back of every block once the load had stopped.
    var verification = RecoveryVerification()

    enum CodingKeys: String, CodingKey {
      case ops, errors, pre, recovering, post, verification
      case prefillSeconds = "prefill_seconds"
      case secondsToCleanOut = "seconds_to_clean_out"
      case secondsToCleanIn = "seconds_to_clean_in"
      case recoveryMibS = "recovery_mib_s"
      case recoveryOutMibS = "recovery_out_mib_s"
      case recoveryInMibS = "recovery_in_mib_s"
      case recoveringOut = "recovering_out"
      case recoveringIn = "recovering_in"
    }
  }

  var schema = Self.schema
  var environment: RunEnvironment
  var parameters: Parameters
  var result: Figures
  /// One row per second of the load: `RecoveryTimeline.csvHeader`.
  var perSecondCSV = "per-second.csv"

  enum CodingKeys: String, CodingKey {
    case schema, environment, parameters, result
    case perSecondCSV = "per_second_csv"
  }
}
