import Foundation
import LoligoClient
import LoligoCore
import LoligoDaemon
import NIOCore
import XCTest

/// A full disk with real daemons: three durable OSDs (and the monitor) on one small tmpfs.
/// Writes are refused with ENOSPC before any store is touched, health names the full OSDs,
/// reads and deletes are served all along, and writes resume once space is freed, with no
/// restart; every copy of every object stays the same on all three OSDs.
final class FullDiskClusterTests: XCTestCase {
  static let options = [
    "--objectstore", "durable", "--set", "osd_heartbeat_interval=0.5",
    "--set", "osd_heartbeat_grace=4", "--set", "osd_mon_report_interval=0.5",
    "--set", "client_op_timeout=20",
  ]

  func payload(_ n: Int, size: Int) -> ByteBuffer {
    ByteBuffer(bytes: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ n) })
  }

  /// Runs a system tool, quietly; its exit status.
  @discardableResult
  func system(_ path: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return -1 }
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// The health checks `status --format json` reports.
  func healthChecks(_ cluster: TestCluster) throws -> [String: String] {
    let (status, out, _) = try cluster.loligo(["status", "--format", "json"], timeout: 20)
    guard status == 0 else { return [:] }
    let health = jsonObject(out)["health"] as? [String: Any] ?? [:]
    return health["checks"] as? [String: String] ?? [:]
  }

  /// Polls `condition` every 0.3 s for up to `timeout` seconds.
  func eventually(_ timeout: TimeInterval, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      if try condition() { return true }
      usleep(300_000)
    }
    return false
  }

  /// What each OSD holds of `name` (size, crc32c, version; or that it has none).
  func copies(_ cluster: TestCluster, pool: Int64, _ name: String) -> [String] {
    (0..<3).map { osd in
      let socket = cluster.directory.appendingPathComponent("osd.\(osd).asok").path
      let stat = jsonObject(
        (try? adminSocketRequest(path: socket, command: "object stat \(pool) \(name)")) ?? "{}")
      if stat["error"] as? String == "not here" { return "none" }
      return "\(stat["size"] ?? "?") \(stat["crc32c"] ?? "?") \(stat["version"] ?? "?")"
    }
  }

  func testFullDiskRefusesWritesServesReadsAndDeletesAndResumes() throws {
    let mount = URL(fileURLWithPath: "/tmp").appendingPathComponent(
      "lt-full-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
    guard system("/bin/mount", ["-t", "tmpfs", "-o", "size=96m", "tmpfs", mount.path]) == 0 else {
      try? FileManager.default.removeItem(at: mount)
      throw XCTSkip("mounting a tmpfs is not permitted here (needs root): no small disk to fill")
    }
    var cluster: TestCluster?
    defer {
      cluster?.tearDown()
      system("/bin/umount", [mount.path])
      try? FileManager.default.removeItem(at: mount)
    }
    let started = Date()
    cluster = try TestCluster(mons: 1, osds: 3, extra: Self.options, directory: mount)
    let c = try XCTUnwrap(cluster)
    XCTAssertEqual(try c.loligo(["pool", "create", "fp", "8", "--size", "3"]).0, 0)
    let objecter = try Objecter(config: try c.config())
    defer { objecter.shutdown() }
    _ = try objecter.waitForMap(atLeast: 5)
    let io = try IoCtx(objecter: objecter, pool: "fp")
    let pool = try XCTUnwrap(objecter.osdMap?.poolID(named: "fp"))
    for n in 0..<4 {
      try io.sync { io.writeFull("keep\(n)", data: payload(n, size: 64 << 10), completion: $0) }
    }
    XCTAssertEqual(try healthChecks(c)["OSD_FULL"], nil)

    // Fill it: 1 MiB objects until a write is refused, with ENOSPC (never EIO).
    var filled = 0
    var refusal: IoCtxError?
    while filled < 200 {
      do {
        try io.sync {
          io.writeFull("fill\(filled)", data: payload(filled, size: 1 << 20), completion: $0)
        }
        filled += 1
      } catch let error as IoCtxError {
        refusal = error
        break
      }
    }
    XCTAssertEqual(refusal, .osd(-28), "after \(filled) MiB: \(String(describing: refusal))")
    XCTAssertGreaterThan(filled, 5, "refused long before the disk was full")
    XCTAssertTrue(
      refusal?.description.contains("No space left on device (28)") ?? false,
      refusal?.description ?? "")

    // Health says so.
    var checks: [String: String] = [:]
    XCTAssertTrue(
      try eventually(20) {
        checks = try healthChecks(c)
        return checks["OSD_FULL"] != nil
      }, "no OSD_FULL: \(checks)")
    // All three share the file system: each is marked once it reports.
    var detail = ""
    XCTAssertTrue(
      try eventually(20) {
        detail = try c.loligo(["health", "detail"]).1
        return detail.contains("[ERR] OSD_FULL: 3 full osd(s)")
      }, detail)
    XCTAssertTrue(detail.hasPrefix("HEALTH_ERR"), detail)
    XCTAssertTrue(detail.contains("    osd.2 is full"), detail)
    let (_, osdDF, _) = try c.loligo(["osd", "df", "--format", "json"])
    let nodes = jsonObject(osdDF)["nodes"] as? [[String: Any]] ?? []
    XCTAssertEqual(nodes.map { $0["state"] as? String }, ["full", "full", "full"], osdDF)

    // Writes are refused cleanly: the refused new object is nowhere, an overwrite refused
    // leaves every copy of the old one as it was.
    XCTAssertEqual(copies(c, pool: pool, "fill\(filled)"), ["none", "none", "none"])
    let before = copies(c, pool: pool, "keep0")
    XCTAssertEqual(Set(before).count, 1, "\(before)")
    XCTAssertThrowsError(
      try io.sync { io.writeFull("keep0", data: payload(99, size: 1 << 20), completion: $0) }
    ) { XCTAssertEqual($0 as? IoCtxError, .osd(-28)) }
    XCTAssertEqual(copies(c, pool: pool, "keep0"), before)
    let file = c.directory.appendingPathComponent("small").path
    _ = FileManager.default.createFile(atPath: file, contents: Data(repeating: 7, count: 4096))
    let put = try c.loligo(["-p", "fp", "put", "small", file])
    XCTAssertNotEqual(put.0, 0)
    XCTAssertTrue(put.2.contains("No space left on device (28)"), put.2)

    // Reads are served.
    for n in 0..<4 {
      XCTAssertEqual(
        try io.sync { io.read("keep\(n)", completion: $0) }, payload(n, size: 64 << 10))
    }
    XCTAssertEqual(try io.sync { io.read("fill3", completion: $0) }, payload(3, size: 1 << 20))

    // Deletes are served, the space comes back, and so do writes: no restart.
    for n in 0..<filled { try io.sync { io.remove("fill\(n)", completion: $0) } }
    XCTAssertTrue(
      try eventually(30) {
        checks = try healthChecks(c)
        return checks["OSD_FULL"] == nil
      }, "OSD_FULL after the deletes: \(checks)")
    for n in 0..<8 {
      try io.sync { io.writeFull("again\(n)", data: payload(n, size: 1 << 20), completion: $0) }
    }
    for n in 0..<8 {
      XCTAssertEqual(
        try io.sync { io.read("again\(n)", completion: $0) }, payload(n, size: 1 << 20))
    }
    XCTAssertEqual(Set(copies(c, pool: pool, "again7")).count, 1)

    // Every copy of every object agrees, and no store ever failed (nothing was refused after
    // it reached a store).
    XCTAssertTrue(
      try eventually(30) {
        let (status, out, _) = try c.loligo(["status", "--format", "json"], timeout: 20)
        let pgmap = jsonObject(out)["pgmap"] as? [String: Any] ?? [:]
        let states = pgmap["pgs_by_state"] as? [[String: Any]] ?? []
        return status == 0 && states.count == 1
          && states[0]["state_name"] as? String == "active+clean"
      }, "not active+clean")
    let (scrubStatus, scrub, scrubErr) = try c.loligo(
      ["pg", "deep-scrub", "all", "--format", "json"], timeout: 60)
    XCTAssertEqual(scrubStatus, 0, scrub + scrubErr)
    XCTAssertEqual(jsonObject(scrub)["inconsistent"] as? [String], [], scrub)
    for osd in 0..<3 {
      let log =
        (try? String(
          contentsOf: c.directory.appendingPathComponent("osd.\(osd).log"), encoding: .utf8))
        ?? ""
      XCTAssertFalse(log.contains("the store failed"), "osd.\(osd): \(log.suffix(500))")
    }
    XCTAssertLessThan(Date().timeIntervalSince(started), 90, "took too long")
  }
}
