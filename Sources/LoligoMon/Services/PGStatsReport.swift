import LoligoPlacement

/// One OSD's `pg stats` command (Ceph's MPGStats): the PGs it is acting primary of, with their
/// state and counts, and its own space. Everything in it comes from a peer: every field is
/// checked for type and range, arrays and strings are bounded, and a report with anything
/// wrong is refused whole.
struct PGStatsReport: Equatable {
  /// PGs one report may carry (an OSD leads at most this many at once here).
  static let maxPGs = 4096
  /// OSDs in an up, acting or blocked-by list.
  static let maxSetSize = 32
  /// Largest object or byte count taken (2^50: a PiB per PG), so sums cannot overflow.
  static let maxCount: Int64 = 1 << 50

  var osd: Int32
  var epoch: UInt32
  var pgs: [PGStatEntry]
  var osdStats: OSDSpace?

  struct Invalid: Error, Equatable, CustomStringConvertible {
    var description: String
  }

  init(osd: Int32, epoch: UInt32, pgs: [PGStatEntry], osdStats: OSDSpace? = nil) {
    self.osd = osd
    self.epoch = epoch
    self.pgs = pgs
    self.osdStats = osdStats
  }

  init(fields: [String: Any]) throws(Invalid) {
    let top = FieldReader(fields, "pg stats")
    osd = Int32(try top.integer("id", 0...Int64(OSDMap.maximumOSDs - 1)))
    epoch = UInt32(try top.integer("epoch", 0...Int64(UInt32.max)))
    guard let list = fields["pgs"] as? [Any] else {
      throw Invalid(description: "pg stats needs pgs, a list")
    }
    guard list.count <= Self.maxPGs else {
      throw Invalid(description: "pg stats carries \(list.count) pgs, more than \(Self.maxPGs)")
    }
    var entries: [PGStatEntry] = []
    entries.reserveCapacity(list.count)
    var seen = Set<PGID>()
    for item in list {
      guard let object = item as? [String: Any] else {
        throw Invalid(description: "pg stats: each pg is an object")
      }
      let entry = try PGStatEntry(FieldReader(object, "pg"))
      guard seen.insert(entry.pgid).inserted else {
        throw Invalid(description: "pg stats: pg \(entry.pgid) appears twice")
      }
      entries.append(entry)
    }
    pgs = entries
    if let raw = fields["osd_stats"] {
      guard let object = raw as? [String: Any] else {
        throw Invalid(description: "pg stats: osd_stats is an object")
      }
      let space = FieldReader(object, "osd_stats")
      let range = 0...Self.maxCount
      osdStats = OSDSpace(
        kb: try space.integer("kb", range, default: 0),
        kbUsed: try space.integer("kb_used", range, default: 0),
        kbAvail: try space.integer("kb_avail", range, default: 0))
    } else {
      osdStats = nil
    }
  }
}

/// One PG as its acting primary reports it (Ceph's `pg_stat_t`, the parts Loligo's OSDs send).
struct PGStatEntry: Equatable {
  var pgid: PGID
  /// Ceph's state names joined by `+` (`active+clean`, `active+recovering+degraded`).
  var state: String
  var up: [Int32] = []
  var acting: [Int32] = []
  var upPrimary: Int32 = -1
  var actingPrimary: Int32 = -1
  var numObjects: Int64 = 0
  var numBytes: Int64 = 0
  var numObjectsDegraded: Int64 = 0
  var numObjectsMisplaced: Int64 = 0
  var numObjectsUnfound: Int64 = 0
  var numObjectsRecovered: Int64 = 0
  var numBytesRecovered: Int64 = 0
  var lastEpochClean: UInt32 = 0
  var logSize: Int64 = 0
  /// `epoch'version` of the PG's newest log entry.
  var lastUpdate = "0'0"
  /// OSDs a down PG waits for.
  var blockedBy: [Int32] = []

  init(pgid: PGID, state: String) {
    self.pgid = pgid
    self.state = state
  }

  fileprivate init(_ f: FieldReader) throws(PGStatsReport.Invalid) {
    let text = try f.string("pgid", maxBytes: 32)
    guard let pgid = PGID(strict: text) else {
      throw PGStatsReport.Invalid(description: "pg stats: invalid pgid '\(text)'")
    }
    self.pgid = pgid
    let f = FieldReader(f.values, "pg \(text)")
    state = try f.string("state", maxBytes: 256)
    guard !state.isEmpty,
      state.utf8.allSatisfy({ (0x61...0x7a).contains($0) || $0 == 0x5f || $0 == 0x2b })
    else { throw PGStatsReport.Invalid(description: "pg \(text): invalid state '\(state)'") }
    up = try f.osds("up")
    acting = try f.osds("acting")
    blockedBy = try f.osds("blocked_by")
    upPrimary = try f.osd("up_primary")
    actingPrimary = try f.osd("acting_primary")
    let counts = 0...PGStatsReport.maxCount
    numObjects = try f.integer("num_objects", counts, default: 0)
    numBytes = try f.integer("num_bytes", counts, default: 0)
    numObjectsDegraded = try f.integer("num_objects_degraded", counts, default: 0)
    numObjectsMisplaced = try f.integer("num_objects_misplaced", counts, default: 0)
    numObjectsUnfound = try f.integer("num_objects_unfound", counts, default: 0)
    numObjectsRecovered = try f.integer("num_objects_recovered", counts, default: 0)
    numBytesRecovered = try f.integer("num_bytes_recovered", counts, default: 0)
    lastEpochClean = UInt32(try f.integer("last_epoch_clean", 0...Int64(UInt32.max), default: 0))
    logSize = try f.integer("log_size", 0...Int64(UInt32.max), default: 0)
    if f.values["last_update"] != nil {
      lastUpdate = try f.string("last_update", maxBytes: 32)
      let parts = lastUpdate.split(separator: "'", omittingEmptySubsequences: false)
      guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }),
        parts.allSatisfy({ UInt64($0) != nil })
      else {
        throw PGStatsReport.Invalid(description: "pg \(text): invalid last_update '\(lastUpdate)'")
      }
    }
  }
}

/// An OSD's space as it reports it, in KiB (Ceph's `osd_stat_t` kb, kb_used, kb_avail).
struct OSDSpace: Equatable {
  var kb: Int64
  var kbUsed: Int64
  var kbAvail: Int64
}

/// Typed, bounded reads of a JSON object from a peer; each failure names the field.
private struct FieldReader {
  let values: [String: Any]
  let context: String

  init(_ values: [String: Any], _ context: String) {
    self.values = values
    self.context = context
  }

  func fail(_ key: String, _ what: String) -> PGStatsReport.Invalid {
    PGStatsReport.Invalid(description: "\(context): \(key) \(what)")
  }

  /// A JSON integer (not a string, not a fraction) within `range`; `default` when absent.
  func integer(_ key: String, _ range: ClosedRange<Int64>, default fallback: Int64? = nil)
    throws(PGStatsReport.Invalid) -> Int64
  {
    guard let raw = values[key] else {
      guard let fallback else { throw fail(key, "is missing") }
      return fallback
    }
    guard !(raw is String), let value = raw as? Int, range.contains(Int64(value)) else {
      throw fail(key, "must be an integer in \(range.lowerBound)...\(range.upperBound)")
    }
    return Int64(value)
  }

  func string(_ key: String, maxBytes: Int) throws(PGStatsReport.Invalid) -> String {
    guard let value = values[key] as? String else { throw fail(key, "must be a string") }
    guard value.utf8.count <= maxBytes else {
      throw fail(key, "is longer than \(maxBytes) bytes")
    }
    return value
  }

  /// An OSD id or -1 (none); -1 when absent.
  func osd(_ key: String) throws(PGStatsReport.Invalid) -> Int32 {
    Int32(try integer(key, -1...Int64(OSDMap.maximumOSDs - 1), default: -1))
  }

  /// A list of OSD ids (CRUSH's none, 0x7fffffff, for an erasure-coded hole); empty when absent.
  func osds(_ key: String) throws(PGStatsReport.Invalid) -> [Int32] {
    guard let raw = values[key] else { return [] }
    guard let list = raw as? [Any], list.count <= PGStatsReport.maxSetSize else {
      throw fail(key, "must be a list of at most \(PGStatsReport.maxSetSize) OSD ids")
    }
    var osds: [Int32] = []
    for item in list {
      guard !(item is String), let value = item as? Int,
        (-1..<Int(OSDMap.maximumOSDs)).contains(value) || value == Int(Int32.max)
      else { throw fail(key, "must hold OSD ids") }
      osds.append(Int32(value))
    }
    return osds
  }
}
