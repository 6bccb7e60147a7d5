import Foundation
import LoligoBench
import LoligoClient

/// The recovery step of a recovery profile: the dataset is prefilled; the client load runs
/// throughout; after `pre_time` the OSD is taken away; once every PG is active+clean again it
/// is brought back; once clean again the load runs `post_time` more and stops; then every block
/// is read back. Every second gives one row (the load's acknowledged writes in that second, the
/// PG map); the status and the PG counters are asked four times a second while recovering, so
/// a time to clean is known to about a quarter of a second plus the OSDs' report interval.
struct RecoveryStep {
  let profile: Profile
  let layout: ClusterLayout
  let log: (String) -> Void

  /// Status polls per second while recovering (once a second otherwise).
  static let pollsPerSecond = 4

  /// Runs the step; writes `result.json` and `per-second.csv` into `directory`. Returns the
  /// result, and why the run failed once it had figures (a recovery that timed out, a failed
  /// write, a lost one); throws what failed before.
  func run(in directory: URL) throws -> (result: RecoveryResult, failure: String?) {
    let p = profile.poolRun
    let r = profile.recoveryRun
    let dataset = profile.recoveryDataset
    let config = try ClusterClient.config(path: layout.confPath)
    let client = try MonClient.connect(config: config)
    defer { client.shutdown() }
    let (io, closeIO) = try ClusterIO.open(config: config, pool: p.poolName)
    defer { closeIO() }

    var figures = RecoveryResult.Figures()
    figures.prefillSeconds = try RecoveryPrefill.run(
      io: io, dataset: dataset, concurrency: p.concurrency)
    log(
      String(
        format: "prefilled %d objects of %@ in %.2f s", dataset.objects, r.prefillSize,
        figures.prefillSeconds))
    try waitUntilClean(client)

    let osd = RecoveryOSDAction(action: r.action, osd: r.osd, layout: layout, client: client)
    let recorder = LoadLatencyRecorder()
    let load = RecoveryLoad(
      io: io, dataset: dataset, concurrency: p.concurrency, recorder: recorder)
    load.start()
    log(
      "load: \(p.blockSize) overwrites of \(dataset.objects) objects, \(p.concurrency) in "
        + "flight; osd.\(r.osd) \(r.action.rawValue) after \(r.preTime) s")
    var timeline = RecoveryTimeline()
    var failure: String?
    do {
      try drive(
        osd: osd, client: client, load: load, recorder: recorder, figures: &figures,
        timeline: &timeline)
    } catch {
      failure = "\(error)"
    }
    // The load ends in every case: a failed run must not leave it writing.
    let outcome = load.finish(timeout: 120)
    figures.ops = outcome?.acknowledged ?? 0
    figures.errors = outcome?.errors ?? 0
    figures.pre = timeline.figures(.pre)
    figures.recoveringOut = timeline.figures(.recoveringOut)
    figures.recoveringIn = timeline.figures(.recoveringIn)
    figures.post = timeline.figures(.post)
    figures.recovering = timeline.figures(nil)
    // Counters reach the PG map a little after the PGs show clean: what shows up after the
    // second recovery (in post) is its own; the first one's tail shows up in the second.
    let outBytes = figures.recoveringOut.bytesRecovered
    let inBytes = figures.recoveringIn.bytesRecovered + figures.post.bytesRecovered
    figures.recoveryOutMibS = Self.rate(outBytes, figures.secondsToCleanOut)
    figures.recoveryInMibS = Self.rate(inBytes, figures.secondsToCleanIn)
    if let out = figures.secondsToCleanOut, let back = figures.secondsToCleanIn {
      figures.recoveryMibS = Self.rate(outBytes + inBytes, out + back)
    }
    if let outcome {
      log("load stopped: \(outcome.acknowledged) writes acknowledged; reading every block back")
      figures.verification = RecoveryVerification.run(
        io: io, dataset: dataset, load: outcome, concurrency: p.concurrency)
      let v = figures.verification
      log(
        "verified \(v.blocks) blocks of \(v.objectsRead) objects in "
          + String(format: "%.2f s: ", v.seconds)
          + "\(v.blocksCurrent) current, \(v.blocksUnacknowledgedVersion) at a version whose "
          + "write failed, \(v.blocksLost) lost, \(v.objectsUnreadable) objects unreadable"
          + v.examples.map { "\n  \($0)" }.joined())
    }
    let result = RecoveryResult(
      environment: RunEnvironment.current(), parameters: parameters(), result: figures)
    let writer = try ResultsWriter(.directory(directory.path), name: "recovery")
    try writer.write(json: result)
    try writer.write(csvHeader: RecoveryTimeline.csvHeader, rows: timeline.rows)
    if let failure { return (result, failure) }
    guard let outcome else { return (result, "the client load did not stop within 120 s") }
    if let error = outcome.firstError {
      return (result, "the client load failed: \(outcome.errors) writes failed, first \(error)")
    }
    guard figures.verification.passed else {
      return (
        result,
        "verification: \(figures.verification.blocksLost) blocks lost their last acknowledged "
          + "write, \(figures.verification.objectsUnreadable) objects unreadable"
      )
    }
    log(
      "clean "
        + String(
          format: "%.2f s after %@, %.2f s after %@; recovery %.1f MiB/s; client %.0f IOPS "
            + "p99 %.2f ms recovering (%.0f IOPS p99 %.2f ms before)",
          figures.secondsToCleanOut ?? .nan, r.action == .out ? "out" : "kill",
          figures.secondsToCleanIn ?? .nan, r.action == .out ? "in" : "restart",
          figures.recoveryMibS, figures.recovering.iops, figures.recovering.p99Us / 1000,
          figures.pre.iops, figures.pre.p99Us / 1000))
    return (result, nil)
  }

  /// MiB per second.
  private static func rate(_ bytes: Int, _ seconds: Double?) -> Double {
    guard let seconds, seconds > 0 else { return 0 }
    return Double(bytes) / seconds / 1_048_576
  }

  /// Waits until every PG shows active+clean (the new pool's, after the prefill), so the load
  /// starts on a healthy cluster.
  private func waitUntilClean(_ client: MonClient) throws {
    let deadline = Date().addingTimeInterval(Double(profile.recoveryRun.cleanTimeout))
    while true {
      let sample = (try? ClusterClient.json(client, ["prefix": "status"], timeout: 5))
        .map(PGMapSample.init)
      if sample?.clean == true { return }
      guard Date() < deadline else {
        throw ProfileError(
          "the pool's PGs not active+clean before the load: "
            + (sample.map { "\($0.states)" } ?? "no status"))
      }
      usleep(250_000)
    }
  }

  /// The phases, second by second, until the end of `post_time`.
  private func drive(
    osd: RecoveryOSDAction, client: MonClient, load: RecoveryLoad,
    recorder: LoadLatencyRecorder, figures: inout RecoveryResult.Figures,
    timeline: inout RecoveryTimeline
  ) throws {
    let r = profile.recoveryRun
    let start = Date()
    var phase = RecoveryPhase.pre
    var nextRow = 1
    var lastTick = start
    var tick = 0
    var sample: PGMapSample?
    var counter = RecoveredCounter()
    // The current recovery: when its action was done, the OSD map epoch that followed it, and
    // whether a status after it has shown a PG not clean yet.
    var actedAt = start
    var actionEpoch = 0
    var sawUnclean = false
    var postStart = start

    func poll() -> PGMapSample? {
      (try? ClusterClient.json(client, ["prefix": "status"], timeout: 5)).map(PGMapSample.init)
    }
    func act(_ action: () throws -> String) throws {
      actedAt = Date()
      let done = try action()
      actionEpoch = poll()?.osdmapEpoch ?? Int.max
      sawUnclean = false
      log(String(format: "%6.2f s: ", actedAt.timeIntervalSince(start)) + done)
    }

    while true {
      tick += 1
      let due = start.addingTimeInterval(Double(tick) / Double(Self.pollsPerSecond))
      let wait = due.timeIntervalSinceNow
      if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
      let now = Date()
      let elapsed = now.timeIntervalSince(start)
      let rowDue = elapsed >= Double(nextRow)
      // Taken before the phase may change at this tick: these writes were acknowledged in it.
      timeline.addLoad(recorder.take(), duration: now.timeIntervalSince(lastTick), phase: phase)
      lastTick = now
      if rowDue || phase.isRecovering {
        sample = poll()
        // Asked after the status, so it is at least as fresh: what it shows recovered belongs
        // to the phase that status is judged in.
        if let pgs = try? ClusterClient.json(client, ["prefix": "pg ls"], timeout: 5) {
          let recovered = counter.add(pgLs: pgs)
          timeline.addRecovered(bytes: recovered.bytes, objects: recovered.objects, phase: phase)
        }
      }

      if phase.isRecovering, let s = sample, s.osdmapEpoch >= actionEpoch {
        if !s.clean {
          sawUnclean = true
        } else if sawUnclean {
          let seconds = (now.timeIntervalSince(actedAt) * 1000).rounded() / 1000
          log(
            String(format: "%6.2f s: every PG active+clean, %.2f s after the ", elapsed, seconds)
              + (phase == .recoveringOut ? "action" : "return"))
          if phase == .recoveringOut {
            figures.secondsToCleanOut = seconds
            phase = .recoveringIn
            try act(osd.bringBack)
          } else {
            figures.secondsToCleanIn = seconds
            phase = .post
            postStart = now
          }
        }
      }
      if rowDue {
        log(timeline.endRow(second: nextRow, phase: phase, sample: sample))
        nextRow += 1
        if let error = load.failure { throw ProfileError("the client load failed: \(error)") }
      }
      if phase == .pre && elapsed >= Double(r.preTime) {
        phase = .recoveringOut
        try act(osd.takeAway)
      }
      if phase.isRecovering && now.timeIntervalSince(actedAt) > Double(r.cleanTimeout) {
        throw ProfileError(
          "not every PG active+clean \(r.cleanTimeout) s (clean_timeout) after the "
            + (phase == .recoveringOut ? "action" : "return") + ": "
            + (sample.map { "\($0.states)" } ?? "no status"))
      }
      if phase == .post && now.timeIntervalSince(postStart) >= Double(r.postTime) { return }
    }
  }

  private func parameters() -> RecoveryResult.Parameters {
    let p = profile.poolRun
    let r = profile.recoveryRun
    return RecoveryResult.Parameters(
      mons: p.mons, osds: p.osds, objectstore: p.objectStore, pool: p.poolName, pgNum: p.pgNum,
      size: p.size, minSize: p.minSize, prefillObjects: r.prefillObjects,
      prefillSize: r.prefillSize, blockSize: p.blockSize, concurrency: p.concurrency,
      osd: r.osd, action: r.action.rawValue, preTime: r.preTime, postTime: r.postTime,
      cleanTimeout: r.cleanTimeout)
  }
}
