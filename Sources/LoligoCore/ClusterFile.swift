import Foundation

/// Where tools and daemons find the cluster file: `--conf PATH`, else `$LOLIGO_CONF`, else
/// `./loligo.toml` when it exists (in the spirit of Ceph's search for ceph.conf).
public enum ClusterFile {
  public static func locate(explicit: String?) -> String? {
    if let explicit { return explicit }
    if let env = ProcessInfo.processInfo.environment["LOLIGO_CONF"], !env.isEmpty { return env }
    return FileManager.default.fileExists(atPath: "loligo.toml") ? "loligo.toml" : nil
  }

  /// Takes `--conf PATH` / `--conf=PATH` out of a command line.
  public static func extract(from arguments: [String]) throws(ConfigError) -> (String?, [String]) {
    var rest: [String] = []
    var path: String?
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      if argument == "--conf" {
        guard index < arguments.count else { throw .missingValue("conf") }
        path = arguments[index]
        index += 1
      } else if argument.hasPrefix("--conf=") {
        path = String(argument.dropFirst("--conf=".count))
      } else {
        rest.append(argument)
      }
    }
    return (path, rest)
  }
}
