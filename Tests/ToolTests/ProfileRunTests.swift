import Foundation
import LoligoBench
import XCTest

/// `loligo profile run`: one directory per run, with the profile as run, each step's files and
/// a summary that says how far the run got, whether it succeeded or not.
final class ProfileRunTests: ProfileTestCase {
  /// Runs the profile; returns its status, stdout and stderr.
  func run(_ path: String) throws -> (Int32?, String, String) {
    let process = try ToolProcess("loligo", ["profile", "run", path, "--results", results.path])
    let status = process.wait(timeout: 180)
    return (status, process.stdout, process.stderr)
  }

  /// The one run directory under `results`.
  func runDirectory() throws -> URL {
    let runs = try FileManager.default.contentsOfDirectory(atPath: results.path)
    XCTAssertEqual(runs.count, 1, "one directory per run: \(runs)")
    return results.appendingPathComponent(try XCTUnwrap(runs.first))
  }

  func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

  /// `loligo profile show` of both files, without the comment that names the file.
  func assertSameProfile(_ original: String, _ copy: URL, line: UInt = #line) throws {
    func show(_ path: String) throws -> String {
      let process = try ToolProcess("loligo", ["profile", "show", path])
      XCTAssertEqual(process.wait(timeout: 20), 0, process.stderr, line: line)
      return process.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
        .joined(separator: "\n")
    }
    XCTAssertEqual(try show(copy.path), try show(original), line: line)
  }

  func testAPoolProfileRunIsOneDirectory() throws {
    let path = try profile(
      "tiny",
      """
      description = "one OSD, 1 s per step"
      kind = "pool"
      [cluster]
      osds = 1
      [pool]
      size = 1
      pg_num = 8
      [bench]
      seconds = 1
      block_size = "4K"
      concurrency = 4
      [config]
      ms_crc_data = true
      """)
    let (status, stdout, stderr) = try run(path)
    XCTAssertEqual(status, 0, stdout + stderr)
    let run = try runDirectory()
    XCTAssertTrue(run.lastPathComponent.hasSuffix("Z-tiny"), run.path)
    XCTAssertTrue(stdout.contains("results: \(run.path)"), stdout)
    let entries = try FileManager.default.contentsOfDirectory(atPath: run.path).sorted()
    XCTAssertEqual(entries, ["profile.toml", "steps", "summary.json"])
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(
        atPath: run.appendingPathComponent("steps").path
      ).sorted(), ["01-write", "02-seq", "03-rand"])

    let copy = try text(run.appendingPathComponent("profile.toml"))
    XCTAssertTrue(copy.contains("min_size = 0"), "defaults are filled in: \(copy)")
    XCTAssertTrue(copy.contains("ms_crc_data = true"), copy)
    try assertSameProfile(path, run.appendingPathComponent("profile.toml"))

    let summary = try json(run.appendingPathComponent("summary.json"))
    XCTAssertEqual(summary["schema"] as? String, "loligo.profile-run/1")
    XCTAssertEqual(summary["profile"] as? String, "tiny")
    XCTAssertEqual(summary["kind"] as? String, "pool")
    XCTAssertEqual(summary["status"] as? String, "ok")
    XCTAssertEqual(summary["profile_copy"] as? String, "profile.toml")
    XCTAssertNil(summary["error"])
    XCTAssertNotNil(summary["started_utc"] as? String)
    XCTAssertNotNil(summary["ended_utc"] as? String)
    let steps = try XCTUnwrap(summary["steps"] as? [[String: Any]])
    XCTAssertEqual(steps.map { $0["name"] as? String }, ["write", "seq", "rand"])
    for (offset, step) in steps.enumerated() {
      let name = try XCTUnwrap(step["name"] as? String)
      let prefix = String(format: "steps/%02d-%@", offset + 1, name)
      XCTAssertEqual(step["index"] as? Int, offset + 1)
      XCTAssertEqual(step["kind"] as? String, "rados-bench")
      XCTAssertEqual(step["status"] as? String, "ok", "\(step)")
      XCTAssertEqual(step["directory"] as? String, prefix)
      XCTAssertEqual(step["result"] as? String, "\(prefix)/result.json")
      XCTAssertEqual(step["per_second_csv"] as? String, "\(prefix)/per-second.csv")
      XCTAssertEqual(step["output"] as? String, "\(prefix)/output.txt")
      let figures = try XCTUnwrap(step["figures"] as? [String: Double], "\(step)")
      XCTAssertGreaterThan(figures["iops"] ?? 0, 0, "\(figures)")
      XCTAssertGreaterThan(figures["latency_p99_us"] ?? 0, 0, "\(figures)")
      XCTAssertEqual(figures["mismatches"], 0)

      let result = try json(run.appendingPathComponent("\(prefix)/result.json"))
      XCTAssertEqual(result["schema"] as? String, "loligo.rados-bench/2")
      XCTAssertEqual(result["per_second_csv"] as? String, "per-second.csv")
      XCTAssertEqual((result["parameters"] as? [String: Any])?["mode"] as? String, name)
      // Foundation's JSON reading may differ in the last bit between the two files' numbers.
      let iops = try XCTUnwrap((result["result"] as? [String: Any])?["iops"] as? Double)
      XCTAssertEqual(iops, figures["iops"] ?? -1, accuracy: iops * 1e-12)
      let encoded = (result["result"] as? [String: Any])?["latency_histogram_ns"] as? String
      XCTAssertEqual(
        try Double(LatencyHistogram(encoded: XCTUnwrap(encoded)).count), figures["ops"])
      let csv = try text(run.appendingPathComponent("\(prefix)/per-second.csv"))
      XCTAssertTrue(csv.hasPrefix("sec,cur_ops,started,finished,"), csv)
      let output = try text(run.appendingPathComponent("\(prefix)/output.txt"))
      XCTAssertTrue(
        output.contains(name == "write" ? "Total writes made:" : "Total reads made:"), output)
      XCTAssertTrue(stdout.contains(output), "the output shown is the output kept")
    }
  }

  func testAMessengerProfileRunIsOneDirectory() throws {
    let path = try profile(
      "msgr",
      """
      kind = "messenger"
      [client]
      numjobs = 1
      concurrency = 4
      ios = 2000
      msg_length = 4096
      """)
    let (status, stdout, stderr) = try run(path)
    XCTAssertEqual(status, 0, stdout + stderr)
    let run = try runDirectory()
    let step = run.appendingPathComponent("steps/01-perf-msgr")
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: step.path).sorted(),
      ["output.txt", "per-second.csv", "result.json"])
    let result = try json(step.appendingPathComponent("result.json"))
    XCTAssertEqual(result["schema"] as? String, "loligo.perf-msgr/2")
    XCTAssertEqual(result["name"] as? String, "msgr")
    let summary = try json(run.appendingPathComponent("summary.json"))
    XCTAssertEqual(summary["status"] as? String, "ok")
    let steps = try XCTUnwrap(summary["steps"] as? [[String: Any]])
    XCTAssertEqual(steps.count, 1)
    XCTAssertEqual(steps.first?["kind"] as? String, "perf-msgr")
    let figures = try XCTUnwrap(steps.first?["figures"] as? [String: Double])
    XCTAssertEqual(figures["replies_received"], 2000)
    XCTAssertGreaterThan(figures["msgs_per_s"] ?? 0, 0)
    try assertSameProfile(path, run.appendingPathComponent("profile.toml"))
  }

  /// The client refuses its message length: the step fails, and the summary says which and why.
  func testAFailedStepStillLeavesTheSummary() throws {
    let path = try profile(
      "toolong",
      """
      kind = "messenger"
      [client]
      msg_length = 70000
      [config]
      ms_max_message_size = "64K"
      """)
    let (status, stdout, stderr) = try run(path)
    XCTAssertNotNil(status)
    XCTAssertNotEqual(status, 0)
    XCTAssertTrue(stderr.contains("perf-msgr-client failed"), stderr)
    XCTAssertTrue(stdout.contains("perf-msgr: failed"), stdout)
    let run = try runDirectory()
    XCTAssertTrue(
      FileManager.default.fileExists(atPath: run.appendingPathComponent("profile.toml").path))
    let summary = try json(run.appendingPathComponent("summary.json"))
    XCTAssertEqual(summary["status"] as? String, "failed")
    XCTAssertTrue((summary["error"] as? String)?.contains("perf-msgr-client failed") ?? false)
    XCTAssertNotNil(summary["ended_utc"])
    let step = try XCTUnwrap((summary["steps"] as? [[String: Any]])?.first)
    XCTAssertEqual(step["status"] as? String, "failed")
    XCTAssertTrue((step["error"] as? String)?.contains("ms_max_message_size") ?? false, "\(step)")
    XCTAssertNil(step["result"], "no result for a failed step")
    XCTAssertNil(step["figures"])
    let output = try text(run.appendingPathComponent("steps/01-perf-msgr/output.txt"))
    XCTAssertTrue(output.contains("ms_max_message_size"), output)
  }

  /// A cluster that cannot come up: no step runs, and the summary lists them as not run.
  func testARunThatFailsBeforeItsStepsLeavesTheSummary() throws {
    let path = try profile(
      "nocluster",
      """
      kind = "pool"
      [cluster]
      osds = 1
      [pool]
      size = 1
      [bench]
      seconds = 1
      block_size = "4K"
      modes = ["write", "seq"]
      [config]
      mon_data = "/proc/loligo-cannot-create/$name"
      """)
    let (status, _, stderr) = try run(path)
    XCTAssertNotNil(status)
    XCTAssertNotEqual(status, 0)
    let run = try runDirectory()
    let summary = try json(run.appendingPathComponent("summary.json"))
    XCTAssertEqual(summary["status"] as? String, "failed")
    let error = try XCTUnwrap(summary["error"] as? String)
    XCTAssertTrue(error.contains("cluster up"), error)
    XCTAssertTrue(stderr.contains(error), stderr)
    let steps = try XCTUnwrap(summary["steps"] as? [[String: Any]])
    XCTAssertEqual(steps.map { $0["status"] as? String }, ["not-run", "not-run"])
    XCTAssertEqual(steps.map { $0["directory"] as? String }, ["steps/01-write", "steps/02-seq"])
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: run.appendingPathComponent("steps").path),
      "no step directory for a step that did not run")
  }
}
