import Foundation

/// Shared command-line behaviour of Loligo's tools: Ceph-style config overrides taken out of
/// the arguments first, and failures reported as one line on stderr with a non-zero exit.
public enum ToolSupport {
  /// Builds the tool's config: the cluster file (`--conf`, `$LOLIGO_CONF`, `./loligo.toml`)
  /// with the sections for `entity`, then `--<config option> value` pairs from the command
  /// line. Returns the config and the arguments left for the tool's own parser.
  public static func configAndArguments(tool: String, entity: String) -> (Config, [String]) {
    var config = Config()
    do {
      let (explicit, arguments) = try ClusterFile.extract(
        from: Array(CommandLine.arguments.dropFirst()))
      if let path = ClusterFile.locate(explicit: explicit) {
        try config.load(file: path, entity: entity)
      }
      let rest = try config.extractOverrides(from: arguments)
      return (config, rest)
    } catch {
      fail(tool, "\(error)", code: 2)
    }
  }

  /// Prints `tool: error: message` and exits.
  public static func fail(_ tool: String, _ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("\(tool): error: \(message)\n".utf8))
    exit(code)
  }

  public static func warn(_ tool: String, _ message: String) {
    FileHandle.standardError.write(Data("\(tool): warning: \(message)\n".utf8))
  }

  /// Parses a positional integer argument with a range, failing with a clear message.
  public static func integer(
    _ text: String, name: String, tool: String, range: ClosedRange<Int>
  ) -> Int {
    guard let value = Int(text) else {
      fail(tool, "\(name) must be an integer, got '\(text)'", code: 2)
    }
    guard range.contains(value) else {
      let upper = range.upperBound == Int.max ? "" : "...\(range.upperBound)"
      fail(tool, "\(name) must be in \(range.lowerBound)\(upper), got \(value)", code: 2)
    }
    return value
  }

  /// Blocks SIGINT and SIGTERM in every thread started after this call, so that
  /// `waitForTermination` can take them synchronously.
  public static func blockTerminationSignals() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(SIG_BLOCK, &set, nil)
  }

  /// Waits for SIGINT or SIGTERM; returns the signal number.
  public static func waitForTermination() -> Int32 {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    var signal: Int32 = 0
    sigwait(&set, &signal)
    return signal
  }
}
