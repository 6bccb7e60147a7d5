import ArgumentParser
import Foundation
import LoligoCore

/// `loligo profile list|show|run`: the named workloads under `Profiles/` that `bench.sh` runs.
struct ProfileCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "profile", abstract: "Named workloads: list, show, run.",
    subcommands: [List.self, Run.self])

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the profiles.")
    @Option(help: "Profiles directory.") var profiles = "Profiles"

    func run() throws {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: profiles)) ?? []
      for file in names.sorted() where file.hasSuffix(".toml") {
        let profile = try Profile(path: "\(profiles)/\(file)")
        print(
          "\(profile.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(profile.description)"
        )
      }
    }
  }

  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a profile end to end on 127.0.0.1 and save its result.",
      discussion: """
        A messenger profile starts perf-msgr-server on a free port, runs perf-msgr-client \
        against it, stops the server by pid and prints where the result went. A pool profile \
        brings up a local cluster, creates the pool, runs the bench steps (write, then seq and \
        rand on what it wrote), stops the cluster and prints the summaries and result paths.

        Example:
          loligo profile run msgr-tcp-4k --results Results
        """)

    @Argument(help: "Profile name (under --profiles) or path to a .toml file.")
    var profile: String
    @Option(help: "Profiles directory.") var profiles = "Profiles"
    @Option(help: "Results directory.") var results = "Results"

    func run() throws {
      guard let path = Profile.locate(profile, profilesDirectory: profiles) else {
        throw ValidationError("no profile '\(profile)' (see 'loligo profile list')")
      }
      let loaded: Profile
      do {
        loaded = try Profile(path: path)
      } catch {
        throw ValidationError("\(error)")
      }
      let run = {
        if loaded.kind == "pool" {
          try PoolProfileRunner(profile: loaded, resultsDirectory: results).run()
        } else {
          try MessengerProfileRunner(profile: loaded, resultsDirectory: results).run()
        }
      }
      if loaded.trace {
        try ProfileTrace(profile: loaded, resultsDirectory: results).record(run)
      } else {
        try run()
      }
    }
  }
}
