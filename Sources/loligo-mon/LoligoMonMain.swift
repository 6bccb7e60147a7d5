import Foundation
import LoligoBench
import LoligoCore
import LoligoDaemon
import LoligoMessages
import LoligoMon
import NIOPosix

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
    guard let id, !id.isEmpty else {
      ToolSupport.fail(tool, "--id NAME is required (see --help)", code: 2)
    }
    let context: DaemonContext
    do {
      context = try DaemonContext(entity: "mon.\(id)", conf: conf, overrides: rest)
    } catch {
      ToolSupport.fail(tool, "\(error)", code: 2)
    }
    let config = context.config
    let dataPath = context.path(.monData)
    if mkfs {
      do {
        guard let fsid = UUID(uuidString: config.string(.fsid)) else {
          throw DaemonError.usage("fsid is not set (a UUID in the cluster file's [global])")
        }
        let monmap = try MonMap(fsid: fsid, monHost: config.string(.monHost))
        guard monmap.rank(of: id) != nil else {
          throw DaemonError.usage("mon.\(id) is not in mon_host")
        }
        try MonDaemon.mkfs(path: dataPath, monmap: monmap)
        print("created mon.\(id) store in \(dataPath) (fsid \(fsid.uuidString.lowercased()))")
      } catch {
        ToolSupport.fail(tool, "mkfs: \(error)")
      }
      return
    }

    ToolSupport.blockTerminationSignals()
    let daemon: MonDaemon
    let pidFile: PidFile
    let admin: AdminSocket
    let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    do {
      try context.setUpLogging()
      pidFile = try PidFile(path: context.path(.pidFile))
      daemon = try MonDaemon(name: id, config: config, dataPath: dataPath)
      try daemon.start()
      admin = AdminSocket(path: context.path(.adminSocket))
      daemon.registerAdminCommands(admin)
      try admin.start(group: adminGroup)
    } catch {
      Log.shared.error("mon", "mon.\(id): \(error)")
      ToolSupport.fail(tool, "mon.\(id): \(error)")
    }
    Log.shared.log("mon", 0) {
      "mon.\(id) started (pid \(getpid()), rank \(daemon.rank), data \(dataPath))"
    }
    let signal = ToolSupport.waitForTermination()
    Log.shared.log("mon", 0) { "mon.\(id) stopping on signal \(signal)" }
    admin.stop()
    daemon.stop()
    try? adminGroup.syncShutdownGracefully()
    pidFile.remove()
  }
}
