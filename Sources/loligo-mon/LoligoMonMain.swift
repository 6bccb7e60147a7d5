import Foundation
import LoligoConsensus
import LoligoCore
import LoligoDaemon
import LoligoMessages
import LoligoMon

/// `loligo-mon --id NAME [--conf PATH] [--mkfs] [--<option> VALUE ...]`: a monitor daemon.
@main
struct LoligoMonMain {
  static let tool = "loligo-mon"
  static let usage = """
    usage: loligo-mon --id NAME [--conf PATH] [--mkfs] [--<config option> VALUE ...]

    Runs monitor mon.NAME of the cluster described by the cluster file (--conf, else
    $LOLIGO_CONF, else ./loligo.toml): its address comes from mon_host, its store from
    mon_data. --mkfs creates the store from the monitor map and exits. SIGTERM stops it.

    example: loligo-mon --id a --conf /tmp/c1/loligo.toml --mkfs
    """

  static func main() {
    let arguments = DaemonMain.parse(tool: tool, usage: usage)
    let id = arguments.id
    let context: DaemonContext
    do {
      context = try DaemonContext(
        entity: "mon.\(id)", conf: arguments.conf, overrides: arguments.overrides)
    } catch {
      ToolSupport.fail(tool, "\(error)", code: 2)
    }
    let config = context.config
    let dataPath = context.path(.monData)
    if arguments.mkfs {
      do {
        guard let fsid = UUID(uuidString: config.string(.fsid)) else {
          throw DaemonError.usage("fsid is not set (a UUID in the cluster file's [global])")
        }
        let monmap = try MonMap(fsid: fsid, monHost: config.string(.monHost))
        guard monmap.rank(of: id) != nil else {
          throw DaemonError.usage("mon.\(id) is not in mon_host")
        }
        try MonDaemon.mkfs(path: dataPath, monmap: monmap, config: config)
        print("created mon.\(id) store in \(dataPath) (fsid \(fsid.uuidString.lowercased()))")
      } catch {
        ToolSupport.fail(tool, "mkfs: \(error)")
      }
      return
    }
    DaemonMain.serve(tool: tool, context: context, subsystem: "mon", describe: "data \(dataPath)") {
      let daemon = try MonDaemon(name: id, config: config, dataPath: dataPath)
      try daemon.start()
      return DaemonMain.Running(
        registerAdminCommands: daemon.registerAdminCommands, stop: daemon.stop,
        metrics: daemon.metrics)
    }
  }
}
