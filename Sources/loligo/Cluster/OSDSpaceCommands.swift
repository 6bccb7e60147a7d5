import ArgumentParser
import Foundation

/// `loligo osd df` and the full ratio commands (`osd set-full-ratio`, `set-backfillfull-ratio`,
/// `set-nearfull-ratio`), as Ceph names them.
extension OSDCommand {
  struct DF: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "df", abstract: "Each OSD's size, use, free space and PGs, like ceph osd df.",
      discussion: """
        SIZE, RAW USE and AVAIL are what the OSD last reported (a durable OSD its file system, \\
        a memstore OSD memstore_device_bytes); %USE is RAW USE / SIZE, VAR its ratio to the \\
        cluster's average, PGS the placement groups on it; STATE its fullness in the OSD map \\
        (nearfull, backfillfull, full; see loligo osd set-full-ratio).

        Examples:
          loligo osd df
          loligo osd df --format json
        """)
    @OptionGroup var options: ClusterOptions

    func run() throws {
      try options.emit(try options.json(["prefix": "osd df"]), plain: Self.render)
    }

    static func render(_ value: Any) -> String {
      let d = value as? [String: Any] ?? [:]
      let int = StatusText.int
      let kib = { (value: Any?) in CephUnits.bytes(int(value) * 1024) }
      var table = Table([
        "ID", "REWEIGHT", "SIZE", "RAW USE", "AVAIL", "%USE", "VAR", "PGS", "STATUS", "STATE",
      ])
      for node in d["nodes"] as? [[String: Any]] ?? [] {
        table.add([
          "\(int(node["id"]))", String(format: "%.5f", (node["reweight"] as? Double) ?? 0),
          kib(node["kb"]), kib(node["kb_used"]), kib(node["kb_avail"]),
          String(format: "%.2f", (node["utilization"] as? Double) ?? 0),
          String(format: "%.2f", (node["var"] as? Double) ?? 0), "\(int(node["pgs"]))",
          node["status"] as? String ?? "?", node["state"] as? String ?? "none",
        ])
      }
      let s = d["summary"] as? [String: Any] ?? [:]
      table.add([
        "TOTAL", "", kib(s["total_kb"]), kib(s["total_kb_used"]), kib(s["total_kb_avail"]),
        String(format: "%.2f", (s["average_utilization"] as? Double) ?? 0), "", "", "", "",
      ])
      return table.text
        + String(
          format: "MIN/MAX VAR: %.2f/%.2f  STDDEV: %.2f\n", (s["min_var"] as? Double) ?? 0,
          (s["max_var"] as? Double) ?? 0, (s["dev"] as? Double) ?? 0)
    }
  }

  /// `set-full-ratio`, `set-backfillfull-ratio`, `set-nearfull-ratio`: one per ratio.
  struct SetRatio: ParsableArguments {
    @Argument(help: "The ratio of used to total space, 0...1 (e.g. 0.95).") var ratio: Double
    @OptionGroup var options: ClusterOptions

    func validate() throws {
      guard ratio.isFinite, (0...1).contains(ratio) else {
        throw ValidationError("RATIO must be a number in 0...1")
      }
    }

    func run(_ name: String) throws {
      print(try options.run(["prefix": "osd set-\(name)-ratio", "ratio": ratio]).status)
    }
  }

  struct SetFullRatio: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set-full-ratio",
      abstract: "Used/total above which an OSD is full: writes to it are refused (ENOSPC).",
      discussion: "Default mon_osd_full_ratio (0.95). Example: loligo osd set-full-ratio 0.97")
    @OptionGroup var ratio: SetRatio
    func run() throws { try ratio.run("full") }
  }

  struct SetBackfillfullRatio: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set-backfillfull-ratio",
      abstract: "Used/total above which no backfill fills an OSD (backfill_toofull).",
      discussion:
        "Default mon_osd_backfillfull_ratio (0.90). Example: loligo osd set-backfillfull-ratio 0.92"
    )
    @OptionGroup var ratio: SetRatio
    func run() throws { try ratio.run("backfillfull") }
  }

  struct SetNearfullRatio: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set-nearfull-ratio",
      abstract: "Used/total above which an OSD is nearfull (health OSD_NEARFULL).",
      discussion:
        "Default mon_osd_nearfull_ratio (0.85). Example: loligo osd set-nearfull-ratio 0.8")
    @OptionGroup var ratio: SetRatio
    func run() throws { try ratio.run("nearfull") }
  }
}
