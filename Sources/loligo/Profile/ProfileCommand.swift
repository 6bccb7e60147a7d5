import ArgumentParser
import Foundation
import LoligoCore

/// `loligo profile list|show|run`: the named workloads under `Profiles/` that `bench.sh` runs.
struct ProfileCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "profile", abstract: "Named workloads: list, show, run.",
    subcommands: [List.self, Show.self, Run.self])

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

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print a profile as it would run, every default filled in (a run's profile.toml).")
    @Argument(help: "Profile name (under --profiles) or path to a .toml file.")
    var profile: String
    @Option(help: "Profiles directory.") var profiles = "Profiles"

    func run() throws {
      print(try Profile.load(profile, profilesDirectory: profiles).asRunTOML(), terminator: "")
    }
  }

  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a profile end to end on 127.0.0.1 and save its result.",
      discussion: """
        A messenger profile starts perf-msgr-server on a free port, runs perf-msgr-client \
        against it and stops the server by pid. A pool profile brings up a local cluster, \
        creates the pool, runs the bench steps (write, then seq and rand on what it wrote) and \
        stops the cluster. A recovery profile brings up a cluster, prefills the pool, runs a \
        client load of small overwrites while one OSD goes out and comes back in (each time \
        until every PG is active+clean), then reads every block back and checks it holds the \
        last write acknowledged for it. Each writes one \
        directory, <results>/<UTC time>-<profile>/: the profile as run (profile.toml), each \
        step's result.json, per-second.csv and output.txt (steps/NN-<step>/), the trace if \
        recorded (trace/) and summary.json; it prints each step's figures and that directory.

        Example:
          loligo profile run msgr-tcp-4k --results Results
        """)

    @Argument(help: "Profile name (under --profiles) or path to a .toml file.")
    var profile: String
    @Option(help: "Profiles directory.") var profiles = "Profiles"
    @Option(help: "Results directory.") var results = "Results"

    func run() throws {
      let loaded = try Profile.load(profile, profilesDirectory: profiles)
      // What the bench would refuse is refused before a directory is made or a daemon started.
      if loaded.kind == "pool" { try PoolProfileRunner.checkBenchSteps(loaded) }
      if loaded.kind == "recovery" { try RecoveryProfileRunner.check(loaded) }
      let steps =
        switch loaded.kind {
        case "pool": PoolProfileRunner.steps(loaded)
        case "recovery": RecoveryProfileRunner.steps(loaded)
        default: MessengerProfileRunner.steps
        }
      let run = try ProfileRun(profile: loaded, resultsDirectory: results, steps: steps)
      say("profile \(loaded.name): \(loaded.description)")
      say("results: \(run.directory.path)")
      let body = {
        if loaded.kind == "pool" {
          try PoolProfileRunner(profile: loaded, profileRun: run).run()
        } else if loaded.kind == "recovery" {
          try RecoveryProfileRunner(profile: loaded, profileRun: run).run()
        } else {
          try MessengerProfileRunner(profile: loaded, profileRun: run).run()
        }
      }
      do {
        if loaded.trace {
          try ProfileTrace(directory: run.traceURL.path).record(body)
          try run.traceRecorded()
        } else {
          try body()
        }
      } catch {
        try? run.finish(error: "\(error)")
        report(run)
        throw error
      }
      try run.finish(error: nil)
      report(run)
    }

    /// Each step's status and figures, and where the run's files are.
    private func report(_ run: ProfileRun) {
      say("summary:")
      for step in run.summary.steps {
        let figures = step.figures.map { ", " + step.kind.describe($0) } ?? ""
        say("  \(step.name): \(step.status.rawValue)\(figures)")
      }
      if let recovery = run.summary.recovery {
        say(
          "  verification: \(recovery.blocksVerified) blocks read back, \(recovery.blocksLost) "
            + "lost their last acknowledged write (\(recovery.acknowledgedWrites) writes "
            + "acknowledged besides the prefill)")
      }
      say("results: \(run.directory.path) (summary.json, profile.toml, steps/)")
    }
  }
}
