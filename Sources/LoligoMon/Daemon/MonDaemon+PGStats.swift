import Foundation
import LoligoConsensus
import LoligoCore

/// The leader's PG map: `pg stats` reports from the OSDs (taken at once, no Paxos round), and
/// the reads answered from it (`pg dump`, `pg ls`, the PG part of `status` and `health`),
/// which a peon sends on to the leader. On the core loop.
extension MonDaemon {
  func resetPGMap() {
    pgMap = PGMap(
      now: Self.seconds(), staleAfter: config.double(.monPGStatsTimeout),
      map: services.osdmap.map)
  }

  /// "Ask the leader": EAGAIN, and the reply names the leader, where the client goes next.
  func askTheLeader() -> CommandResult {
    let leader = status.leader.flatMap { monmap.name(ofRank: $0) }
    return .error(
      .tryAgain,
      "mon.\(name) is not the leader" + (leader.map { "; ask mon.\($0)" } ?? " (no quorum)"))
  }

  /// Answers the commands that need the leader's PG map; nil for any other.
  func pgMapCommand(_ prefix: String, _ fields: [String: Any]) -> CommandResult? {
    switch prefix {
    case "pg stats", "pg dump", "pg ls", "df", "osd df":
      guard status.role == .leader else { return askTheLeader() }
    case "status", "health":
      // A peon has no PG map: the leader answers. Out of quorum a monitor answers itself (its
      // PGs unknown), as status works without a quorum.
      return status.role == .peon && status.leader != nil ? askTheLeader() : nil
    default:
      return nil
    }
    let map = services.osdmap.map
    let now = Self.seconds()
    switch prefix {
    case "pg stats":
      counters.counter("mon", "pg_stats_reports").add()
      let report: PGStatsReport
      do {
        report = try PGStatsReport(fields: fields)
      } catch {
        counters.counter("mon", "pg_stats_refused").add()
        return .error(.invalid, error.description)
      }
      switch pgMap.ingest(report, map: map, now: now) {
      case .success(let taken):
        // A new fullness goes into the map now, not at the next tick.
        if report.osdStats != nil { proposeFullStates() }
        return CommandResult(0, "took \(taken) of \(report.pgs.count) pgs")
      case .failure(let refusal):
        return .error(.invalid, refusal.description)
      }
    case "pg dump":
      return .json(
        PGMapDump.dump(pgMap, map: map, now: now, wallNow: Date().timeIntervalSince1970))
    case "df":
      return .json(PGMapDF.df(pgMap, map: map, now: now))
    case "osd df":
      return .json(PGMapDF.osdDF(pgMap, map: map))
    default:
      var pool: Int64?
      if let name = fields["pool"] as? String {
        guard let id = map.poolID(named: name) else {
          return .error(.noEntry, "pool '\(name)' does not exist")
        }
        pool = id
      }
      return .json(
        PGMapDump.list(
          pgMap, map: map, pool: pool, now: now, wallNow: Date().timeIntervalSince1970))
    }
  }
}
