import Foundation
import LoligoConsensus
import LoligoMessages
import LoligoPlacement
import NIOCore
import XCTest

@testable import LoligoMon

/// The services over an in-memory store, fed committed values the way every monitor applies
/// them (each value's transaction applied before the next, as the daemon does).
final class ServiceHarness {
  let fsid = UUID()
  let store = InMemoryMonStore()
  let services: MonServices
  private(set) var version: UInt64 = 0

  init() throws {
    let monmap = try MonMap(fsid: fsid, monHost: "a=127.0.0.1:6789")
    store.apply(MonServices.mkfs(monmap: monmap))
    services = try MonServices(store: store)
  }

  var map: OSDMap { services.osdmap.map }

  /// Commits `commands` as one value; their results in order.
  @discardableResult
  func commit(_ commands: [[String: Any]], stamp: Double = 1000) -> [CommandResult] {
    version += 1
    let proposals = commands.enumerated().map { index, fields in
      MonProposal(
        origin: 0, clientId: 1, tid: version * 1000 + UInt64(index),
        payload: MonProposalPayload(fields: fields, stamp: stamp).encoded())
    }
    let applied = services.apply(
      CommittedValue(version: version, value: ByteBuffer(), proposals: proposals, isReplay: false))
    store.apply(applied.transaction)
    return proposals.map { applied.results[MonServices.ClientKey(clientId: 1, tid: $0.tid)]! }
  }

  /// Commits one command alone.
  @discardableResult
  func run(_ command: [String: Any], stamp: Double = 1000) -> CommandResult {
    commit([command], stamp: stamp)[0]
  }

  /// Boots osd.0 ..< count, one host each, in one value.
  func bootOSDs(_ count: Int) {
    let results = commit(
      (0..<count).map {
        [
          "prefix": "osd boot", "id": $0, "addr": "127.0.0.1:\(7000 + $0)", "host": "h\($0)",
          "chooseleaf_type": 1,
        ]
      })
    XCTAssertEqual(results.map(\.code), Array(repeating: 0, count: count))
  }

  static let leaderStatus = MonStatus(
    role: .leader, electionEpoch: 2, leader: 0, quorum: RankSet([0]), firstCommitted: 1,
    lastCommitted: 1)

  /// A read command's JSON output.
  func readJSON(_ prefix: String, _ fields: [String: Any] = [:]) throws -> [String: Any] {
    let result = try XCTUnwrap(services.read(prefix, fields, status: Self.leaderStatus))
    XCTAssertEqual(result.code, 0, result.status)
    return try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(result.output.readableBytesView))
        as? [String: Any])
  }

  /// The health checks a status read reports.
  func healthChecks() throws -> [String: String] {
    let health = try readJSON("health")["health"] as? [String: Any]
    return health?["checks"] as? [String: String] ?? [:]
  }
}
