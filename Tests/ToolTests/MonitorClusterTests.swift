import Foundation
import LoligoClient
import LoligoCore
import LoligoDaemon
import LoligoMessages
import LoligoWire
import XCTest

final class MonitorClusterTests: XCTestCase {
  /// One monitor (the embedded default) commits, serves reads, and reports itself.
  func testSingleMonitorCluster() throws {
    let cluster = try TestCluster(mons: 1)
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["config-key", "set", "k", "v"]).0, 0)
    let (status, value, _) = try cluster.loligo(["config-key", "get", "k"])
    XCTAssertEqual(status, 0)
    XCTAssertEqual(value.trimmingCharacters(in: .whitespacesAndNewlines), "v")
    XCTAssertEqual(try cluster.loligo(["pool", "create", "rbd", "8", "--size", "1"]).0, 0)
    let (_, json, _) = try cluster.loligo(["status", "--format", "json"])
    let report = jsonObject(json)
    XCTAssertEqual(report["quorum_names"] as? [String], ["a"])
    XCTAssertEqual((report["pools"] as? [[String: Any]])?.first?["pool_name"] as? String, "rbd")
    XCTAssertEqual((report["osdmap"] as? [String: Any])?["epoch"] as? Int, 2)
    // Bad commands: a clear error and a non-zero exit.
    let missing = try cluster.loligo(["config-key", "get", "nope"])
    XCTAssertNotEqual(missing.0, 0)
    XCTAssertTrue(missing.2.contains("doesn't exist"), missing.2)
    XCTAssertNotEqual(try cluster.loligo(["pool", "create", "bad pool", "8"]).0, 0)
    XCTAssertNotEqual(try cluster.loligo(["pool", "create", "p", "0"]).0, 0)
    XCTAssertNotEqual(try cluster.loligo(["pool", "delete", "rbd"]).0, 0, "needs confirmation")
    XCTAssertNotEqual(try cluster.loligo(["osd", "out", "7"]).0, 0, "no such OSD")
    // The admin socket answers.
    let socket = cluster.directory.appendingPathComponent("mon.a.asok").path
    XCTAssertEqual(
      jsonObject(try adminSocketRequest(path: socket, command: "mon_status"))["state"] as? String,
      "leader")
  }

  /// Kill -9 of the leader while a client keeps committing: a new leader serves within a
  /// bound; the killed monitor restarts, syncs and rejoins; every acknowledged value is on all
  /// three monitors.
  func testLeaderKillKeepsEveryAcknowledgedValue() throws {
    let cluster = try TestCluster(mons: 3)
    defer { cluster.tearDown() }
    let client = try cluster.client()
    defer { client.shutdown() }
    var acked: [String: String] = [:]
    var failures = 0
    func commit(_ index: Int) -> Bool {
      let key = "t/k\(index)"
      let value = "v\(index)"
      guard
        let reply = try? client.commandSync(
          ["prefix": "config-key set", "key": key, "val": value], timeout: .seconds(5)),
        reply.result == 0
      else {
        failures += 1
        return false
      }
      acked[key] = value
      return true
    }
    var index = 0
    while acked.count < 50 {
      XCTAssertTrue(commit(index), "commit \(index) before the kill")
      index += 1
    }
    let quorum = try cluster.loligo(["quorum-status", "--format", "json"])
    let leader = try XCTUnwrap(jsonObject(quorum.1)["quorum_leader_name"] as? String)
    let leaderPid = try XCTUnwrap(cluster.pid("mon.\(leader)"))
    kill(leaderPid, SIGKILL)
    let killed = Date()
    var firstAfter: Date?
    while Date().timeIntervalSince(killed) < 60 && acked.count < 150 {
      if commit(index), firstAfter == nil { firstAfter = Date() }
      index += 1
    }
    let failover = try XCTUnwrap(firstAfter, "no commit within 60 s of the leader's death")
    XCTAssertLessThan(failover.timeIntervalSince(killed), 45, "new leader within the bound")
    print("leader mon.\(leader) killed; next commit after \(failover.timeIntervalSince(killed)) s")

    try cluster.restart("loligo-mon", id: leader)
    let rejoinStart = Date()
    var rejoined = false
    while Date().timeIntervalSince(rejoinStart) < 60 && !rejoined {
      if let status = try? client.commandSync(["prefix": "quorum_status"], timeout: .seconds(3)),
        let names = jsonObject(status.outputString)["quorum_names"] as? [String], names.count == 3
      {
        rejoined = true
      } else {
        usleep(200_000)
      }
    }
    XCTAssertTrue(rejoined, "mon.\(leader) rejoined the quorum")
    for _ in 0..<10 {
      XCTAssertTrue(commit(index))
      index += 1
    }
    for name in ["a", "b", "c"] {
      let socket = cluster.directory.appendingPathComponent("mon.\(name).asok").path
      var missing = acked.count
      let deadline = Date().addingTimeInterval(30)
      while missing > 0 && Date() < deadline {
        let dump = jsonObject(
          (try? adminSocketRequest(path: socket, command: "config-key dump")) ?? "{}")
        missing = acked.filter { dump[$0.key] as? String != $0.value }.count
        if missing > 0 { usleep(200_000) }
      }
      XCTAssertEqual(missing, 0, "mon.\(name) lacks \(missing) acknowledged values")
    }
  }

  func testMonitorRefusesMissingOrCorruptStore() throws {
    let cluster = try TestCluster(mons: 1)
    defer { cluster.tearDown() }
    // A second monitor name that was never created.
    let missing = try ToolProcess("loligo-mon", ["--id", "zz", "--conf", cluster.conf])
    XCTAssertNotEqual(missing.wait(timeout: 20), 0)
    XCTAssertTrue(
      missing.stderr.contains("mon_host") || missing.stderr.contains("mkfs"), missing.stderr)
    // Stop mon.a, damage its store, start it again.
    if let pid = cluster.pid("mon.a") {
      kill(pid, SIGTERM)
      for _ in 0..<100 where kill(pid, 0) == 0 { usleep(50_000) }
    }
    let current = cluster.directory.appendingPathComponent("mon.a/store.db/CURRENT")
    try "garbage\n".write(to: current, atomically: true, encoding: .utf8)
    let corrupt = try ToolProcess("loligo-mon", ["--id", "a", "--conf", cluster.conf])
    XCTAssertEqual(corrupt.wait(timeout: 20), 1)
    XCTAssertTrue(corrupt.stderr.contains("store"), corrupt.stderr)
  }

  /// A subscriber hears of each new OSD map epoch.
  func testOSDMapSubscription() throws {
    let cluster = try TestCluster(mons: 1)
    defer { cluster.tearDown() }
    let client = try cluster.client()
    defer { client.shutdown() }
    let epochs = EpochRecorder()
    client.onMap(MessageType.osdMap) { message in
      if let update = try? OSDMapUpdate(message) { epochs.record(update.newest) }
    }
    client.subscribe("osdmap", from: 0)
    XCTAssertEqual(
      try client.commandSync(["prefix": "osd pool create", "pool": "a", "pg_num": 4, "size": 1])
        .result, 0)
    XCTAssertEqual(
      try client.commandSync(["prefix": "osd pool create", "pool": "b", "pg_num": 4, "size": 1])
        .result, 0)
    let deadline = Date().addingTimeInterval(10)
    while epochs.latest < 3 && Date() < deadline { usleep(20_000) }
    XCTAssertEqual(epochs.latest, 3)
  }
}

final class EpochRecorder: @unchecked Sendable {
  private let lock = NSLock()
  private var value: UInt32 = 0
  func record(_ epoch: UInt32) { lock.withLock { value = max(value, epoch) } }
  var latest: UInt32 { lock.withLock { value } }
}
