import ArgumentParser
import LoligoCore

/// The config section a perf-msgr tool reads from the cluster file besides `[global]`.
public protocol PerfMsgrRole {
  static var configSection: String { get }
}

/// The options perf-msgr-client and perf-msgr-server share: the cluster file and the
/// transport. `Role` only names the tool's config section in the help.
public struct PerfMsgrOptions<Role: PerfMsgrRole>: ParsableArguments {
  // Read before parsing (ToolSupport.configAndArguments); declared for the help and parser.
  @Option(
    help: ArgumentHelp(
      "Cluster TOML file ([global], [\(Role.configSection)] sections); else $LOLIGO_CONF, else ./loligo.toml."
    ))
  public var conf: String?

  @Option(
    name: .customLong("ms-type"), help: "Transport: tcp or rdma (Ceph's async+posix, async+rdma).")
  public var msType: String?

  @Option(
    name: .customLong("rdma-device"),
    help:
      "With --ms-type rdma: soft (soft-verbs, no hardware needed) or a verbs device name (mlx5_0, rxe0)."
  )
  public var rdmaDevice: String?

  public init() {}

  /// Sets `ms_type` and `ms_async_rdma_device_name` from the options given; a bad value ends
  /// `tool` with a usage error.
  public func apply(to config: inout Config, tool: String) {
    if let msType {
      do { try config.set("ms_type", msType) } catch {
        ToolSupport.fail(tool, "\(error)", code: 2)
      }
    }
    if let rdmaDevice {
      do { try config.set("ms_async_rdma_device_name", rdmaDevice) } catch {
        ToolSupport.fail(tool, "\(error)", code: 2)
      }
    }
  }
}
