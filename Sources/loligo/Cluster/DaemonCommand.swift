import ArgumentParser
import Foundation
import LoligoCore
import LoligoDaemon

/// `loligo daemon NAME COMMAND...`: asks a local daemon through its admin socket
/// (`perf dump`, `mon_status`, `config show`, `help`).
struct DaemonCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "daemon", abstract: "Ask a running daemon through its admin socket.",
    discussion: """
      The socket is found from the cluster file (admin_socket, default $run_dir/$name.asok), \
      or given with --socket.

      Examples:
        loligo daemon osd.0 perf dump
        loligo daemon mon.a mon_status
        loligo daemon mon.a help
      """)

  @Argument(help: "Daemon name, e.g. osd.0 or mon.a.") var name: String
  @Argument(parsing: .remaining, help: "The command words.") var command: [String] = []
  @Option(help: "Cluster file; else $LOLIGO_CONF, else ./loligo.toml.") var conf: String?
  @Option(help: "Admin socket path (instead of the cluster file's).") var socket: String?

  /// Where daemon `name` answers, from the cluster file (`admin_socket`) or the default.
  static func socketPath(of name: String, clusterFile: String?) throws -> String {
    var config = Config()
    if let clusterFile {
      do { try config.load(file: clusterFile, entity: name) } catch {
        throw ClusterError("\(error)")
      }
    }
    return config.path(.adminSocket, entity: name)
  }

  func run() throws {
    guard name.contains(".") else { throw ValidationError("NAME is TYPE.ID, e.g. osd.0") }
    let path =
      try socket ?? Self.socketPath(of: name, clusterFile: ClusterFile.locate(explicit: conf))
    let words = command.isEmpty ? ["help"] : command
    let reply: String
    do {
      reply = try adminSocketRequest(path: path, command: words.joined(separator: " "))
    } catch {
      throw ClusterError("\(name): \(error)")
    }
    if let object = try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any],
      object.count == 1, let message = object["error"] as? String
    {
      throw ClusterError("\(name): \(message)")
    }
    print(reply, terminator: "")
  }
}
