import Foundation
import LoligoCore
import LoligoDaemon
import NIOPosix
import XCTest

final class DaemonSupportTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "ld-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDown() { try? FileManager.default.removeItem(at: directory) }

  func testPidFileRefusesALiveOwnerAndReplacesAStaleOne() throws {
    let path = directory.appendingPathComponent("osd.0.pid").path
    // pid 1 is always alive: another live owner.
    try "1\n".write(toFile: path, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try PidFile(path: path)) { error in
      XCTAssertEqual(error as? DaemonError, .alreadyRunning(path, 1))
    }
    // A pid that cannot exist: stale.
    try "999999999\n".write(toFile: path, atomically: true, encoding: .utf8)
    let file = try PidFile(path: path)
    XCTAssertEqual(PidFile.read(path), getpid())
    file.remove()
    XCTAssertFalse(FileManager.default.fileExists(atPath: path))
  }

  func testAdminSocketAnswersCommands() throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    defer { try? group.syncShutdownGracefully() }
    let path = directory.appendingPathComponent("osd.0.asok").path
    let socket = AdminSocket(path: path)
    let counters = PerfCounters()
    counters.counter("osd", "op").add(3)
    counters.latency("osd", "op_latency").record(nanoseconds: 2_000_000)
    socket.register("perf dump", help: "counters") { _ in counters.dump() }
    socket.register("echo", help: "echo") { words in ["words": Array(words.dropFirst())] }
    try socket.start(group: group)
    defer { socket.stop() }

    let dump = try adminSocketRequest(path: path, command: "perf dump")
    let json = try JSONSerialization.jsonObject(with: Data(dump.utf8)) as! [String: Any]
    let osd = json["osd"] as! [String: Any]
    XCTAssertEqual(osd["op"] as? Int, 3)
    XCTAssertEqual((osd["op_latency"] as! [String: Any])["avgcount"] as? Int, 1)
    XCTAssertTrue(try adminSocketRequest(path: path, command: "echo a b").contains("\"a\""))
    XCTAssertTrue(
      try adminSocketRequest(path: path, command: "nonsense").contains("unknown command"))
    XCTAssertTrue(try adminSocketRequest(path: path, command: "help").contains("perf dump"))
  }

  func testMissingSocketIsAClearError() {
    XCTAssertThrowsError(
      try adminSocketRequest(path: directory.appendingPathComponent("none").path, command: "help"))
  }

  func testConfigPathsExpandMetavariables() throws {
    var config = Config()
    try config.set("run_dir", "/tmp/c1")
    XCTAssertEqual(config.path(.monData, entity: "mon.a"), "/tmp/c1/mon.a")
    XCTAssertEqual(config.path(.adminSocket, entity: "osd.3"), "/tmp/c1/osd.3.asok")
    try config.set("osd_data", "/data/$type-$id")
    XCTAssertEqual(config.path(.osdData, entity: "osd.12"), "/data/osd-12")
  }
}
