import Foundation
import XCTest

@testable import LoligoPeering

/// Deterministic simulation of peering, replication, recovery and backfill: seeded runs of 4-6
/// OSDs (durable disks, or memory disks that return empty) under crashes and restarts, out and
/// in, message loss, delay, duplication and reordering, damaged copies and disks out of room
/// for a while (writes refused with ENOSPC, or logged without their data by a member and
/// recovered once it has room), with clients writing and reading all
/// along; every answer and activation is checked, and after the faults heal every PG must be
/// clean with every copy equal.
///
/// - Default: seeds 0 ..< 500.
/// - More: `LOLIGO_PEERING_SEEDS=20000 swift test --filter PeeringSimulationTests/testSeeds`
///   (`LOLIGO_PEERING_FIRST_SEED` moves the start).
/// - One seed with its event trace: `LOLIGO_PEERING_SEED=17 swift test --filter
///   PeeringSimulationTests/testReproduceSeed`.
final class PeeringSimulationTests: XCTestCase {
  static func environment(_ name: String) -> UInt64? {
    ProcessInfo.processInfo.environment[name].flatMap { UInt64($0) }
  }

  static func options(seed: UInt64) -> PeeringSim.Options {
    var options = PeeringSim.Options()
    options.osds = 4 + Int(seed % 3)
    options.durable = seed % 4 != 3
    options.loss = seed % 5 == 0 ? 0 : 0.02
    options.duplication = seed % 7 == 0 ? 0.05 : 0.01
    options.minLogEntries = seed % 6 == 1 ? 8 : 250  // short logs force backfill
    options.maxLogEntries = seed % 6 == 1 ? 16 : 10_000
    options.corruptions = seed % 3 == 2 ? 4 : 0
    options.fullDisks = seed % 5 == 2 ? 3 : 0
    return options
  }

  func testSeeds() throws {
    let count = Self.environment("LOLIGO_PEERING_SEEDS") ?? 500
    let first = Self.environment("LOLIGO_PEERING_FIRST_SEED") ?? 0
    var failures: [String] = []
    var acks = 0
    var reads = 0
    var activations = 0
    var readRepairs = 0
    var refused = 0
    var dataRefusals = 0
    var refusedLogged = 0
    for seed in first..<(first + count) {
      let sim = try PeeringSim(seed: seed, options: Self.options(seed: seed))
      let problems = sim.run()
      acks += sim.checker.acks
      reads += sim.checker.reads
      activations += sim.checker.activations
      readRepairs += sim.readRepairs
      refused += sim.checker.refused
      dataRefusals += sim.dataRefusals
      refusedLogged += sim.checker.refusedLogged
      if !problems.isEmpty {
        failures.append("seed \(seed): \(problems.prefix(3).joined(separator: " | "))")
        if failures.count >= 5 { break }
      }
    }
    XCTAssertEqual(failures, [], "reproduce with LOLIGO_PEERING_SEED=<seed>")
    XCTAssertGreaterThan(
      acks, Int(count) * 5, "too few writes acknowledged for the runs to mean much")
    XCTAssertGreaterThan(reads, Int(count), "too few reads")
    if count >= 10 {
      XCTAssertGreaterThan(readRepairs, 0, "no read met a damaged copy")
      XCTAssertGreaterThan(refused, 0, "no write was refused for a full disk")
      XCTAssertGreaterThan(dataRefusals, 0, "no member had to refuse data")
    }
    print(
      "peering simulation: \(count) seeds, \(acks) writes acknowledged, \(reads) reads checked, \(activations) activations checked, \(readRepairs) reads repaired a damaged copy, \(refused) writes refused for lack of room, \(dataRefusals) data refusals by members, \(refusedLogged) writes refused once logged"
    )
  }

  func testReproduceSeed() throws {
    guard let seed = Self.environment("LOLIGO_PEERING_SEED") else {
      throw XCTSkip("set LOLIGO_PEERING_SEED to replay one seed with its trace")
    }
    let sim = try PeeringSim(seed: seed, options: Self.options(seed: seed), recordTrace: true)
    let problems = sim.run()
    let limit =
      Int(ProcessInfo.processInfo.environment["LOLIGO_PEERING_TRACE_LINES"] ?? "400") ?? 400
    print(sim.trace.suffix(limit).joined(separator: "\n"))
    XCTAssertEqual(problems, [])
  }
}
