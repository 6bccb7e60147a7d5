/// Bytes and objects recovered, from the PGs' `num_bytes_recovered` and
/// `num_objects_recovered` in successive `pg ls` answers (Ceph's and Loligo's shape). Only the
/// increase of a PG whose acting primary did not change between two answers counts: Loligo's
/// counters are its primary's, since that OSD started; Ceph's follow the PG from primary to
/// primary. Either way a change of primary (at peering, before recovery starts) costs at most
/// what was recovered between two polls.
struct RecoveredCounter {
  private var last: [String: (primary: Int, bytes: Int, objects: Int)] = [:]

  /// Adds one `pg ls` answer; returns what was recovered since the previous one.
  mutating func add(pgLs: [String: Any]) -> (bytes: Int, objects: Int) {
    var bytes = 0
    var objects = 0
    for pg in pgLs["pg_stats"] as? [[String: Any]] ?? [] {
      guard let pgid = pg["pgid"] as? String, let primary = pg["acting_primary"] as? Int else {
        continue
      }
      let sum = pg["stat_sum"] as? [String: Any] ?? [:]
      let now = (
        primary: primary, bytes: sum["num_bytes_recovered"] as? Int ?? 0,
        objects: sum["num_objects_recovered"] as? Int ?? 0
      )
      if let before = last[pgid], before.primary == now.primary {
        bytes += max(0, now.bytes - before.bytes)
        objects += max(0, now.objects - before.objects)
      }
      last[pgid] = now
    }
    return (bytes, objects)
  }
}
