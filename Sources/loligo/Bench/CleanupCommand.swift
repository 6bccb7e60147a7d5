import ArgumentParser
import LoligoBench

/// `loligo -p POOL cleanup [--run-name NAME] [--prefix PREFIX]`: removes what a `bench write
/// --no-cleanup` left, by its metadata object, or without one by listing the pool for the
/// prefix (default `benchmark_data_<this host>`), as `rados cleanup` does.
struct CleanupCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cleanup",
    abstract: "Remove the objects a bench write left (rados cleanup).")

  @Option(name: [.short, .long], help: ArgumentHelp("The pool.", valueName: "pool"))
  var pool: String?

  @Option(
    help: ArgumentHelp("Cluster file; else $LOLIGO_CONF, else ./loligo.toml.", valueName: "path"))
  var conf: String?

  @Option(
    name: .customLong("run-name"),
    help: ArgumentHelp(
      "Name of the metadata object (default benchmark_last_metadata).", valueName: "name"))
  var runName: String?

  @Option(
    name: .customLong("prefix"),
    help: ArgumentHelp(
      "Without metadata: remove objects starting with this (must begin benchmark_data).",
      valueName: "prefix"))
  var prefix: String?

  @Option(
    name: [.customShort("t"), .customLong("concurrent-ios")],
    help: ArgumentHelp("Removes in flight.", valueName: "n"))
  var concurrentIOs = 16

  func run() throws {
    guard let pool else {
      throw BenchCommand.failure("cleanup needs a pool: loligo -p POOL cleanup")
    }
    guard concurrentIOs >= 1 else {
      throw BenchCommand.failure("Invalid value for concurrent-ios: '\(concurrentIOs)'")
    }
    if let runName, runName.isEmpty {
      throw BenchCommand.failure("Invalid value for run-name: ''")
    }
    let io: any ObjectIO
    let close: () -> Void
    do {
      (io, close) = try ClusterIO.open(conf: conf, pool: pool)
    } catch {
      throw BenchCommand.failure("error opening pool \(pool): \(error)")
    }
    defer { close() }
    let sink: RadosBenchStandardOutput
    do {
      sink = try RadosBenchStandardOutput()
    } catch {
      throw BenchCommand.failure(error.description)
    }
    let status = RadosBenchCleanup.run(
      io: io, runName: runName, prefix: prefix, concurrency: concurrentIOs,
      environment: .live(), output: sink)
    if status != 0 { throw ExitCode(status) }
  }
}
