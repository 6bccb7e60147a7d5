import Dispatch
import Foundation
import LoligoConsensus
import LoligoMon
import Synchronization
import XCTest

/// Deterministic simulation of 3- and 5-monitor clusters under message loss, duplication,
/// delay and reordering, partitions and crash-restarts, checked against the safety
/// invariants on every output and against recovery after the faults heal.
///
/// - Default: seeds 0 ..< 1000 (even seeds 3 monitors, odd seeds 5; four fault mixes).
/// - Long run: `LOLIGO_SIM_SEEDS=100000 swift test --disable-swift-testing --filter
///   SimulationTests/testSeeds` (`LOLIGO_SIM_FIRST_SEED` moves the start).
/// - Reproduce one seed with its full event trace: `LOLIGO_SIM_SEED=1234 swift test
///   --disable-swift-testing --filter SimulationTests/testReproduceSeed`.
final class SimulationTests: XCTestCase {
  static func environment(_ name: String) -> UInt64? {
    ProcessInfo.processInfo.environment[name].flatMap { UInt64($0) }
  }

  struct Summary {
    var runs = 0
    var threeMonitor = 0
    var fiveMonitor = 0
    var events = 0
    var messages = 0
    var maxRecovery: UInt64 = 0
    var fullSyncs = 0
    var recentSyncs = 0
    var epochs = 0
    var commits: UInt64 = 0
    var committedReplies = 0
    var failures: [SimRunResult] = []
  }

  func testSeeds() {
    let count = Self.environment("LOLIGO_SIM_SEEDS") ?? 1000
    let first = Self.environment("LOLIGO_SIM_FIRST_SEED") ?? 0
    let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
    let summary = Mutex(Summary())
    let started = Date()
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      var seed = first + UInt64(worker)
      while seed < first + count {
        let result = SimCluster(seed: seed, scenario: SimScenario(seed: seed)).run()
        summary.withLock { total in
          total.runs += 1
          if seed % 2 == 0 { total.threeMonitor += 1 } else { total.fiveMonitor += 1 }
          total.events += result.events
          total.messages += result.messagesSent
          total.maxRecovery = max(total.maxRecovery, result.recoveryTime ?? 0)
          total.fullSyncs += result.fullSyncs
          total.recentSyncs += result.recentSyncs
          total.epochs += result.epochs
          total.commits += result.commits
          total.committedReplies += result.committedReplies
          if !result.passed { total.failures.append(result) }
        }
        seed += UInt64(workers)
      }
    }
    let total = summary.withLock { $0 }
    print(
      "simulation: \(total.runs) seeds from \(first) (\(total.threeMonitor) with 3 monitors,"
        + " \(total.fiveMonitor) with 5), \(total.events) events, \(total.messages) messages,"
        + " \(total.commits) versions committed, \(total.committedReplies) client commits,"
        + " \(total.epochs) leader epochs, \(total.fullSyncs) full syncs completed,"
        + " \(total.recentSyncs) recent syncs started,"
        + " slowest recovery \(total.maxRecovery / MonitorConfig.millisecond) ms,"
        + " \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    XCTAssertEqual(total.runs, Int(count))
    for failure in total.failures.sorted(by: { $0.seed < $1.seed }).prefix(3) {
      XCTFail(failure.report)
    }
    XCTAssertTrue(total.failures.isEmpty, "failing seeds: \(total.failures.map(\.seed).sorted())")
  }

  /// A size-1 monmap under crash-restarts (mid-step included): it elects itself, commits
  /// alone and keeps its history across incarnations.
  func testSingleMonitorSeeds() {
    var failures: [SimRunResult] = []
    for seed in UInt64(0)..<100 {
      var scenario = SimScenario(seed: seed)
      scenario.monitors = 1
      scenario.crashes = true
      let result = SimCluster(seed: seed, scenario: scenario).run()
      if !result.passed { failures.append(result) }
      XCTAssertGreaterThan(result.commits, 0)
    }
    for failure in failures.prefix(2) { XCTFail(failure.report) }
  }

  /// Runs one seed (LOLIGO_SIM_SEED, or 42) with every event printed, and checks that a seed
  /// replays identically.
  func testReproduceSeed() {
    let seed = Self.environment("LOLIGO_SIM_SEED") ?? 42
    let verbose = Self.environment("LOLIGO_SIM_SEED") != nil
    let scenario = SimScenario(seed: seed)
    if verbose { print("seed \(seed): \(scenario)") }
    let cluster = SimCluster(seed: seed, scenario: scenario)
    cluster.verbose = verbose
    cluster.keepTrace = true
    let first = cluster.run()
    XCTAssertTrue(first.passed, first.report)
    let again = SimCluster(seed: seed, scenario: scenario)
    again.keepTrace = true
    let second = again.run()
    XCTAssertEqual(first.events, second.events, "a seed must replay identically")
    XCTAssertEqual(first.trace, second.trace, "a seed must replay identically")
    XCTAssertEqual(first.commits, second.commits)
  }
}
