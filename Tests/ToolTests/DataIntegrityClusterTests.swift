import Foundation
import LoligoCore
import XCTest

/// Data at rest with real daemons (1 monitor, 3 OSDs, a size-3 pool): a 4 MiB object's copies
/// damaged with `loligo daemon osd.N injectdataerr` (and `injectmdataerr`). With one or two
/// damaged copies `loligo get` still returns the right bytes (the primary serves from a good
/// copy and repairs its own) and a deep scrub, after a repair where a replica stayed damaged,
/// finds every copy with the right crc; with all three damaged `get` fails (EIO), never
/// returning wrong bytes; an untouched object reads throughout.
final class DataIntegrityClusterTests: XCTestCase {
  let pool = "ip"

  func testDamagedCopiesDurable() throws { try damagedCopies(objectstore: "durable") }

  func testDamagedCopiesMemstore() throws { try damagedCopies(objectstore: "memstore") }

  func damagedCopies(objectstore: String) throws {
    let cluster = try TestCluster(
      mons: 1, osds: 3, extra: RecoveryClusterTests.fast + ["--objectstore", objectstore])
    defer { cluster.tearDown() }
    XCTAssertEqual(try cluster.loligo(["pool", "create", pool, "8", "--size", "3"]).0, 0)
    try waitAllClean(cluster)
    let big = Data((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 12) })
    let small = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) })
    try put(cluster, "big", big)
    try put(cluster, "small", small)
    let (pgid, acting) = try placement(cluster, "big")
    XCTAssertEqual(acting.count, 3)
    let crc = CRC32C.checksum(Array(big), seed: 0xFFFF_FFFF)

    // One copy, the primary's: served from a good one and repaired.
    try inject(cluster, acting[0], "big", offset: 1 << 20, primary: true)
    XCTAssertEqual(try get(cluster, "big"), big, "one damaged copy (\(objectstore))")
    try assertConsistent(cluster, pgid, "after repair on read")
    for osd in acting { XCTAssertEqual(try copyCRC(cluster, osd, "big"), crc, "osd.\(osd)") }

    // Two copies: still the right bytes; a repair leaves every copy right.
    try inject(cluster, acting[0], "big", offset: 1 << 20, primary: true)
    try inject(cluster, acting[1], "big", offset: 3 << 20, primary: false)
    XCTAssertEqual(try get(cluster, "big"), big, "two damaged copies")
    XCTAssertEqual(try get(cluster, "small"), small)
    let repair = try cluster.loligo(["pg", "repair", pgid, "--format", "json"], timeout: 120)
    XCTAssertEqual(repair.0, 0, "pg repair: \(repair.1) \(repair.2)")
    try assertConsistent(cluster, pgid, "after pg repair")
    for osd in acting { XCTAssertEqual(try copyCRC(cluster, osd, "big"), crc, "osd.\(osd)") }

    // Metadata: found and repaired like data (durable: on read; memstore: by a scrub).
    try injectMetadata(cluster, acting[0], "small")
    XCTAssertEqual(try get(cluster, "small"), small, "damaged metadata")
    if objectstore == "memstore" {
      let scrub = try cluster.loligo(["pg", "repair", try placement(cluster, "small").0])
      XCTAssertEqual(scrub.0, 0, scrub.1 + scrub.2)
    }
    try assertConsistent(cluster, try placement(cluster, "small").0, "after metadata repair")

    // Every copy: an error, never wrong bytes.
    for (index, osd) in acting.enumerated() {
      try inject(cluster, osd, "big", offset: UInt64(index) << 20, primary: index == 0)
    }
    let target = cluster.directory.appendingPathComponent("all-damaged").path
    let failed = try cluster.loligo(
      ["-p", pool, "get", "big", target], timeout: 60)
    XCTAssertNotEqual(failed.0, 0, "read served with every copy damaged")
    XCTAssertTrue(
      (failed.2).lowercased().contains("input/output") || failed.2.contains("-5"), failed.2)
    XCTAssertFalse(FileManager.default.fileExists(atPath: target), "bytes written out")
    XCTAssertEqual(try get(cluster, "small"), small, "an untouched object still reads")

    // Clear answers for what is not there.
    let noPool = try cluster.loligo(["daemon", "osd.0", "injectdataerr", "nopool", "big"])
    XCTAssertNotEqual(noPool.0, 0)
    XCTAssertTrue(noPool.2.contains("no pool 'nopool'"), noPool.2)
    let noObject = try cluster.loligo(["daemon", "osd.0", "injectdataerr", pool, "nothing"])
    XCTAssertNotEqual(noObject.0, 0)
    XCTAssertTrue(noObject.2.contains("holds no copy of 'nothing'"), noObject.2)
    let past = try cluster.loligo(["daemon", "osd.0", "injectdataerr", pool, "small", "100000"])
    XCTAssertNotEqual(past.0, 0)
    XCTAssertTrue(past.2.contains("past the end"), past.2)
  }

  // MARK: helpers

  func put(_ cluster: TestCluster, _ name: String, _ data: Data) throws {
    let file = cluster.directory.appendingPathComponent("\(name).in")
    try data.write(to: file)
    let result = try cluster.loligo(["-p", pool, "put", name, file.path])
    XCTAssertEqual(result.0, 0, result.2)
  }

  func get(_ cluster: TestCluster, _ name: String) throws -> Data? {
    let file = cluster.directory.appendingPathComponent("\(name).out")
    try? FileManager.default.removeItem(at: file)
    let result = try cluster.loligo(["-p", pool, "get", name, file.path], timeout: 60)
    XCTAssertEqual(result.0, 0, "get \(name): \(result.2)")
    return try? Data(contentsOf: file)
  }

  /// The object's PG (from an OSD that holds it) and acting set, primary first.
  func placement(_ cluster: TestCluster, _ name: String) throws -> (String, [Int]) {
    let stat = jsonObject(try cluster.loligo(["daemon", "osd.0", "object", "stat", "1", name]).1)
    let pgid = try XCTUnwrap(stat["pg"] as? String, "\(stat)")
    let map = jsonObject(try cluster.loligo(["pg", "map", pgid, "--format", "json"]).1)
    return (pgid, try XCTUnwrap(map["acting"] as? [Int], "\(map)"))
  }

  func inject(_ cluster: TestCluster, _ osd: Int, _ name: String, offset: UInt64, primary: Bool)
    throws
  {
    let (status, out, err) = try cluster.loligo(
      ["daemon", "osd.\(osd)", "injectdataerr", pool, name, "\(offset)"])
    XCTAssertEqual(status, 0, err)
    let answer = jsonObject(out)
    XCTAssertEqual(answer["damaged"] as? String, "data", out)
    XCTAssertEqual(answer["offset"] as? Int, Int(offset), out)
    XCTAssertEqual(answer["bytes"] as? Int, 4, out)
    XCTAssertEqual(answer["primary"] as? Bool, primary, out)
    XCTAssertEqual(answer["osd"] as? Int, osd, out)
  }

  func injectMetadata(_ cluster: TestCluster, _ osd: Int, _ name: String) throws {
    let (status, out, err) = try cluster.loligo(
      ["daemon", "osd.\(osd)", "injectmdataerr", pool, name])
    XCTAssertEqual(status, 0, err)
    XCTAssertEqual(jsonObject(out)["damaged"] as? String, "metadata", out)
  }

  /// The crc32c of the copy osd `osd` holds, as its store reads (and checks) it.
  func copyCRC(_ cluster: TestCluster, _ osd: Int, _ name: String) throws -> UInt32? {
    let stat = jsonObject(
      try cluster.loligo(["daemon", "osd.\(osd)", "object", "stat", "1", name]).1)
    return (stat["crc32c"] as? Int).map { UInt32($0) }
  }

  func assertConsistent(_ cluster: TestCluster, _ pgid: String, _ when: String) throws {
    let (status, out, err) = try cluster.loligo(
      ["pg", "deep-scrub", pgid, "--format", "json"], timeout: 120)
    XCTAssertEqual(status, 0, "deep-scrub \(when): \(out) \(err)")
    let report = jsonObject(out)
    XCTAssertEqual(report["scrubbed"] as? Int, 1, "\(when): \(out)")
    XCTAssertEqual(report["inconsistent"] as? [String], [], "\(when): \(out)")
  }

  func waitAllClean(_ cluster: TestCluster, timeout: TimeInterval = 120) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let pgmap =
        jsonObject(try cluster.loligo(["status", "--format", "json"]).1)["pgmap"]
        as? [String: Any] ?? [:]
      let clean = (pgmap["pgs_by_state"] as? [[String: Any]] ?? [])
        .filter { $0["state_name"] as? String == "active+clean" }
        .reduce(0) { $0 + ($1["count"] as? Int ?? 0) }
      if clean > 0 && clean == pgmap["num_pgs"] as? Int { return }
      usleep(300_000)
    }
    throw XCTSkip("the cluster did not become active+clean")
  }
}
