import Foundation
import LoligoCore
import NIOPosix

/// The command line and lifetime every daemon shares: `--id`, `--conf`, `--mkfs`, Ceph-style
/// option overrides; then logging, a pid file, the daemon, its admin socket, and a clean stop
/// on SIGTERM or SIGINT.
public enum DaemonMain {
  public struct Arguments {
    public var id: String
    public var conf: String?
    public var mkfs: Bool
    public var overrides: [String]
  }

  /// Parses the command line; prints `usage` for -h/--help and exits.
  public static func parse(tool: String, usage: String) -> Arguments {
    var arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.contains("-h") || arguments.contains("--help") {
      print(usage)
      exit(0)
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
      ToolSupport.fail(tool, "--id is required (see --help)", code: 2)
    }
    return Arguments(id: id, conf: conf, mkfs: mkfs, overrides: rest)
  }

  /// What `serve` needs from a started daemon.
  public struct Running {
    public var registerAdminCommands: (AdminSocket) -> Void
    public var stop: () -> Void
    /// The daemon's Prometheus exposition, served when `prometheus_port` is set.
    public var metrics: MetricsServer.Render
    public init(
      registerAdminCommands: @escaping (AdminSocket) -> Void, stop: @escaping () -> Void,
      metrics: @escaping MetricsServer.Render
    ) {
      self.registerAdminCommands = registerAdminCommands
      self.stop = stop
      self.metrics = metrics
    }
  }

  /// Runs the daemon `start` creates until SIGTERM/SIGINT. Any failure to start is one line on
  /// stderr (and in the log) and exit 1.
  public static func serve(
    tool: String, context: DaemonContext, subsystem: String, describe: String,
    start: () throws -> Running
  ) -> Never {
    ToolSupport.blockTerminationSignals()
    let adminGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let running: Running
    let pidFile: PidFile
    let admin: AdminSocket
    var metrics: MetricsServer?
    do {
      try context.setUpLogging()
      pidFile = try PidFile(path: context.path(.pidFile))
      running = try start()
      admin = AdminSocket(path: context.path(.adminSocket))
      running.registerAdminCommands(admin)
      try admin.start(group: adminGroup)
      let port = context.config.int(.prometheusPort)
      if port > 0 {
        metrics = try MetricsServer(
          host: context.config.string(.prometheusAddr), port: port, group: adminGroup,
          render: running.metrics)
      }
    } catch {
      Log.shared.error(subsystem, "\(context.entity): \(error)")
      ToolSupport.fail(tool, "\(context.entity): \(error)")
    }
    Log.shared.log(subsystem, 0) { "\(context.entity) started (pid \(getpid()), \(describe))" }
    if let metrics {
      Log.shared.log(subsystem, 0) {
        "\(context.entity) metrics at http://\(metrics.host):\(metrics.port)/metrics"
      }
    }
    let signal = ToolSupport.waitForTermination()
    Log.shared.log(subsystem, 0) { "\(context.entity) stopping on signal \(signal)" }
    metrics?.stop()
    admin.stop()
    running.stop()
    try? adminGroup.syncShutdownGracefully()
    pidFile.remove()
    exit(0)
  }
}
