import Foundation
import XCTest

/// `loligo bench` against real daemons.
final class BenchClusterTests: XCTestCase {
  func testWriteSeqRandVerifyAndCleanup() throws {
    let cluster = try TestCluster(mons: 1, osds: 3)
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "b", "16", "--size", "3"]).0, 0)
    let write = try cluster.loligo([
      "-p", "b", "bench", "2", "write", "-b", "4K", "-t", "8", "--no-cleanup",
    ])
    XCTAssertEqual(write.0, 0, write.2)
    for label in [
      "Total time run:", "Total writes made:", "Bandwidth (MB/sec):", "Average IOPS:",
      "p99 latency(s):",
    ] {
      XCTAssertTrue(write.1.contains(label), "write lacks \(label)")
    }
    XCTAssertNotNil(
      write.1.range(
        of: #"(?m)^ +sec +Cur ops +started +finished +avg MB/s"#, options: .regularExpression))
    for mode in ["seq", "rand"] {
      let read = try cluster.loligo(["-p", "b", "bench", "2", mode])
      XCTAssertEqual(read.0, 0, read.2)
      XCTAssertTrue(read.1.contains("Total reads made:"), read.1)
      XCTAssertFalse((read.1 + read.2).contains("not correct"))
    }
    // One changed byte in one object: the reads (checked by crc) must call it out.
    let names = try cluster.loligo(["-p", "b", "ls"]).1.split(separator: "\n").map(String.init)
    let victim = try XCTUnwrap(names.first { $0.contains("_object") })
    let file = NSTemporaryDirectory() + "victim-\(getpid())"
    defer { try? FileManager.default.removeItem(atPath: file) }
    XCTAssertEqual(try cluster.loligo(["-p", "b", "get", victim, file]).0, 0)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
    bytes[bytes.count - 1] ^= 0x01
    try bytes.write(to: URL(fileURLWithPath: file))
    XCTAssertEqual(try cluster.loligo(["-p", "b", "put", victim, file]).0, 0)
    let damaged = try cluster.loligo(["-p", "b", "bench", "2", "seq"])
    XCTAssertTrue((damaged.1 + damaged.2).contains("\(victim) is not correct!"), damaged.1)
    let json = try cluster.loligo(["-p", "b", "bench", "1", "seq", "--format", "json"])
    let document = jsonObject(json.1)
    XCTAssertNotNil(document["average_iops"] as? Int, json.1)
    let cleanup = try cluster.loligo(["-p", "b", "cleanup"])
    XCTAssertEqual(cleanup.0, 0, cleanup.2)
    XCTAssertEqual(try cluster.loligo(["-p", "b", "ls"]).1, "")
    let missing = try cluster.loligo(["-p", "b", "bench", "1", "seq"])
    XCTAssertNotEqual(missing.0, 0)
    XCTAssertTrue(
      (missing.1 + missing.2).contains("Must write data before running a read benchmark!"))
    let noPool = try cluster.loligo(["-p", "nope", "bench", "1", "write"])
    XCTAssertNotEqual(noPool.0, 0)
    XCTAssertTrue(noPool.2.contains("does not exist"), noPool.2)
  }

  /// Kill -9 of one OSD of three during a size-3 write bench: the bench goes on once the map
  /// marks it down, and the reads find every object intact.
  func testBenchSurvivesAnOSDKill() throws {
    let cluster = try TestCluster(
      mons: 1, osds: 3,
      extra: ["--set", "osd_heartbeat_interval=0.5", "--set", "osd_heartbeat_grace=2"])
    defer { cluster.tearDown() }
    XCTAssertEqual(
      try cluster.loligo(["pool", "create", "b", "16", "--size", "3", "--min-size", "2"]).0, 0)
    let bench = try ToolProcess(
      "loligo",
      [
        "-p", "b", "bench", "8", "write", "-b", "4K", "-t", "8", "--no-cleanup", "--conf",
        cluster.conf,
      ])
    usleep(2_000_000)
    kill(try XCTUnwrap(cluster.pid("osd.2")), SIGKILL)
    XCTAssertEqual(bench.wait(timeout: 90), 0, bench.stderr)
    let rows = bench.stdout.split(separator: "\n").filter {
      $0.range(of: #"^ +\d+ +\d+"#, options: .regularExpression) != nil
    }
    XCTAssertGreaterThanOrEqual(rows.count, 8, "a row per second throughout")
    let seq = try cluster.loligo(["-p", "b", "bench", "10", "seq"])
    XCTAssertEqual(seq.0, 0, seq.2)
    XCTAssertFalse((seq.1 + seq.2).contains("not correct"))
    XCTAssertTrue(seq.1.contains("Total reads made:"))
  }

  /// No OSD up for the pool: a clear message within the bench's bounded wait, not a minute
  /// of ops waiting out their timeout.
  func testBenchOnAPoolWithNoOSDUpFailsClearly() throws {
    let cluster = try TestCluster(mons: 1, osds: 0)
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "p", "8", "--size", "1"]).0, 0)
    let started = Date()
    let bench = try cluster.loligo(["-p", "p", "bench", "5", "write", "-b", "4K"], timeout: 60)
    XCTAssertNotEqual(bench.0, 0)
    XCTAssertTrue(bench.2.contains("8 of 8 placement groups have no OSD up"), bench.2)
    XCTAssertLessThan(Date().timeIntervalSince(started), 45, "the wait is bounded")
  }

  /// An OSD that stops answering mid-run: the bench fails with the timeout and does not then
  /// wait it out again for every object it would remove.
  func testUnansweredOpsFailTheBenchWithoutACleanupWait() throws {
    let cluster = try TestCluster(
      mons: 1, osds: 1, extra: ["--set", "client_op_timeout=2"])
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "p", "8", "--size", "1"]).0, 0)
    let osd = try XCTUnwrap(cluster.pid("osd.0"))
    let bench = try ToolProcess(
      "loligo", ["-p", "p", "bench", "30", "write", "-b", "4K", "-t", "4", "--conf", cluster.conf])
    usleep(1_500_000)
    kill(osd, SIGSTOP)
    defer { kill(osd, SIGCONT) }
    let status = bench.wait(timeout: 20)
    XCTAssertNotNil(status, "the bench ends within the op timeout, not after 30 s")
    XCTAssertNotEqual(status, 0)
    XCTAssertTrue(bench.stderr.contains("timed out"), bench.stderr)
    XCTAssertTrue(bench.stderr.contains("not cleaning up"), bench.stderr)
  }
}
