import Foundation
import LoligoPlacement

/// `pg dump` and `pg ls` output, shaped like Ceph's `ceph pg dump -f json` and
/// `ceph pg ls -f json`: one `pg_stats` element per PG with its `stat_sum`.
enum PGMapDump {
  /// One PG as `pg_stats` lists it. `now` is the PG map's clock, `wallNow` the same instant on
  /// the wall clock (for the stamps).
  static func stat(_ view: PGMap.View, now: Double, wallNow: Double) -> [String: Any] {
    let record = view.record
    let stat = record?.stat ?? PGStatEntry(pgid: view.pgid, state: view.state)
    // A reported PG shows what its primary said of its sets; an unknown one the map's.
    let up = record == nil ? view.mapping.up : stat.up
    let acting = record == nil ? view.mapping.acting : stat.acting
    var entry: [String: Any] = [
      "pgid": "\(view.pgid)", "state": view.state,
      "up": up.map(Int.init), "acting": acting.map(Int.init),
      "up_primary": Int(record == nil ? view.mapping.upPrimary : stat.upPrimary),
      "acting_primary": Int(record == nil ? view.mapping.actingPrimary : stat.actingPrimary),
      "version": stat.lastUpdate, "last_update": stat.lastUpdate,
      "reported_epoch": Int(record?.reportedEpoch ?? 0), "reported_seq": Int(record?.seq ?? 0),
      "last_epoch_clean": Int(stat.lastEpochClean), "log_size": stat.logSize,
      "blocked_by": stat.blockedBy.map(Int.init),
      "stat_sum": [
        "num_objects": stat.numObjects, "num_bytes": stat.numBytes,
        "num_objects_degraded": stat.numObjectsDegraded,
        "num_objects_misplaced": stat.numObjectsMisplaced,
        "num_objects_unfound": stat.numObjectsUnfound,
        "num_objects_recovered": stat.numObjectsRecovered,
        "num_bytes_recovered": stat.numBytesRecovered,
      ],
    ]
    if let record {
      entry["last_fresh"] = stamp(wallNow - (now - record.received))
      entry["last_change"] = stamp(wallNow - (now - record.stateSince))
    }
    return entry
  }

  /// `ceph pg dump -f json`'s shape: `{"pg_ready": true, "pg_map": {..., "pg_stats": [...]}}`.
  static func dump(_ pgmap: PGMap, map: OSDMap, now: Double, wallNow: Double) -> [String: Any] {
    let views = pgmap.views(map, now: now)
    let summary = PGMapSummary(views: views, map: map, recovery: (0, 0), space: [])
    return [
      "pg_ready": true,
      "pg_map": [
        "stamp": stamp(wallNow), "last_osdmap_epoch": Int(map.epoch),
        "pg_stats_sum": [
          "stat_sum": [
            "num_objects": summary.objects, "num_bytes": summary.bytes,
            "num_objects_degraded": summary.degraded,
            "num_objects_misplaced": summary.misplaced,
            "num_objects_unfound": summary.unfound, "num_object_copies": summary.copies,
          ]
        ],
        "pg_stats": views.map { stat($0, now: now, wallNow: wallNow) },
        "osd_stats": pgmap.osdSpace.sorted { $0.key < $1.key }.map { osd, space in
          [
            "osd": Int(osd), "kb": space.kb, "kb_used": space.kbUsed, "kb_avail": space.kbAvail,
          ] as [String: Any]
        },
      ] as [String: Any],
    ]
  }

  /// `ceph pg ls -f json`'s shape, optionally only one pool's PGs.
  static func list(_ pgmap: PGMap, map: OSDMap, pool: Int64?, now: Double, wallNow: Double)
    -> [String: Any]
  {
    let views = pgmap.views(map, now: now).filter { pool == nil || $0.pgid.pool == pool }
    return [
      "pg_ready": true, "pg_stats": views.map { stat($0, now: now, wallNow: wallNow) },
    ]
  }

  /// Ceph's stamp form, `2026-12-07T20:43:05.119123+0000`.
  static func stamp(_ seconds: Double) -> String {
    let whole = Int(seconds.rounded(.down))
    var time = time_t(whole)
    var parts = tm()
    gmtime_r(&time, &parts)
    let micros = Int(((seconds - Double(whole)) * 1e6).rounded(.down))
    return String(
      format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d+0000", Int(parts.tm_year) + 1900,
      Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min),
      Int(parts.tm_sec), micros)
  }
}
