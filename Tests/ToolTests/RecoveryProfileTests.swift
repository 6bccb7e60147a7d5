import Foundation
import LoligoBench
import XCTest

/// `loligo profile run` of a recovery profile with real daemons: one run directory whose
/// recovery step prefills the pool, runs a client load while an OSD goes out (or is killed) and
/// comes back, and reads every block back at its last acknowledged version; and recovery
/// profiles with bad fields refused before anything starts.
final class RecoveryProfileTests: ProfileTestCase {
  /// A small recovery profile: 4 OSDs, size 3, 8 PGs, a short load.
  func smallProfile(action: String) -> String {
    """
    description = "small recovery"
    kind = "recovery"
    [cluster]
    osds = 4
    [pool]
    pg_num = 8
    size = 3
    prefill_objects = 40
    prefill_size = "16K"
    [bench]
    block_size = "4K"
    concurrency = 4
    [recovery]
    osd = 1
    action = "\(action)"
    pre_time = 2
    post_time = 1
    clean_timeout = 120
    """
  }

  /// Runs `path`; checks what every recovery run must leave, returns the run directory and
  /// the recovery step's per-second rows.
  func runAndCheck(_ path: String) throws -> (URL, [[String]]) {
    let process = try ToolProcess("loligo", ["profile", "run", path, "--results", results.path])
    let status = process.wait(timeout: 400)
    let stdout = process.stdout
    XCTAssertEqual(status, 0, stdout + process.stderr)
    let runs = try FileManager.default.contentsOfDirectory(atPath: results.path)
    XCTAssertEqual(runs.count, 1, "one directory per run: \(runs)")
    let run = results.appendingPathComponent(try XCTUnwrap(runs.first))
    let files = FileManager.default
    XCTAssertEqual(
      try files.contentsOfDirectory(atPath: run.path).sorted(),
      ["profile.toml", "steps", "summary.json"])
    XCTAssertEqual(
      try files.contentsOfDirectory(atPath: run.appendingPathComponent("steps").path).sorted(),
      ["01-recovery"])
    let step = run.appendingPathComponent("steps/01-recovery")
    XCTAssertEqual(
      try files.contentsOfDirectory(atPath: step.path).sorted(),
      ["output.txt", "per-second.csv", "result.json"])

    let summary = try json(run.appendingPathComponent("summary.json"))
    XCTAssertEqual(summary["schema"] as? String, "loligo.profile-run/1")
    XCTAssertEqual(summary["kind"] as? String, "recovery")
    XCTAssertEqual(summary["status"] as? String, "ok")
    let steps = try XCTUnwrap(summary["steps"] as? [[String: Any]])
    XCTAssertEqual(steps.map { $0["name"] as? String }, ["recovery"])
    XCTAssertEqual(steps.map { $0["kind"] as? String }, ["recovery"])
    XCTAssertEqual(steps.map { $0["status"] as? String }, ["ok"])
    let stepFigures = try XCTUnwrap(steps.first?["figures"] as? [String: Double])
    XCTAssertEqual(stepFigures["verification_blocks"], 160)
    XCTAssertEqual(stepFigures["verification_blocks_lost"], 0)

    let recovery = try XCTUnwrap(summary["recovery"] as? [String: Any])
    let toCleanOut = try XCTUnwrap(recovery["seconds_to_clean_out"] as? Double, "\(recovery)")
    let toCleanIn = try XCTUnwrap(recovery["seconds_to_clean_in"] as? Double, "\(recovery)")
    XCTAssertGreaterThan(toCleanOut, 0)
    XCTAssertGreaterThan(toCleanIn, 0)
    XCTAssertEqual(recovery["verified"] as? Bool, true, "\(recovery)")
    // 40 objects of 16 KiB in 4 KiB blocks.
    XCTAssertEqual(recovery["blocks_verified"] as? Int, 160)
    XCTAssertEqual(recovery["blocks_lost"] as? Int, 0)
    let acknowledged = try XCTUnwrap(recovery["acknowledged_writes"] as? Int)
    XCTAssertGreaterThan(acknowledged, 0)
    let client = try XCTUnwrap(recovery["client"] as? [String: [String: Double]])
    XCTAssertEqual(
      client.keys.sorted(), ["post", "pre", "recovering", "recovering_in", "recovering_out"])
    XCTAssertGreaterThan(client["pre"]?["iops"] ?? 0, 0)
    XCTAssertGreaterThan(client["recovering"]?["iops"] ?? 0, 0)
    XCTAssertGreaterThan(client["recovering"]?["p99_us"] ?? 0, 0)
    XCTAssertTrue(stdout.contains("verification: 160 blocks read back, 0 lost"), stdout)

    let result = try json(step.appendingPathComponent("result.json"))
    XCTAssertEqual(result["schema"] as? String, "loligo.recovery/1")
    XCTAssertEqual(result["per_second_csv"] as? String, "per-second.csv")
    let figures = try XCTUnwrap(result["result"] as? [String: Any])
    XCTAssertEqual(figures["ops"] as? Int, acknowledged)
    XCTAssertEqual(figures["errors"] as? Int, 0)
    let verification = try XCTUnwrap(figures["verification"] as? [String: Any])
    XCTAssertEqual(verification["passed"] as? Bool, true)
    XCTAssertEqual(verification["objects_read"] as? Int, 40)
    XCTAssertEqual(
      (verification["blocks_current"] as? Int ?? 0)
        + (verification["blocks_unacknowledged_version"] as? Int ?? 0), 160)
    // Taking a copy away and bringing it back moved data, as the PGs' counters show.
    let out = try XCTUnwrap(figures["recovering_out"] as? [String: Any])
    XCTAssertGreaterThan(out["bytes_recovered"] as? Int ?? 0, 0, "\(out)")
    // Each phase's latency histogram holds exactly its acknowledged writes.
    let recovering = try XCTUnwrap(figures["recovering"] as? [String: Any])
    let histogram = try LatencyHistogram(
      encoded: XCTUnwrap(recovering["latency_histogram_ns"] as? String))
    XCTAssertEqual(Int(histogram.count), recovering["ops"] as? Int)

    let csv = try String(
      contentsOf: step.appendingPathComponent("per-second.csv"), encoding: .utf8)
    let lines = csv.split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    XCTAssertEqual(
      lines.first,
      [
        "second", "phase", "ops_per_s", "mib_per_s", "avg_lat_us", "p99_lat_us",
        "degraded_objects", "misplaced_objects", "recovery_bytes_per_s",
        "recovery_objects_per_s", "bytes_recovered", "objects_recovered", "pgs_active_clean",
        "pgs", "osdmap_epoch",
      ])
    let rows = Array(lines.dropFirst())
    XCTAssertTrue(rows.allSatisfy { $0.count == 15 }, csv)
    XCTAssertEqual(rows.map { $0[0] }, (1...rows.count).map(String.init), "one row a second")
    // The phases come in order; a recovery shorter than a second may have no row of its own,
    // but the output says when each one ended.
    var phases: [String] = []
    for row in rows where phases.last != row[1] { phases.append(row[1]) }
    XCTAssertEqual(phases.first, "pre", csv)
    XCTAssertEqual(phases.last, "post", csv)
    let order = ["pre", "recovering-out", "recovering-in", "post"]
    XCTAssertEqual(phases, order.filter(phases.contains), csv)
    let output = try String(contentsOf: step.appendingPathComponent("output.txt"), encoding: .utf8)
    XCTAssertTrue(
      output.contains(
        "every PG active+clean, \(String(format: "%.2f", toCleanOut)) s after the action"), output)
    XCTAssertTrue(
      output.contains(
        "every PG active+clean, \(String(format: "%.2f", toCleanIn)) s after the return"), output)
    XCTAssertTrue(
      rows.contains { $0[1] == "pre" && Double($0[2]) ?? 0 > 0 }, "the load wrote before: \(csv)")
    return (run, rows)
  }

  func testARecoveryRunTakesAnOSDOutAndInAndReadsBackEveryAcknowledgedWrite() throws {
    let path = try profile("small-out", smallProfile(action: "out"))
    let (run, _) = try runAndCheck(path)
    let output = try String(
      contentsOf: run.appendingPathComponent("steps/01-recovery/output.txt"), encoding: .utf8)
    XCTAssertTrue(output.contains("osd.1 marked out"), output)
    XCTAssertTrue(output.contains("osd.1 marked in"), output)
    // The copy loads back as the same profile.
    let show = try ToolProcess(
      "loligo", ["profile", "show", run.appendingPathComponent("profile.toml").path])
    XCTAssertEqual(show.wait(timeout: 20), 0, show.stderr)
    let original = try ToolProcess("loligo", ["profile", "show", path])
    XCTAssertEqual(original.wait(timeout: 20), 0, original.stderr)
    func body(_ text: String) -> String {
      text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
    }
    XCTAssertEqual(body(show.stdout), body(original.stdout))
    XCTAssertTrue(show.stdout.contains("action = \"out\""), show.stdout)
  }

  /// kill -9 of a memstore OSD: it comes back empty and is refilled; nothing acknowledged is
  /// lost.
  func testARecoveryRunWithAKilledOSDRestartsItAndLosesNothing() throws {
    let path = try profile("small-kill", smallProfile(action: "kill"))
    let (run, _) = try runAndCheck(path)
    let output = try String(
      contentsOf: run.appendingPathComponent("steps/01-recovery/output.txt"), encoding: .utf8)
    XCTAssertTrue(output.contains("killed, marked down and out"), output)
    XCTAssertTrue(output.contains("started again"), output)
  }

  func testBadRecoveryProfilesAreRefusedBeforeAnythingStarts() throws {
    let base = "kind = \"recovery\"\n[cluster]\nosds = 4\n"
    let cases = [
      (
        "kind = \"recovery\"\n[cluster]\nosds = 3\n[pool]\nsize = 3\n",
        "needs more OSDs than the pool's size (osds 3, size 3)"
      ),
      (base + "[recovery]\nosd = 4\n", "osd must be an integer in 0...3"),
      (base + "[recovery]\naction = \"explode\"\n", "action must be \"out\" or \"kill\""),
      (base + "[bench]\nmode = \"write\"\n", "[bench] mode is not a recovery profile key"),
      (
        base + "[pool]\nprefill_size = \"6K\"\n",
        "prefill_size 6K must be a multiple of block_size 4K"
      ),
      (
        base + "[pool]\nprefill_objects = 8\n[bench]\nconcurrency = 16\n",
        "prefill_objects 8 must be at least concurrency 16"
      ),
      (base + "[recovery]\npre_tme = 5\n", "[recovery] pre_tme is not a recovery profile key"),
      (base + "[bench]\nseconds = 5\n", "[bench] seconds is not a recovery profile key"),
      (base + "[pool]\nprefill_size = \"huge\"\n", "prefill_size 'huge' is not a size"),
      (base + "[recovery]\npre_time = -1\n", "pre_time must be an integer in 0...3600"),
      (base + "[recovery]\nclean_timeout = 0\n", "clean_timeout must be an integer in 1...86400"),
      (base + "[pool]\nprefill_objects = 0\n", "prefill_objects must be an integer in 1..."),
      (
        base + "[pool]\nprefill_objects = 16\nprefill_size = \"1G\"\n",
        "prefill_size 1G: a write of 1 GiB is more than"
      ),
      (
        base + "[pool]\nprefill_objects = 1000000\nprefill_size = \"1M\"\n",
        "is 256000000 blocks, more than 100 000 000"
      ),
      ("kind = \"recover\"\n", "kind 'recover' is not supported (messenger, pool or recovery)"),
    ]
    for (index, (body, expected)) in cases.enumerated() {
      let path = try profile("bad\(index)", body)
      let process = try ToolProcess("loligo", ["profile", "run", path, "--results", results.path])
      let status = process.wait(timeout: 30)
      XCTAssertNotNil(status)
      XCTAssertNotEqual(status, 0, body)
      XCTAssertTrue(process.stderr.contains(expected), "\(body): \(process.stderr)")
      XCTAssertFalse(
        FileManager.default.fileExists(atPath: results.path),
        "no run directory for a profile refused: \(body)")
    }
  }
}
