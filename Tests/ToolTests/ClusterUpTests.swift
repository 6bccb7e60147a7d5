import Foundation
import XCTest

/// `loligo cluster up|down` as a user meets it: the default pool ready for a bench, a second
/// `up` refused, a pool that cannot become active reported when the wait runs out.
final class ClusterUpTests: XCTestCase {
  func testUpWaitsForTheDefaultPoolsPGsAndRefusesASecondUp() throws {
    let directory = "/tmp/lt-up-\(UUID().uuidString.prefix(8))"
    let up = try ToolProcess(
      "loligo", ["cluster", "up", "--osds", "2", "--pg-num", "8", "--dir", directory])
    defer {
      _ = try? ToolProcess("loligo", ["cluster", "down", "--dir", directory]).wait(timeout: 60)
      try? FileManager.default.removeItem(atPath: directory)
    }
    XCTAssertEqual(up.wait(timeout: 120), 0, up.stderr)
    XCTAssertTrue(up.stdout.contains("pool 'bench' (id 1): 8 PGs active"), up.stdout)
    let conf = ["--conf", "\(directory)/loligo.toml"]
    // Every PG has an active primary: the two OSDs together lead all eight.
    var led = 0
    for osd in ["osd.0", "osd.1"] {
      let pgs = try ToolProcess("loligo", ["daemon", osd, "pg", "ls"] + conf)
      XCTAssertEqual(pgs.wait(timeout: 30), 0, pgs.stderr)
      let object = try XCTUnwrap(
        try JSONSerialization.jsonObject(with: Data(pgs.stdout.utf8)) as? [String: Any])
      let list = try XCTUnwrap(object["pgs"] as? [[String: Any]])
      led += list.filter { ($0["state"] as? String)?.hasPrefix("active") == true }.count
    }
    XCTAssertEqual(led, 8)
    // Ready at once: a bench right after `up` needs no waiting of its own.
    let bench = try ToolProcess(
      "loligo", ["-p", "bench", "bench", "1", "write", "-b", "4K", "-t", "4"] + conf)
    XCTAssertEqual(bench.wait(timeout: 60), 0, bench.stderr)
    let again = try ToolProcess("loligo", ["cluster", "up", "--osds", "2", "--dir", directory])
    XCTAssertNotEqual(again.wait(timeout: 60), 0)
    XCTAssertTrue(again.stderr.contains("a cluster is already running"), again.stderr)
  }

  func testPoolThatCannotBeActiveEndsTheWaitWithAClearError() throws {
    let directory = "/tmp/lt-up-\(UUID().uuidString.prefix(8))"
    let up = try ToolProcess(
      "loligo",
      [
        "cluster", "up", "--osds", "1", "--pg-num", "4", "--size", "3", "--min-size", "3",
        "--timeout", "6", "--dir", directory,
      ])
    defer {
      _ = try? ToolProcess("loligo", ["cluster", "down", "--dir", directory]).wait(timeout: 60)
      try? FileManager.default.removeItem(atPath: directory)
    }
    XCTAssertNotEqual(up.wait(timeout: 120), 0)
    XCTAssertTrue(
      up.stderr.contains("timed out waiting for 4 PGs of pool 'bench' active"), up.stderr)
  }
}
