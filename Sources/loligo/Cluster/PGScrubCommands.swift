import ArgumentParser
import Foundation
import LoligoCore
import LoligoDaemon
import LoligoPlacement

/// `loligo pg deep-scrub PGID|all` and `loligo pg repair PGID`: each PG's acting primary reads
/// every acting copy of every object (version, size, crc32c) and compares them (Ceph's deep
/// scrub); a repair recovers the copies that differ. Asked through the primaries' admin
/// sockets, so the OSDs must run on this machine.
extension PGCommand {
  struct DeepScrub: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "deep-scrub",
      abstract: "Compare every acting copy of every object of a PG (or of all PGs).",
      discussion: """
        Writes to a PG wait while it is read. Prints one line per PG, or with --format json \\
        {"scrubbed": N, "inconsistent": ["1.a", ...], "pgs": [...]}. Exits 1 when a PG is \\
        inconsistent, 2 when one could not be scrubbed.

        Examples:
          loligo pg deep-scrub 1.a
          loligo pg deep-scrub all --format json
        """)
    @Argument(help: "The PG (POOL.SEED, e.g. 1.a), or all.") var pgid: String
    @OptionGroup var options: ClusterOptions

    func run() throws {
      try PGScrub.run(pgid, command: "pg deep-scrub", options: options)
    }
  }

  struct Repair: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Deep-scrub a PG and recover every copy that differs from the majority.",
      discussion: """
        The right copy of an object is the one most acting copies agree on (version, size, \\
        crc32c), the primary's on a tie. The PG is scrubbed again after the repair; exits 1 if \\
        it is still inconsistent.

        Example: loligo pg repair 1.a
        """)
    @Argument(help: "The PG (POOL.SEED, e.g. 1.a).") var pgid: String
    @OptionGroup var options: ClusterOptions

    func run() throws {
      guard pgid != "all" else { throw ClusterError("pg repair takes one PG, not all") }
      try PGScrub.run(pgid, command: "pg repair", options: options)
    }
  }
}

enum PGScrub {
  static func run(_ argument: String, command: String, options: ClusterOptions) throws {
    let pgids: [String]
    if argument == "all" {
      let listed = try options.json(["prefix": "pg ls"]) as? [String: Any]
      pgids = ((listed?["pg_stats"] as? [[String: Any]]) ?? []).compactMap { $0["pgid"] as? String }
      guard !pgids.isEmpty else { throw ClusterError("no PGs to scrub") }
    } else {
      try PGCommand.parsePGID(argument)
      pgids = [argument]
    }
    var reports: [[String: Any]] = []
    var inconsistent: [String] = []
    var failed: [String] = []
    for pgid in pgids {
      let report = scrub(pgid, command: command, options: options)
      reports.append(report)
      if report["error"] != nil {
        failed.append(pgid)
      } else if !((report["inconsistent_objects"] as? [Any]) ?? []).isEmpty {
        inconsistent.append(pgid)
      }
    }
    let summary: [String: Any] = [
      "scrubbed": reports.count - failed.count, "inconsistent": inconsistent, "failed": failed,
      "pgs": reports,
    ]
    try options.emit(summary) { _ in
      var text = ""
      for report in reports {
        let pgid = report["pgid"] as? String ?? "?"
        if let error = report["error"] {
          text += "\(pgid): not scrubbed: \(error)\n"
          continue
        }
        let bad = (report["inconsistent_objects"] as? [[String: Any]]) ?? []
        let repaired = report["repaired_copies"].map { ", \($0) copies repaired" } ?? ""
        text += "\(pgid): \(report["objects"] ?? 0) objects, \(bad.count) inconsistent\(repaired)\n"
        for object in bad {
          text += "  \(object["object"] ?? "?"): \(object["copies"] ?? [:])\n"
        }
      }
      return text
    }
    if !failed.isEmpty { throw ExitCode(2) }
    if !inconsistent.isEmpty { throw ExitCode(1) }
  }

  /// One PG's report from its primary, or `{"pgid", "error"}`.
  static func scrub(_ pgid: String, command: String, options: ClusterOptions) -> [String: Any] {
    do {
      guard let mapping = try options.json(["prefix": "pg map", "pgid": pgid]) as? [String: Any],
        let primary = mapping["acting_primary"] as? Int, primary >= 0
      else { return ["pgid": pgid, "error": "no acting primary (none of its OSDs is up)"] }
      let name = "osd.\(primary)"
      let path = try DaemonCommand.socketPath(
        of: name, clusterFile: ClusterFile.locate(explicit: options.conf))
      guard FileManager.default.fileExists(atPath: path) else {
        return ["pgid": pgid, "error": "primary \(name) is not local: no admin socket at \(path)"]
      }
      let reply = try adminSocketRequest(path: path, command: "\(command) \(pgid)", timeout: 300)
      guard
        let object = try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any]
      else { return ["pgid": pgid, "error": "\(name) answered with no JSON object"] }
      return object
    } catch {
      return ["pgid": pgid, "error": "\(error)"]
    }
  }
}
