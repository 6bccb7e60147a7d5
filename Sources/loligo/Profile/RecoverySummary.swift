/// A recovery profile's figures in its `summary.json` (key `recovery`): the recovery step's
/// times to clean and recovery rate, the client's IOPS and p99 by phase, and the read-back
/// that checked every block for its last acknowledged write.
struct RecoverySummary: Codable {
  struct Client: Codable {
    var iops: Double
    var p99Us: Double

    enum CodingKeys: String, CodingKey {
      case iops
      case p99Us = "p99_us"
    }
  }

  var secondsToCleanOut: Double?
  var secondsToCleanIn: Double?
  var recoveryMibS: Double
  /// `pre`, `recovering_out`, `recovering_in`, `recovering` (both), `post`.
  var client: [String: Client]
  /// Writes the load had acknowledged (besides the prefill's).
  var acknowledgedWrites: UInt64
  /// Blocks read back, and those whose last acknowledged write was not there.
  var blocksVerified: Int
  var blocksLost: Int
  /// Every block read back at its last acknowledged version (or a later unacknowledged one).
  var verified: Bool

  enum CodingKeys: String, CodingKey {
    case client, verified
    case secondsToCleanOut = "seconds_to_clean_out"
    case secondsToCleanIn = "seconds_to_clean_in"
    case recoveryMibS = "recovery_mib_s"
    case acknowledgedWrites = "acknowledged_writes"
    case blocksVerified = "blocks_verified"
    case blocksLost = "blocks_lost"
  }

  init(_ figures: RecoveryResult.Figures) {
    secondsToCleanOut = figures.secondsToCleanOut
    secondsToCleanIn = figures.secondsToCleanIn
    recoveryMibS = figures.recoveryMibS
    func client(_ phase: RecoveryResult.Phase) -> Client {
      Client(iops: phase.iops, p99Us: phase.p99Us)
    }
    self.client = [
      "pre": client(figures.pre), "recovering_out": client(figures.recoveringOut),
      "recovering_in": client(figures.recoveringIn), "recovering": client(figures.recovering),
      "post": client(figures.post),
    ]
    acknowledgedWrites = figures.ops
    blocksVerified = figures.verification.blocks
    blocksLost = figures.verification.blocksLost
    verified = figures.verification.passed
  }
}
