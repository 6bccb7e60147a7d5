import ArgumentParser
import Foundation
import LoligoBench
import LoligoCore

/// `loligo -p POOL bench SECONDS write|seq|rand [options]`: rados bench, with its options,
/// defaults, object names, metadata object and output, so a `seq` or `rand` reads what the last
/// `write` left and parsers of rados bench output read ours. Errors are one line on stderr and
/// exit status 1.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Benchmark a pool as `rados bench` does: write, then read back (seq, rand).",
    discussion: """
      Writes SECONDS of ops of -b bytes (default 4 MiB) into objects of -O bytes, -t ops in \
      flight (default 16), and leaves a metadata object so that `seq` and `rand` read the same \
      objects back and verify their contents. Without --no-cleanup, write removes its objects \
      at the end; `loligo -p POOL cleanup` removes what a --no-cleanup run left.

      Examples:
        loligo -p rbd bench 10 write -b 4K -t 16 --no-cleanup
        loligo -p rbd bench 10 seq
        loligo -p rbd bench 10 rand --format json
        loligo -p rbd cleanup
      """)

  @Argument(help: "Seconds to run (reads stop early once every written op is read).")
  var seconds: String

  @Argument(help: "write, seq or rand.")
  var mode: String

  @Option(name: [.short, .long], help: ArgumentHelp("The pool.", valueName: "pool"))
  var pool: String?

  @Option(
    help: ArgumentHelp("Cluster file; else $LOLIGO_CONF, else ./loligo.toml.", valueName: "path"))
  var conf: String?

  // The numeric options (-t, -b, -O, --max-objects) take the next word whatever it is, so `-b -4` is refused as a bad
  // size (one line) rather than as a missing value (the usage text).
  @Option(
    name: [.customShort("t"), .customLong("concurrent-ios")], parsing: .unconditional,
    help: ArgumentHelp("Ops in flight (default 16).", valueName: "n"))
  var concurrentIOs: String?

  @Option(
    name: [.customShort("b"), .customLong("block-size")], parsing: .unconditional,
    help: ArgumentHelp(
      "Bytes per op, e.g. 4096, 4K, 4M (default 4M). write only.", valueName: "size"))
  var blockSize: String?

  @Option(
    name: [.customShort("O"), .customLong("object-size")], parsing: .unconditional,
    help: ArgumentHelp("Bytes per object (default: the op size). write only.", valueName: "size"))
  var objectSize: String?

  @Option(
    name: .customLong("max-objects"), parsing: .unconditional,
    help: ArgumentHelp("write: stop after this many objects.", valueName: "n"))
  var maxObjects: String?

  @Flag(name: .customLong("no-cleanup"), help: "write: keep the objects for seq and rand.")
  var noCleanup = false

  @Option(
    name: .customLong("run-name"),
    help: ArgumentHelp(
      "Name of the metadata object (default benchmark_last_metadata).", valueName: "name"))
  var runName: String?

  @Flag(
    name: .customLong("reuse-bench"),
    help: "write: rewrite the previous run's objects (its sizes and object names).")
  var reuseBench = false

  @Flag(
    name: .customLong("no-hints"),
    help: "Accepted for rados compatibility; no allocation hints are sent.")
  var noHints = false

  @Flag(name: .customLong("no-verify"), help: "seq, rand: do not check the data read.")
  var noVerify = false

  @Flag(name: .customLong("show-time"), help: "Prefix each line with the local time.")
  var showTime = false

  @Option(
    name: [.customShort("f"), .customLong("format")],
    help: ArgumentHelp(
      "plain, json or json-pretty (rados's JSON document, numbers as numbers).", valueName: "format"
    ))
  var format: String?

  @Option(
    name: [.customShort("o"), .customLong("output")],
    help: ArgumentHelp("With --format: write the document to this file.", valueName: "file"))
  var output: String?

  @Option(
    name: .customLong("results"),
    help: ArgumentHelp(
      "Write the versioned result.json and per-second.csv into a new directory here.",
      valueName: "dir"))
  var results: String?

  @Option(
    name: .customLong("result-dir"),
    help: ArgumentHelp(
      "Write result.json and per-second.csv into this directory itself (a profile run's step).",
      valueName: "dir"))
  var resultDir: String?

  @Option(
    name: .customLong("metrics-port"),
    help: ArgumentHelp(
      "Serve the running bench's figures for Prometheus on 127.0.0.1:PORT (GET /metrics).",
      valueName: "port"))
  var metricsPort: Int?

  func validate() throws {
    if let metricsPort, !(1...65535).contains(metricsPort) {
      throw ValidationError("--metrics-port must be 1...65535")
    }
  }

  func run() throws {
    guard let pool else {
      throw Self.failure("bench needs a pool: loligo -p POOL bench SECONDS write|seq|rand")
    }
    var arguments = RadosBenchArguments(seconds: seconds, mode: mode)
    arguments.concurrentIOs = concurrentIOs
    arguments.blockSize = blockSize
    arguments.objectSize = objectSize
    arguments.maxObjects = maxObjects
    arguments.noCleanup = noCleanup
    arguments.runName = runName
    arguments.reuseBench = reuseBench
    arguments.noHints = noHints
    arguments.noVerify = noVerify
    arguments.showTime = showTime
    arguments.format = format
    arguments.output = output
    arguments.resultsDirectory = results
    arguments.resultDirectory = resultDir
    arguments.pool = pool
    var options: RadosBenchOptions
    do {
      options = try RadosBenchOptions(parsing: arguments)
    } catch {
      throw Self.failure(error.description)
    }
    let config: Config
    do {
      config = try ClusterClient.config(path: conf)
    } catch {
      throw Self.failure("error opening pool \(pool): \(error)")
    }
    // A write is refused here, before a buffer is allocated or the cluster contacted; reads
    // and --reuse-bench learn their op size from the metadata and are checked by the run.
    let limits = RadosBenchLimits(config: config)
    options.limits = limits
    if options.mode == .write && !options.reuseBench,
      let refusal = limits.refusal(
        mode: options.mode, opSize: options.opSize, concurrentIOs: options.concurrentIOs,
        names: .commandLine(
          blockSize: blockSize, opSize: options.opSize, concurrentIOs: options.concurrentIOs))
    {
      throw Self.failure(refusal)
    }
    let sink: RadosBenchStandardOutput
    do {
      sink = try RadosBenchStandardOutput(formattedPath: options.outputPath)
    } catch {
      throw Self.failure(error.description)
    }
    let io: any ObjectIO
    let close: () -> Void
    do {
      (io, close) = try ClusterIO.open(config: config, pool: pool)
    } catch {
      throw Self.failure("error opening pool \(pool): \(error)")
    }
    defer { close() }
    var metrics: BenchMetrics?
    if let metricsPort {
      do {
        metrics = try BenchMetrics(port: metricsPort)
      } catch {
        throw Self.failure("\(error)")
      }
    }
    defer { metrics?.stop() }
    let report = RadosBench(
      io: metrics.map { MeteredObjectIO(inner: io, metrics: $0) } ?? io, options: options,
      environment: .live(), output: sink
    ).run()
    if report.status != 0 { throw ExitCode(report.status) }
  }

  /// Prints `message` alone on stderr and ends with status 1 (ArgumentParser would add the
  /// usage text to what is not a usage error).
  static func failure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    return ExitCode.failure
  }
}
