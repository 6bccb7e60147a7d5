import Foundation
import LoligoBench
import LoligoCore
import LoligoDaemon
import LoligoOSD
import NIOPosix

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
    var arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.contains("-h") || arguments.contains("--help") {
      print(usage)
      return
    }
    var id: String?
    var conf: String?
    var mkfs = false
    var rest: [String] = []
    while !arguments.isEmpty {
      let argument = arguments.removeFirst()
      switch argument {
      case "--id", "-i":
        guard !arguments.isEmpty else { ToolSupport.fail(tool, "--id needs a value", code: 2) }
        id = arguments.removeFirst()
      case "--conf", "-c":
        guard !arguments.isEmpty else { ToolSupport.fail(tool, "--conf needs a value", code: 2) }
        conf = arguments.removeFirst()
      case "--mkfs":
        mkfs = true
      default:
        rest.append(argument)
      }
    }
    guard let id, let number = Int32(id), number >= 0 else {
      ToolSupport.fail(tool, "--id N (a non-negative integer) is required (see --help)", code: 2)
    }
    let context: DaemonContext
    do {
      context = try DaemonContext(entity: "osd.\(id)", conf: conf, overrides: rest)
    } catch {
      ToolSupport.fail(tool, "\(error)", code: 2)
    }
    let config = context.config
    let dataPath = context.path(.osdData)
    if mkfs {
      do {
        try OSDDaemon.mkfs(config: config, dataPath: dataPath)
        print("created osd.\(id) in \(dataPath) (\(config.string(.osdObjectstore)))")
      } catch {
        ToolSupport.fail(tool, "mkfs: \(error)")
      }
      return
    }

    ToolSupport.blockTerminationSignals()
    let daemon: OSDDaemon
    let pidFile: PidFile
    let admin: AdminSocket
    let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    do {
      try context.setUpLogging()
      pidFile = try PidFile(path: context.path(.pidFile))
      daemon = try OSDDaemon(id: number, config: config, dataPath: dataPath)
      try daemon.start()
      admin = AdminSocket(path: context.path(.adminSocket))
      daemon.registerAdminCommands(admin)
      try admin.start(group: adminGroup)
    } catch {
      Log.shared.error("osd", "osd.\(id): \(error)")
      ToolSupport.fail(tool, "osd.\(id): \(error)")
    }
    Log.shared.log("osd", 0) {
      "osd.\(id) started (pid \(getpid()), \(config.string(.osdObjectstore)), data \(dataPath))"
    }
    let signal = ToolSupport.waitForTermination()
    Log.shared.log("osd", 0) { "osd.\(id) stopping on signal \(signal)" }
    admin.stop()
    daemon.stop()
    try? adminGroup.syncShutdownGracefully()
    pidFile.remove()
  }
}
