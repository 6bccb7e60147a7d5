/// What one `status` reply says about the placement groups, as the recovery step reads it:
/// the OSD map epoch, PG states by count, degraded and misplaced object copies, and the
/// recovery rate (the `pgmap` keys Ceph's `ceph -s -f json` has).
struct PGMapSample {
  var osdmapEpoch = 0
  var numPGs = 0
  var states: [String: Int] = [:]
  var degradedObjects = 0
  var misplacedObjects = 0
  var recoveringBytesPerSecond: Double = 0
  var recoveringObjectsPerSecond: Double = 0

  init(status: [String: Any]) {
    let osdmap = status["osdmap"] as? [String: Any] ?? [:]
    // Ceph nests it once more ({"osdmap": {"osdmap": {...}}}) in some versions.
    osdmapEpoch = Self.int(osdmap["epoch"] ?? (osdmap["osdmap"] as? [String: Any])?["epoch"])
    let pgmap = status["pgmap"] as? [String: Any] ?? [:]
    numPGs = Self.int(pgmap["num_pgs"])
    for entry in pgmap["pgs_by_state"] as? [[String: Any]] ?? [] {
      if let name = entry["state_name"] as? String {
        states[name, default: 0] += Self.int(entry["count"])
      }
    }
    degradedObjects = Self.int(pgmap["degraded_objects"])
    misplacedObjects = Self.int(pgmap["misplaced_objects"])
    recoveringBytesPerSecond = Self.double(pgmap["recovering_bytes_per_sec"])
    recoveringObjectsPerSecond = Self.double(pgmap["recovering_objects_per_sec"])
  }

  /// Every PG active+clean: the one state shown is exactly `active+clean` and it counts every
  /// PG. `peering` (a report older than the PG's interval), `stale+active+clean` (no fresh
  /// report) and `unknown` are not clean.
  var clean: Bool { numPGs > 0 && states.count == 1 && states["active+clean"] == numPGs }

  var activeClean: Int { states["active+clean"] ?? 0 }

  private static func int(_ value: Any?) -> Int {
    switch value {
    case let number as Int: return number
    case let number as Double: return Int(number)
    default: return 0
    }
  }

  private static func double(_ value: Any?) -> Double {
    switch value {
    case let number as Int: return Double(number)
    case let number as Double: return number
    default: return 0
    }
  }
}
