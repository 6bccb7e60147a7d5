import ArgumentParser
import Foundation

/// `loligo df`: raw space and per-pool usage, like `ceph df`.
struct DFCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "df", abstract: "Raw space of the OSDs and what each pool stores, like ceph df.",
    discussion: """
      RAW STORAGE sums the space the OSDs that are up report (a durable OSD reports its file \\
      system, a memstore OSD memstore_device_bytes). Per pool: STORED is the data clients \\
      wrote, USED the raw space its copies take (STORED x size), MAX AVAIL how much more \\
      clients can store before the first OSD reaches the full ratio (full_ratio of the OSD \\
      map), with data spread over the OSDs by weight; %USED is STORED / (STORED + MAX AVAIL).

      Examples:
        loligo df
        loligo df --format json
      """)
  @OptionGroup var options: ClusterOptions

  func run() throws {
    try options.emit(try options.json(["prefix": "df"]), plain: Self.render)
  }

  static func render(_ value: Any) -> String {
    let d = value as? [String: Any] ?? [:]
    let stats = d["stats"] as? [String: Any] ?? [:]
    let int = StatusText.int
    var raw = Table(["", "SIZE", "AVAIL", "USED", "%RAW USED"])
    raw.add([
      "TOTAL", CephUnits.bytes(int(stats["total_bytes"])),
      CephUnits.bytes(int(stats["total_avail_bytes"])),
      CephUnits.bytes(int(stats["total_used_raw_bytes"])),
      String(format: "%.2f", ((stats["total_used_raw_ratio"] as? Double) ?? 0) * 100),
    ])
    var pools = Table(["POOL", "ID", "STORED", "OBJECTS", "USED", "%USED", "MAX AVAIL"])
    for pool in d["pools"] as? [[String: Any]] ?? [] {
      let s = pool["stats"] as? [String: Any] ?? [:]
      pools.add([
        pool["name"] as? String ?? "?", "\(int(pool["id"]))", CephUnits.bytes(int(s["stored"])),
        CephUnits.si(int(s["objects"])), CephUnits.bytes(int(s["bytes_used"])),
        String(format: "%.2f", ((s["percent_used"] as? Double) ?? 0) * 100),
        CephUnits.bytes(int(s["max_avail"])),
      ])
    }
    return "--- RAW STORAGE ---\n\(raw.text)\n--- POOLS ---\n\(pools.text)"
  }
}

/// Columns as Ceph's `TextTable` prints them: the first left-aligned, the rest right-aligned,
/// two spaces apart.
struct Table {
  var rows: [[String]]

  init(_ header: [String]) { rows = [header] }

  mutating func add(_ row: [String]) { rows.append(row) }

  var text: String {
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
    return rows.map { row in
      row.enumerated().map { column, cell in
        let pad = String(repeating: " ", count: widths[column] - cell.count)
        return column == 0 ? cell + pad : pad + cell
      }.joined(separator: "  ").replacingOccurrences(
        of: " +$", with: "", options: .regularExpression)
        + "\n"
    }.joined()
  }
}
