import LoligoConsensus
import LoligoDaemon

/// What `GET /metrics` shows of a monitor (`prometheus_port`): its perf counters (commands,
/// Paxos commits, elections, command latency), its messenger's traffic, its role and epochs,
/// the OSD map's OSDs up and in, and, on the leader, which holds the PG map, the cluster's PG states and recovery rate
/// (Ceph's mgr module names: `ceph_pg_active`, ... here `loligo_pg_...`).
extension MonDaemon {
  public func metrics() -> String {
    var out = PrometheusText()
    counters.write(to: &out)
    messenger.counters.write(to: &out)
    guard
      let box = try? coreLoop.submit({ () -> MonGauges in
        let summary =
          self.status.role == .leader
          ? self.pgMap.summary(self.services.osdmap.map, now: Self.seconds()) : nil
        // The core's own status: the copy kept for role changes is not refreshed per commit.
        let map = self.services.osdmap.map
        let osds = (0..<map.maxOSD).filter(map.exists).map {
          (id: $0, up: map.isUp($0), in: map.isIn($0))
        }
        return MonGauges(
          status: self.core.status, pgs: summary, osds: osds, epoch: Int(map.epoch))
      }).wait()
    else { return out.text }
    let status = box.status
    out.gauge(
      "loligo_mon_is_leader", help: "1 on the quorum's leader, else 0",
      status.role == .leader ? 1 : 0)
    out.gauge(
      "loligo_mon_quorum_size", help: "monitors in the quorum this monitor is in",
      Double(status.quorum.count))
    out.gauge(
      "loligo_mon_election_epoch", help: "the election epoch (odd while electing)",
      Double(status.electionEpoch))
    out.gauge(
      "loligo_paxos_last_committed", help: "the last committed Paxos version",
      Double(status.lastCommitted))
    out.gauge("loligo_osdmap_epoch", help: "the OSD map epoch", Double(box.epoch))
    // Ceph's ceph_osd_up and ceph_osd_in, one sample per OSD of the map.
    let daemon = { (id: Int32) in [(name: "ceph_daemon", value: "osd.\(id)")] }
    out.gauge(
      "loligo_osd_up", help: "1 when the OSD map has the OSD up",
      box.osds.map { (daemon($0.id), $0.up ? 1 : 0) })
    out.gauge(
      "loligo_osd_in", help: "1 when the OSD map has the OSD in",
      box.osds.map { (daemon($0.id), $0.in ? 1 : 0) })
    if let pgs = box.pgs { Self.write(pgs, to: &out) }
    return out.text
  }

  /// The PG map's totals; only the leader has them.
  static func write(_ pgs: PGMapSummary, to out: inout PrometheusText) {
    out.gauge("loligo_pg_num", help: "placement groups in the cluster", Double(pgs.numPGs))
    // One gauge per state name, as Ceph's module: a PG `active+clean` counts in both.
    var byName: [String: Int] = [:]
    for (state, count) in pgs.byState {
      for name in state.split(separator: "+") { byName[String(name), default: 0] += count }
    }
    for name in PGMapMetrics.stateNames {
      out.gauge(
        "loligo_pg_\(name)", help: "placement groups whose state includes \(name)",
        Double(byName[name] ?? 0))
    }
    out.gauge(
      "loligo_pg_states", help: "placement groups by their whole state",
      pgs.statesByCount.map { ([("state", $0.state)], Double($0.count)) })
    out.gauge("loligo_pool_objects", help: "objects in all pools", Double(pgs.objects))
    out.gauge("loligo_pool_stored_bytes", help: "bytes stored in all pools", Double(pgs.bytes))
    out.gauge(
      "loligo_objects_degraded", help: "object copies missing from the acting sets",
      Double(pgs.degraded))
    out.gauge(
      "loligo_objects_misplaced", help: "object copies not where CRUSH wants them",
      Double(pgs.misplaced))
    out.gauge(
      "loligo_objects_unfound", help: "objects with no copy to recover from",
      Double(pgs.unfound))
    out.gauge(
      "loligo_recovery_objects_per_second", help: "objects recovered per second, recently",
      Double(pgs.recoveringObjectsPerSecond))
    out.gauge(
      "loligo_recovery_bytes_per_second", help: "bytes recovered per second, recently",
      Double(pgs.recoveringBytesPerSecond))
  }
}

/// The PG state names that get a gauge of their own, present or not (Ceph's list, as far as
/// Loligo's PGs have them).
enum PGMapMetrics {
  static let stateNames = [
    "active", "clean", "down", "peering", "degraded", "undersized", "recovering",
    "recovery_wait", "backfilling", "backfill_wait", "remapped", "stale", "incomplete",
    "inconsistent", "unknown", "scrubbing",
  ]
}

struct MonGauges: @unchecked Sendable {  // built on the core loop, then only read by the waiter
  var status: MonStatus
  var pgs: PGMapSummary?
  var osds: [(id: Int32, up: Bool, in: Bool)]
  var epoch: Int
}
