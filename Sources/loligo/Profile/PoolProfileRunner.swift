import Foundation
import LoligoBench
import LoligoCore

/// Runs a pool profile end to end: `cluster up` in a fresh directory (with the profile's pool,
/// its PGs active), the bench steps with their results in the run's step directories, and
/// `cluster down` (always).
struct PoolProfileRunner {
  let profile: Profile
  let profileRun: ProfileRun

  /// The run's steps: one bench per mode.
  static func steps(_ profile: Profile) -> [(name: String, kind: ProfileStepKind)] {
    profile.poolRun.modes.map { ($0, .radosBench) }
  }

  func run() throws {
    let p = profile.poolRun
    let tool = ClusterCommand.tool("loligo")
    let directory = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("loligo-\(profile.name)-\(getpid())").path
    let started = Date()
    try Self.clusterCommand(tool, Self.clusterUpArguments(profile, directory: directory))
    defer {
      _ = try? DaemonProcess.run(tool, ["cluster", "down", "--dir", directory])
      try? FileManager.default.removeItem(atPath: directory)
      say("cluster stopped")
    }
    let conf = ["--conf", "\(directory)/loligo.toml"]
    say(String(format: "cluster ready in %.1f s", Date().timeIntervalSince(started)))
    say(
      "bench: \(p.blockSize) ops, \(p.concurrency) in flight, pool size \(p.size), \(p.objectStore)"
    )
    for (offset, mode) in p.modes.enumerated() {
      let succeeded = try profileRun.runStep(offset + 1, executable: tool) { stepDirectory in
        var arguments = [
          "-p", p.poolName, "bench", String(p.seconds), mode, "-t", String(p.concurrency),
        ]
        if mode == "write" { arguments += ["-b", p.blockSize, "--no-cleanup"] }
        return arguments + ["--result-dir", stepDirectory] + conf
      }
      guard succeeded else {
        throw ProfileError("step \(mode) failed: \(profileRun.summary.steps[offset].error ?? "")")
      }
    }
  }

  /// The checks `loligo bench` makes before it connects, made before the cluster comes up (with
  /// the profile's config, as the cluster file will have it): a step the bench would refuse
  /// fails the profile at once, with the bench's message.
  static func checkBenchSteps(_ profile: Profile) throws {
    try checkWrite(profile, blockSize: profile.poolRun.blockSize, name: "block_size")
  }

  /// Refuses a write of `blockSize` bytes, `concurrency` in flight, that the bench would
  /// refuse; `name` is the profile key that gave the size.
  static func checkWrite(_ profile: Profile, blockSize: String, name: String) throws {
    let p = profile.poolRun
    var arguments = RadosBenchArguments(seconds: String(p.seconds), mode: "write")
    arguments.blockSize = blockSize
    arguments.concurrentIOs = String(p.concurrency)
    let options: RadosBenchOptions
    do {
      options = try RadosBenchOptions(parsing: arguments)
    } catch {
      throw ProfileError("\(profile.path): \(error)")
    }
    var config = Config()
    for (name, value) in profile.config { try? config.set(name, value) }  // checked on load
    let names = RadosBenchLimits.Names(
      opSize: "\(name) \(blockSize)", concurrency: "concurrency \(p.concurrency)")
    if let refusal = RadosBenchLimits(config: config).refusal(
      mode: .write, opSize: options.opSize, concurrentIOs: options.concurrentIOs, names: names)
    {
      throw ProfileError("\(profile.path): \(refusal)")
    }
  }

  /// `loligo cluster up` for the profile's cluster and pool in `directory`.
  static func clusterUpArguments(_ profile: Profile, directory: String) -> [String] {
    let p = profile.poolRun
    return [
      "cluster", "up", "--mons", String(p.mons), "--osds", String(p.osds), "--objectstore",
      p.objectStore, "--dir", directory, "--pool", p.poolName, "--pg-num", String(p.pgNum),
      "--size", String(p.size),
    ] + (p.minSize > 0 ? ["--min-size", String(p.minSize)] : [])
      + profile.config.flatMap { ["--set", "\($0.0)=\($0.1)"] }
  }

  /// Runs a `loligo cluster` command; fails the profile with its last line when it fails.
  static func clusterCommand(_ tool: String, _ arguments: [String]) throws {
    let (status, output) = try DaemonProcess.run(tool, arguments)
    guard status == 0 else {
      throw ProfileError(
        "'loligo \(arguments.prefix(4).joined(separator: " "))' failed: \(output.split(separator: "\n").last ?? "")"
      )
    }
  }
}
