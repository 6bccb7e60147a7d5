import ArgumentParser
import Foundation
import LoligoCore
import LoligoDaemon
import LoligoPlacement

/// `loligo pg ls|dump|map|query`: placement groups as the leader's PG map and their primary
/// OSDs see them (`loligo pg PGID query` is `loligo pg query PGID`, Ceph's word order).
struct PGCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pg",
    abstract: "Placement groups: list, dump, map one, query its primary, deep-scrub, repair.",
    subcommands: [List.self, Dump.self, Map.self, Query.self, DeepScrub.self, Repair.self])

  /// A PG id as the user typed it, checked for its form (the monitors check that it exists);
  /// a bad one is one line and a non-zero exit, without the usage text.
  @discardableResult
  static func parsePGID(_ text: String) throws -> PGID {
    guard text.utf8.count <= 32, text.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == ".") }),
      let pgid = PGID(text)
    else { throw ClusterError("invalid pgid '\(text)' (POOL.SEED, e.g. 1.a)") }
    return pgid
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "ls", abstract: "Every PG (of one pool) with its state, counts and OSDs.",
      discussion: "Examples:\n  loligo pg ls\n  loligo pg ls bench --format json")
    @Argument(help: "Only this pool's PGs.") var pool: String?
    @OptionGroup var options: ClusterOptions

    func run() throws {
      var fields: [String: Any] = ["prefix": "pg ls"]
      if let pool { fields["pool"] = pool }
      try options.emit(try options.json(fields)) { value in
        PGTable.render((value as? [String: Any])?["pg_stats"] as? [[String: Any]] ?? [])
      }
    }
  }

  struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The PG map: every PG's statistics, the sums and the OSDs' space.")
    @OptionGroup var options: ClusterOptions

    func run() throws {
      try options.emit(try options.json(["prefix": "pg dump"])) { value in
        let map = (value as? [String: Any])?["pg_map"] as? [String: Any] ?? [:]
        var text =
          "stamp \(map["stamp"] ?? "")\nlast_osdmap_epoch \(map["last_osdmap_epoch"] ?? 0)\n"
        text += PGTable.render(map["pg_stats"] as? [[String: Any]] ?? [])
        let sum = (map["pg_stats_sum"] as? [String: Any])?["stat_sum"] as? [String: Any] ?? [:]
        text +=
          "\nsum objects \(sum["num_objects"] ?? 0) bytes \(sum["num_bytes"] ?? 0) degraded \(sum["num_objects_degraded"] ?? 0) misplaced \(sum["num_objects_misplaced"] ?? 0) unfound \(sum["num_objects_unfound"] ?? 0)\n"
        for osd in map["osd_stats"] as? [[String: Any]] ?? [] {
          text +=
            "osd.\(osd["osd"] ?? 0) kb \(osd["kb"] ?? 0) kb_used \(osd["kb_used"] ?? 0) kb_avail \(osd["kb_avail"] ?? 0)\n"
        }
        return text
      }
    }
  }

  struct Map: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Where the OSD map places a PG: its up and acting sets.",
      discussion: "Example: loligo pg map 1.a")
    @Argument(help: "The PG (POOL.SEED, e.g. 1.a).") var pgid: String
    @OptionGroup var options: ClusterOptions

    func run() throws {
      try PGCommand.parsePGID(pgid)
      try options.emit(try options.json(["prefix": "pg map", "pgid": pgid])) { value in
        let m = value as? [String: Any] ?? [:]
        return
          "osdmap e\(m["epoch"] ?? 0) pg \(pgid) (\(m["pgid"] ?? pgid)) -> up \(PGTable.osds(m["up"])) acting \(PGTable.osds(m["acting"]))\n"
      }
    }
  }

  struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Ask a PG's acting primary OSD about it (its admin socket's pg query).",
      discussion: """
        The primary comes from the OSD map; its admin socket must be on this machine (the \\
        cluster file says where). Prints the OSD's JSON.

        Examples:
          loligo pg 1.a query
          loligo pg query 1.a
        """)
    @Argument(help: "The PG (POOL.SEED, e.g. 1.a).") var pgid: String
    @OptionGroup var options: ClusterOptions

    func run() throws {
      try PGCommand.parsePGID(pgid)
      guard let mapping = try options.json(["prefix": "pg map", "pgid": pgid]) as? [String: Any],
        let primary = mapping["acting_primary"] as? Int
      else { throw ClusterError("the monitors gave no mapping for pg \(pgid)") }
      guard primary >= 0 else {
        throw ClusterError("pg \(pgid) has no acting primary: none of its OSDs is up")
      }
      let name = "osd.\(primary)"
      let path = try DaemonCommand.socketPath(
        of: name, clusterFile: ClusterFile.locate(explicit: options.conf))
      guard FileManager.default.fileExists(atPath: path) else {
        throw ClusterError(
          "pg \(pgid)'s primary \(name) is not local: no admin socket at \(path)")
      }
      let reply: String
      do {
        reply = try adminSocketRequest(path: path, command: "pg query \(pgid)")
      } catch {
        throw ClusterError("pg \(pgid)'s primary \(name) does not answer: \(error)")
      }
      guard
        let object = try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]
      else { throw ClusterError("\(name) answered pg query with no JSON object") }
      if object.count == 1, let message = object["error"] as? String {
        throw ClusterError("\(name): \(message)")
      }
      print(try ClusterClient.render(object))
    }
  }
}

/// PGs as `ceph pg ls` prints them.
enum PGTable {
  /// `[1,2,0]`.
  static func osds(_ value: Any?) -> String {
    "[" + ((value as? [Int]) ?? []).map(String.init).joined(separator: ",") + "]"
  }

  /// `5s`, `3m`, `2h`, `4d` since a stamp of the pg map (now if unreadable).
  static func since(_ stamp: Any?) -> String {
    guard let text = stamp as? String, text.count >= 19 else { return "-" }
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
    guard let date = formatter.date(from: String(text.prefix(19))) else { return "-" }
    let seconds = max(0, Int(Date().timeIntervalSince(date)))
    switch seconds {
    case ..<60: return "\(seconds)s"
    case ..<3600: return "\(seconds / 60)m"
    case ..<86400: return "\(seconds / 3600)h"
    default: return "\(seconds / 86400)d"
    }
  }

  static func render(_ pgs: [[String: Any]]) -> String {
    let header = [
      "PG", "OBJECTS", "DEGRADED", "MISPLACED", "UNFOUND", "BYTES", "LOG", "STATE", "SINCE",
      "VERSION", "REPORTED", "UP", "ACTING",
    ]
    let left: Set<Int> = [0, 7, 11, 12]
    var rows = [header]
    for pg in pgs {
      let sum = pg["stat_sum"] as? [String: Any] ?? [:]
      let number = { (key: String) in "\((sum[key] as? Int) ?? 0)" }
      rows.append([
        pg["pgid"] as? String ?? "?", number("num_objects"), number("num_objects_degraded"),
        number("num_objects_misplaced"), number("num_objects_unfound"), number("num_bytes"),
        "\((pg["log_size"] as? Int) ?? 0)", pg["state"] as? String ?? "?",
        since(pg["last_change"]), pg["version"] as? String ?? "0'0",
        "\((pg["reported_epoch"] as? Int) ?? 0):\((pg["reported_seq"] as? Int) ?? 0)",
        osds(pg["up"]) + "p\((pg["up_primary"] as? Int) ?? -1)",
        osds(pg["acting"]) + "p\((pg["acting_primary"] as? Int) ?? -1)",
      ])
    }
    let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.enumerated().map { column, cell in
        let pad = String(repeating: " ", count: widths[column] - cell.count)
        return left.contains(column) ? cell + pad : pad + cell
      }.joined(separator: "  ").replacingOccurrences(
        of: "\\s+$", with: "", options: .regularExpression)
    }.joined(separator: "\n") + "\n"
  }
}
