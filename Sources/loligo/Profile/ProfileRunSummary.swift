import LoligoBench

/// `summary.json` of a profile run (schema `loligo.profile-run/1`): what ran, when, where each
/// step's files are (paths relative to the run directory) and the figures people compare, with
/// a status per step so a run that failed halfway still says how far it got.
struct ProfileRunSummary: Codable {
  static let schema = "loligo.profile-run/1"

  enum Status: String, Codable {
    /// Written while the run goes on: a summary left in this state was interrupted.
    case running
    case ok
    case failed
    /// A step after a failure (or a step of a run that failed before its steps).
    case notRun = "not-run"
  }

  struct Step: Codable {
    /// 1, 2, ...: the order the steps run in, and the `NN` of their directories.
    var index: Int
    /// `write`, `seq`, `rand` (pool profiles), `perf-msgr` (messenger profiles), or
    /// `recovery` (recovery profiles).
    var name: String
    var kind: ProfileStepKind
    var status: Status
    /// `steps/NN-<name>`: the step's files, laid out as a standalone run's directory.
    var directory: String
    /// The step's `result.json` and `per-second.csv`, once written.
    var result: String?
    var perSecondCSV: String?
    /// Everything the step printed (stdout and stderr), in `output.txt`.
    var output: String?
    var command: [String]?
    var startedUTC: String?
    var endedUTC: String?
    var seconds: Double?
    /// The key numbers of `result.json`'s `result` object, named by their path in it
    /// (`latency.p99_us` is `latency_p99_us`); see `ProfileStepKind.figures`.
    var figures: [String: Double]?
    /// Why the step failed: the last line it printed.
    var error: String?

    enum CodingKeys: String, CodingKey {
      case index, name, kind, status, directory, result, output, command, seconds, figures, error
      case perSecondCSV = "per_second_csv"
      case startedUTC = "started_utc"
      case endedUTC = "ended_utc"
    }
  }

  var schema = Self.schema
  /// The profile's name and what it says it is.
  var profile: String
  var description: String
  var kind: String
  /// The profile file as given on the command line.
  var source: String
  /// The profile as run, every default filled in: `profile.toml`.
  var profileCopy = ProfileRun.profileFile
  /// This process: machine, build, clock, command line.
  var environment: RunEnvironment
  var startedUTC: String
  var endedUTC: String?
  var status: Status
  /// Why the run failed, when it was not (only) a step: the cluster, the trace, ...
  var error: String?
  /// `trace`: the run's LTTng trace and its exports, when the profile says `trace = true`.
  var trace: String?
  var steps: [Step]
  /// A recovery profile's figures: times to clean, recovery rate, the client's IOPS and p99
  /// by phase, and whether every block read back at its last acknowledged write.
  var recovery: RecoverySummary?

  enum CodingKeys: String, CodingKey {
    case schema, profile, description, kind, source, environment, status, error, trace, steps
    case recovery
    case profileCopy = "profile_copy"
    case startedUTC = "started_utc"
    case endedUTC = "ended_utc"
  }
}
