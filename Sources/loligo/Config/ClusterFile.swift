import Foundation

/// Where tools find the cluster file: `--conf PATH`, else `$LOLIGO_CONF`, else `./loligo.toml`.
enum ClusterFile {
  static func locate(explicit: String?) -> String? {
    if let explicit { return explicit }
    if let env = ProcessInfo.processInfo.environment["LOLIGO_CONF"], !env.isEmpty { return env }
    return FileManager.default.fileExists(atPath: "loligo.toml") ? "loligo.toml" : nil
  }
}
