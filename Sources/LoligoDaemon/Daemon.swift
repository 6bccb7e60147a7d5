import Foundation
import LoligoCore

/// What every Loligo daemon does the same way: read the cluster file for its entity, log to
/// `log_file`, hold a pid file, open an admin socket, and stop cleanly on SIGTERM/SIGINT.
public struct DaemonContext: Sendable {
  /// `mon.a`, `osd.3`.
  public let entity: String
  public let config: Config
  public let confPath: String?

  /// Loads the config for `entity` from `--conf`, `$LOLIGO_CONF` or `./loligo.toml`, then the
  /// Ceph-style overrides on the command line.
  public init(entity: String, conf explicit: String?, overrides: [String]) throws(DaemonError) {
    self.entity = entity
    var config = Config()
    let path = ClusterFile.locate(explicit: explicit)
    do {
      if let path {
        try config.load(file: path, entity: entity)
      }
      let rest = try config.extractOverrides(from: overrides)
      if !rest.isEmpty {
        throw DaemonError.usage("unexpected arguments: \(rest.joined(separator: " "))")
      }
    } catch let error as ConfigError {
      throw .usage(error.description)
    } catch let error as DaemonError {
      throw error
    } catch {
      throw .usage("\(error)")
    }
    self.config = config
    self.confPath = path
  }

  public func path(_ option: ConfigOption) -> String { config.path(option, entity: entity) }

  /// Sends log lines to `log_file` (if set), creating its directory.
  public func setUpLogging() throws(DaemonError) {
    let file = path(.logFile)
    if !file.isEmpty {
      let directory = (file as NSString).deletingLastPathComponent
      if !directory.isEmpty {
        try? FileManager.default.createDirectory(
          atPath: directory, withIntermediateDirectories: true)
      }
    }
    var expanded = config
    do {
      try expanded.set(.logFile, .string(file))
      try Log.shared.configure(expanded)
    } catch {
      throw .io("\(error)")
    }
  }
}
