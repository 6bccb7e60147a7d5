import ArgumentParser

/// `loligo`: the cluster, placement, benchmark and trace tool. Each subcommand lives in a file
/// (or folder) named for it.
@main
struct Loligo: ParsableCommand {
  /// `loligo -p POOL bench ...` (rados's word order) is `loligo bench -p POOL ...`.
  static func main() {
    var arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.count >= 3, ["-p", "--pool"].contains(arguments[0]) {
      let pool = Array(arguments[0...1])
      arguments.removeFirst(2)
      arguments.insert(contentsOf: pool, at: 1)
    }
    // `loligo pg PGID query` (Ceph's order) is `loligo pg query PGID`.
    if arguments.count >= 3, arguments[0] == "pg", arguments[2] == "query" {
      arguments.swapAt(1, 2)
    }
    main(arguments)
  }

  static let configuration = CommandConfiguration(
    commandName: "loligo",
    abstract: "Loligo storage benchmark toolkit: placement, cluster, benchmarks, traces.",
    subcommands: [
      CrushCommand.self, OSDMapCommand.self, ConfigCommand.self, ProfileCommand.self,
      ClusterCommand.self, StatusCommand.self, HealthCommand.self, DFCommand.self,
      QuorumStatusCommand.self, PoolCommand.self,
      OSDCommand.self, PGCommand.self, ConfigKeyCommand.self, DaemonCommand.self,
      MonBenchCommand.self,
      PutCommand.self, GetCommand.self, StatCommand.self, RemoveCommand.self,
      ListObjectsCommand.self,
      BenchCommand.self, CleanupCommand.self, TraceCommand.self,
    ]
  )
}
