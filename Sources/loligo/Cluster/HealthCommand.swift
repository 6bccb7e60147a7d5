import ArgumentParser
import Foundation

/// `loligo health [detail]`: the cluster's health checks, like `ceph health [detail]`.
struct HealthCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "health", abstract: "HEALTH_OK, or the health checks raised, like ceph health.",
    discussion: """
      One line: the status and each check's summary. With detail, each check on its own line \\
      ([ERR] for OSD_FULL, [WRN] for the others) followed by what it names, e.g. which OSDs \\
      are nearfull (OSD_NEARFULL), backfillfull (OSD_BACKFILLFULL) or full (OSD_FULL).

      Examples:
        loligo health
        loligo health detail
        loligo health --format json
      """)
  @Argument(help: "detail: one line per check, with what it names.") var detail: String?
  @OptionGroup var options: ClusterOptions

  func validate() throws {
    if let detail, detail != "detail" { throw ValidationError("unknown argument '\(detail)'") }
  }

  func run() throws {
    let report = try options.json(["prefix": "health"]) as? [String: Any] ?? [:]
    let health = report["health"] as? [String: Any] ?? [:]
    try options.emit(health) { value in
      Self.render(value as? [String: Any] ?? [:], detail: detail != nil)
    }
  }

  static func render(_ health: [String: Any], detail: Bool) -> String {
    let status = health["status"] as? String ?? "?"
    let checks = (health["checks"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }
    var text = status + (checks.isEmpty ? "" : " " + checks.map(\.value).joined(separator: "; "))
    text += "\n"
    guard detail else { return text }
    let named = health["detail"] as? [String: [String]] ?? [:]
    for (name, summary) in checks {
      text += "[\(name == "OSD_FULL" ? "ERR" : "WRN")] \(name): \(summary)\n"
      for line in named[name] ?? [] { text += "    \(line)\n" }
    }
    return text
  }
}
