import Foundation

/// Runs a recovery profile end to end: `cluster up` in a fresh directory (the profile's pool,
/// its PGs active), the recovery step (`RecoveryStep`: prefill, the client load with the OSD
/// out and back in, the read-back of every block), `cluster down` always.
struct RecoveryProfileRunner {
  let profile: Profile
  let profileRun: ProfileRun

  static func steps(_ profile: Profile) -> [(name: String, kind: ProfileStepKind)] {
    [("recovery", .recovery)]
  }

  /// What the bench would refuse (the load's writes, the prefill's whole objects), refused
  /// before the cluster comes up.
  static func check(_ profile: Profile) throws {
    try PoolProfileRunner.checkBenchSteps(profile)
    try PoolProfileRunner.checkWrite(
      profile, blockSize: profile.recoveryRun.prefillSize, name: "prefill_size")
  }

  func run() throws {
    let p = profile.poolRun
    let r = profile.recoveryRun
    let tool = ClusterCommand.tool("loligo")
    let directory = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("loligo-\(profile.name)-\(getpid())").path
    let started = Date()
    try PoolProfileRunner.clusterCommand(
      tool, PoolProfileRunner.clusterUpArguments(profile, directory: directory))
    defer {
      _ = try? DaemonProcess.run(tool, ["cluster", "down", "--dir", directory])
      try? FileManager.default.removeItem(atPath: directory)
      say("cluster stopped")
    }
    let layout = ClusterLayout(directory: directory)
    say(String(format: "cluster ready in %.1f s", Date().timeIntervalSince(started)))
    var result: RecoveryResult?
    let command = [
      "loligo", "profile", "run", profile.path,
      "(in process): prefill \(r.prefillObjects) x "
        + "\(r.prefillSize), \(p.blockSize) overwrites with \(p.concurrency) in flight, "
        + "osd.\(r.osd) \(r.action.rawValue) after \(r.preTime) s, back once clean, "
        + "\(r.postTime) s more, read-back",
    ]
    let succeeded = try profileRun.runInProcessStep(1, command: command) { stepDirectory, log in
      let step = try RecoveryStep(profile: profile, layout: layout, log: log)
        .run(in: stepDirectory)
      result = step.result
      if let failure = step.failure { throw ProfileError(failure) }
    }
    if let result { try profileRun.record(recovery: RecoverySummary(result.result)) }
    guard succeeded else {
      throw ProfileError("step recovery failed: \(profileRun.summary.steps[0].error ?? "")")
    }
  }
}
