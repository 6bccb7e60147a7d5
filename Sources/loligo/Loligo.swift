import ArgumentParser

/// `loligo`: the cluster, placement, benchmark and trace tool. Each subcommand lives in a file
/// (or folder) named for it.
@main
struct Loligo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "loligo",
    abstract: "Loligo storage benchmark toolkit: placement, cluster, benchmarks, traces.",
    subcommands: [
      CrushCommand.self, OSDMapCommand.self, ConfigCommand.self, ProfileCommand.self,
      ClusterCommand.self, StatusCommand.self, QuorumStatusCommand.self, PoolCommand.self,
      OSDCommand.self, ConfigKeyCommand.self, DaemonCommand.self, MonBenchCommand.self,
    ]
  )
}
