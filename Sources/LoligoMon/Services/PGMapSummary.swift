import Foundation
import LoligoPlacement

/// The PG totals `status` shows and the health checks they raise (Ceph's PGMapDigest:
/// `pgs_by_state`, object counts, degraded and misplaced ratios, recovery rate;
/// PG_AVAILABILITY, PG_DEGRADED, OBJECT_UNFOUND).
struct PGMapSummary {
  var numPGs = 0
  var numPools = 0
  /// PGs per shown state (`unknown`, `stale+...` included).
  var byState: [String: Int] = [:]
  var objects: Int64 = 0
  var bytes: Int64 = 0
  var degraded: Int64 = 0
  var misplaced: Int64 = 0
  var unfound: Int64 = 0
  /// Object copies the pools want: objects x size (Ceph's num_object_copies).
  var copies: Int64 = 0
  var unknown = 0
  /// Reported, but not active.
  var inactive = 0
  /// Unknown for longer than the stale bound.
  var overdue = 0
  var down = 0
  var incomplete = 0
  var peering = 0
  var stale = 0
  var degradedPGs = 0
  var undersizedPGs = 0
  var recoveringObjectsPerSecond: Int64 = 0
  var recoveringBytesPerSecond: Int64 = 0
  var kb: Int64 = 0
  var kbUsed: Int64 = 0
  var kbAvail: Int64 = 0

  /// Whether `state` has `part` among its `+`-joined names.
  static func has(_ state: String, _ part: String) -> Bool {
    state.split(separator: "+").contains { $0 == part }
  }

  init() {}

  init(
    views: [PGMap.View], map: OSDMap, recovery: (objects: Int64, bytes: Int64),
    space: [OSDSpace]
  ) {
    numPGs = views.count
    numPools = map.pools.count
    for view in views {
      byState[view.state, default: 0] += 1
      guard let stat = view.record?.stat else {
        unknown += 1
        if view.overdue { overdue += 1 }
        continue
      }
      objects = objects.saturatingAdd(stat.numObjects)
      bytes = bytes.saturatingAdd(stat.numBytes)
      degraded = degraded.saturatingAdd(stat.numObjectsDegraded)
      misplaced = misplaced.saturatingAdd(stat.numObjectsMisplaced)
      unfound = unfound.saturatingAdd(stat.numObjectsUnfound)
      let size = Int64(map.pool(view.pgid.pool)?.size ?? 0)
      copies = copies.saturatingAdd(stat.numObjects * size)
      let has = { (part: String) in Self.has(view.state, part) }
      if !has("active") { inactive += 1 }
      if has("down") { down += 1 }
      if has("incomplete") { incomplete += 1 }
      if has("peering") { peering += 1 }
      if has("stale") { stale += 1 }
      if has("degraded") { degradedPGs += 1 }
      if has("undersized") { undersizedPGs += 1 }
    }
    (recoveringObjectsPerSecond, recoveringBytesPerSecond) = recovery
    for osd in space {
      kb = kb.saturatingAdd(osd.kb)
      kbUsed = kbUsed.saturatingAdd(osd.kbUsed)
      kbAvail = kbAvail.saturatingAdd(osd.kbAvail)
    }
  }

  /// States by count, most first (ties by name), as `ceph -s` lists them.
  var statesByCount: [(state: String, count: Int)] {
    byState.map { ($0.key, $0.value) }.sorted {
      $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0
    }
  }

  /// `status`'s `pgmap`, with Ceph's keys; the ratios and rates only when not zero, as Ceph.
  var json: [String: Any] {
    var report: [String: Any] = [
      "pgs_by_state": statesByCount.map { ["state_name": $0.state, "count": $0.count] },
      "num_pgs": numPGs, "num_pools": numPools, "num_objects": objects, "data_bytes": bytes,
      "bytes_used": kbUsed.saturatingMultiply(1024),
      "bytes_avail": kbAvail.saturatingMultiply(1024),
      "bytes_total": kb.saturatingMultiply(1024),
    ]
    if numPGs > 0 && unknown > 0 {
      report["unknown_pgs_ratio"] = Double(unknown) / Double(numPGs)
    }
    if numPGs > 0 && inactive > 0 {
      report["inactive_pgs_ratio"] = Double(inactive) / Double(numPGs)
    }
    if degraded > 0 && copies > 0 {
      report["degraded_objects"] = degraded
      report["degraded_total"] = copies
      report["degraded_ratio"] = Double(degraded) / Double(copies)
    }
    if misplaced > 0 && copies > 0 {
      report["misplaced_objects"] = misplaced
      report["misplaced_total"] = copies
      report["misplaced_ratio"] = Double(misplaced) / Double(copies)
    }
    if unfound > 0 && objects > 0 {
      report["unfound_objects"] = unfound
      report["unfound_total"] = objects
      report["unfound_ratio"] = Double(unfound) / Double(objects)
    }
    if recoveringObjectsPerSecond > 0 || recoveringBytesPerSecond > 0 {
      report["recovering_objects_per_sec"] = recoveringObjectsPerSecond
      report["recovering_bytes_per_sec"] = recoveringBytesPerSecond
      report["recovering_keys_per_sec"] = 0
    }
    return report
  }

  /// `N pgs` or `1 pg`, as Ceph words counts in health messages.
  static func pgs(_ count: Int) -> String { count == 1 ? "1 pg" : "\(count) pgs" }

  /// `5/240 objects degraded (2.083%)`.
  static func ratio(_ part: Int64, _ whole: Int64, _ what: String) -> String {
    "\(part)/\(whole) objects \(what) (\(String(format: "%.3f", Double(part) / Double(whole) * 100))%)"
  }

  /// PG_AVAILABILITY, PG_DEGRADED and OBJECT_UNFOUND when they apply, in Ceph's words.
  var healthChecks: [String: String] {
    var checks: [String: String] = [:]
    var availability: [String] = []
    let inactiveNow = inactive + overdue
    if inactiveNow > 0 { availability.append("\(Self.pgs(inactiveNow)) inactive") }
    if down > 0 { availability.append("\(Self.pgs(down)) down") }
    if incomplete > 0 { availability.append("\(Self.pgs(incomplete)) incomplete") }
    if peering > 0 { availability.append("\(Self.pgs(peering)) peering") }
    if stale > 0 { availability.append("\(Self.pgs(stale)) stale") }
    if !availability.isEmpty {
      checks["PG_AVAILABILITY"] =
        "Reduced data availability: \(availability.joined(separator: ", "))"
    }
    var redundancy: [String] = []
    if degraded > 0 && copies > 0 {
      redundancy.append(Self.ratio(degraded, copies, "degraded"))
    }
    if degradedPGs > 0 { redundancy.append("\(Self.pgs(degradedPGs)) degraded") }
    if undersizedPGs > 0 { redundancy.append("\(Self.pgs(undersizedPGs)) undersized") }
    if !redundancy.isEmpty {
      checks["PG_DEGRADED"] = "Degraded data redundancy: \(redundancy.joined(separator: ", "))"
    }
    if unfound > 0 && objects > 0 {
      checks["OBJECT_UNFOUND"] = Self.ratio(unfound, objects, "unfound")
    }
    return checks
  }
}

extension Int64 {
  fileprivate func saturatingAdd(_ other: Int64) -> Int64 {
    let (sum, overflow) = addingReportingOverflow(other)
    return overflow ? (other > 0 ? .max : .min) : sum
  }

  fileprivate func saturatingMultiply(_ other: Int64) -> Int64 {
    let (product, overflow) = multipliedReportingOverflow(by: other)
    return overflow ? .max : product
  }
}
