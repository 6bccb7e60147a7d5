import Foundation
import LoligoClient
import NIOCore
import XCTest

/// Writes larger than the cluster takes and op counts beyond memory: `loligo bench`, `put` and
/// `profile run` refuse them at once with one line naming the limit and its option (before
/// connecting: no cluster runs for those), and an OSD refuses a write that gets past a client.
final class WriteLimitToolTests: XCTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("lwl-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  /// A cluster file whose monitor nobody serves, with `extra` lines in [global].
  func conf(_ extra: String = "") throws -> String {
    let path = directory.appendingPathComponent("loligo-\(UUID().uuidString.prefix(4)).toml").path
    try "[global]\nmon_host = \"a=127.0.0.1:\(freePort())\"\n\(extra)".write(
      toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// Runs `loligo` and returns (status, stderr); fails the test if it takes long (it would be
  /// trying to connect or to run).
  func loligo(_ arguments: [String], stdin: Data? = nil) throws -> (Int32?, String) {
    let started = Date()
    let process = try ToolProcess("loligo", arguments, stdin: stdin)
    let status = process.wait(timeout: 30)
    XCTAssertLessThan(Date().timeIntervalSince(started), 10, "\(arguments) was not refused at once")
    return (status, process.stderr)
  }

  func assertRefused(
    _ arguments: [String], _ expected: String, stdin: Data? = nil, line: UInt = #line
  ) throws {
    let (status, stderr) = try loligo(arguments, stdin: stdin)
    XCTAssertEqual(status, 1, "\(arguments): \(stderr)", line: line)
    let lines = stderr.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, "one line: \(stderr)", line: line)
    XCTAssertTrue(stderr.contains(expected), "\(arguments): \(stderr)", line: line)
  }

  func testBenchRefusesSizesTheClusterCannotTakeBeforeConnecting() throws {
    let conf = try conf()
    let bench = ["-p", "bench", "bench", "2", "write", "--conf", conf]
    try assertRefused(
      bench + ["-b", "1G"],
      "-b 1G: a write of 1 GiB is more than osd_max_write_size allows (90 MiB, the largest "
        + "write an OSD accepts)")
    try assertRefused(bench + ["-b", "91M"], "more than osd_max_write_size allows (90 MiB")
    try assertRefused(
      bench + ["-t", "65536", "-b", "64M"],
      "-t 65536 x -b 64M = 4 TiB in flight, more than the ")
    try assertRefused(bench + ["-b", "0"], "Invalid value for block-size: '0'")
    try assertRefused(bench + ["-b", "-4"], "Invalid value for block-size: '-4'")
    try assertRefused(bench + ["-t", "1000000000"], "Invalid value for concurrent-ios")
    try assertRefused(bench + ["-t", "-1"], "Invalid value for concurrent-ios: '-1'")
    let queue = try self.conf("ms_max_queued_bytes = \"1M\"\nosd_max_write_size = 8\n")
    try assertRefused(
      ["-p", "bench", "bench", "2", "write", "-b", "2M", "--conf", queue],
      "-b 2M: a write of 2 MiB is more than ms_max_queued_bytes allows (1 MiB")
    let message = try self.conf("ms_max_message_size = \"64K\"\n")
    try assertRefused(
      ["-p", "bench", "bench", "2", "write", "-b", "64K", "--conf", message],
      "more than ms_max_message_size allows (64 KiB less 4 KiB for the op's header")
    // A size within every limit goes on to connect (and fails there: nobody serves).
    let (status, stderr) = try loligo(bench + ["-b", "90M", "-t", "1"])
    XCTAssertNotEqual(status, 0)
    XCTAssertTrue(stderr.contains("error opening pool bench"), stderr)
    XCTAssertFalse(stderr.contains("allows"), stderr)
  }

  func testPutRefusesAnObjectLargerThanOneWrite() throws {
    let conf = try conf("osd_max_write_size = 4\n")
    let file = directory.appendingPathComponent("five-mib").path
    try Data(count: 5 << 20).write(to: URL(fileURLWithPath: file))
    try assertRefused(
      ["-p", "bench", "put", "big", file, "--conf", conf],
      "\(file): a write of 5 MiB is more than osd_max_write_size allows (4 MiB")
    try assertRefused(
      ["-p", "bench", "put", "big", "-", "--conf", conf],
      "standard input: a write of more than 4 MiB is more than osd_max_write_size allows",
      stdin: Data(count: 5 << 20))
  }

  func testAProfileWithAnOversizedStepFailsBeforeTheClusterComesUp() throws {
    let results = directory.appendingPathComponent("results").path
    let cases = [
      (
        "[bench]\nblock_size = \"1G\"\n",
        "block_size 1G: a write of 1 GiB is more than osd_max_write_size"
      ),
      (
        "[bench]\nblock_size = \"8M\"\n[config]\nosd_max_write_size = 4\n",
        "block_size 8M: a write of 8 MiB is more than osd_max_write_size allows (4 MiB"
      ),
      ("[bench]\nblock_size = \"64M\"\nconcurrency = 4096\n", "concurrency 4096 x block_size 64M"),
      ("[bench]\nblock_size = \"0\"\n", "Invalid value for block-size: '0'"),
    ]
    for (index, (body, expected)) in cases.enumerated() {
      let profile = directory.appendingPathComponent("p\(index).toml").path
      try "kind = \"pool\"\n\(body)".write(toFile: profile, atomically: true, encoding: .utf8)
      let (status, stderr) = try loligo(["profile", "run", profile, "--results", results])
      XCTAssertEqual(status, 1, stderr)
      XCTAssertTrue(stderr.contains(expected), stderr)
      XCTAssertFalse(
        FileManager.default.fileExists(atPath: results), "no run directory for a run not started")
    }
  }

  /// The OSD's own check: a write above its osd_max_write_size is answered EMSGSIZE (Ceph's
  /// OSD_WRITETOOBIG) whether it comes through the client library or through `loligo put`
  /// with a client that thinks the limit is higher, and the OSD goes on serving.
  func testTheOSDRefusesAWriteAboveOSDMaxWriteSize() throws {
    let cluster = try TestCluster(mons: 1, osds: 1, extra: ["--set", "osd_max_write_size=4"])
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", "p", "8", "--size", "1"]).0, 0)
    let objecter = try Objecter(config: try cluster.config())
    defer { objecter.shutdown() }
    let io = try IoCtx(objecter: objecter, pool: "p")
    let limit = 4 << 20
    try io.sync {
      io.writeFull("fits", data: ByteBuffer(repeating: 1, count: limit), completion: $0)
    }
    XCTAssertThrowsError(
      try io.sync {
        io.write(
          "over", offset: 0, data: ByteBuffer(repeating: 2, count: limit + 1), completion: $0)
      }
    ) { XCTAssertEqual($0 as? IoCtxError, .osd(-90)) }
    XCTAssertEqual(try io.sync { io.stat("fits", completion: $0) }.size, UInt64(limit))
    XCTAssertThrowsError(try io.sync { io.stat("over", completion: $0) }, "nothing was written")

    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: cluster.conf))
    handle.seekToEndOfFile()
    handle.write(Data("\n[client]\nosd_max_write_size = 8\n".utf8))
    try handle.close()
    let file = cluster.directory.appendingPathComponent("five-mib").path
    try Data(count: 5 << 20).write(to: URL(fileURLWithPath: file))
    let put = try cluster.loligo(["-p", "p", "put", "five", file])
    XCTAssertNotEqual(put.0, 0)
    XCTAssertTrue(put.2.contains("OSD error -90"), put.2)
    let log = try String(
      contentsOf: cluster.directory.appendingPathComponent("osd.0.log"), encoding: .utf8)
    XCTAssertTrue(log.contains("more than osd_max_write_size"), log)
    XCTAssertEqual(try cluster.loligo(["-p", "p", "stat", "fits"]).0, 0, "still serving")

    // A client whose connections may queue less than one op fails that op at once, naming
    // the limit, instead of waiting out its op timeout.
    var small = try cluster.config()
    try small.set("ms_max_queued_bytes", "1M")
    let limited = try Objecter(config: small)
    defer { limited.shutdown() }
    let limitedIO = try IoCtx(objecter: limited, pool: "p")
    XCTAssertThrowsError(
      try limitedIO.sync {
        limitedIO.writeFull(
          "queued", data: ByteBuffer(repeating: 3, count: 2 << 20), completion: $0)
      }
    ) { error in
      guard case .client(.refused(let why)) = error as? IoCtxError else {
        return XCTFail("\(error)")
      }
      XCTAssertTrue(why.contains("ms_max_queued_bytes"), why)
    }
  }
}
