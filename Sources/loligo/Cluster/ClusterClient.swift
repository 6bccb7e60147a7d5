import Foundation
import LoligoClient
import LoligoCore
import LoligoMessages

/// Shared by the commands that talk to a running cluster: the config it reads and the JSON
/// replies of monitor commands.
enum ClusterClient {
  static func config(path explicit: String?) throws -> Config {
    var config = Config()
    guard let path = ClusterFile.locate(explicit: explicit) else {
      throw ClusterError(
        "no cluster file: give --conf PATH, set LOLIGO_CONF, or run in a directory with loligo.toml"
      )
    }
    do {
      try config.load(file: path, entity: "client")
    } catch {
      throw ClusterError("\(error)")
    }
    return config
  }

  /// Runs a command and decodes its JSON output; throws with the monitor's status on error.
  static func json(_ client: MonClient, _ fields: [String: Any], timeout: Int64 = 30) throws
    -> [String: Any]
  {
    let reply = try client.commandSync(fields, timeout: .seconds(timeout))
    guard reply.result == 0 else {
      throw ClusterError(reply.status.isEmpty ? "error \(reply.result)" : reply.status)
    }
    guard
      let object = try JSONSerialization.jsonObject(with: Data(reply.outputString.utf8))
        as? [String: Any]
    else { throw ClusterError("monitor reply is not a JSON object") }
    return object
  }

  static func render(_ value: Any) throws -> String {
    let data = try JSONSerialization.data(
      withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
    return String(decoding: data, as: UTF8.self)
  }
}
