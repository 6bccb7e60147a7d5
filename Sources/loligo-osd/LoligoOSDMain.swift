import Foundation
import LoligoCore
import LoligoDaemon
import LoligoOSD

/// `loligo-osd --id N [--conf PATH] [--mkfs] [--<option> VALUE ...]`: an OSD daemon.
@main
struct LoligoOSDMain {
  static let tool = "loligo-osd"
  static let usage = """
    usage: loligo-osd --id N [--conf PATH] [--mkfs] [--<config option> VALUE ...]

    Runs OSD osd.N of the cluster described by the cluster file (--conf, else $LOLIGO_CONF,
    else ./loligo.toml): it listens on public_addr, keeps objects in osd_objectstore (memstore
    or durable, under osd_data), boots to the monitors of mon_host and serves the placement
    groups CRUSH gives it. --mkfs creates its data directory (and durable store) and exits.
    SIGTERM marks it down at the monitors and stops it.

    example: loligo-osd --id 0 --conf /tmp/c1/loligo.toml --mkfs
    """

  static func main() {
    let arguments = DaemonMain.parse(tool: tool, usage: usage)
    guard let number = Int32(arguments.id), number >= 0 else {
      ToolSupport.fail(tool, "--id N must be a non-negative integer", code: 2)
    }
    let context: DaemonContext
    do {
      context = try DaemonContext(
        entity: "osd.\(number)", conf: arguments.conf, overrides: arguments.overrides)
    } catch {
      ToolSupport.fail(tool, "\(error)", code: 2)
    }
    let config = context.config
    let dataPath = context.path(.osdData)
    if arguments.mkfs {
      do {
        try OSDDaemon.mkfs(config: config, dataPath: dataPath)
        print("created osd.\(number) in \(dataPath) (\(config.string(.osdObjectstore)))")
      } catch {
        ToolSupport.fail(tool, "mkfs: \(error)")
      }
      return
    }
    DaemonMain.serve(
      tool: tool, context: context, subsystem: "osd",
      describe: "\(config.string(.osdObjectstore)), data \(dataPath)"
    ) {
      let daemon = try OSDDaemon(id: number, config: config, dataPath: dataPath)
      daemon.onStoreFailure = { restart in
        if restart { Respawn.now("osd.\(number)") }
        exit(1)
      }
      try daemon.start()
      return DaemonMain.Running(
        registerAdminCommands: daemon.registerAdminCommands, stop: daemon.stop,
        metrics: daemon.metrics)
    }
  }
}
