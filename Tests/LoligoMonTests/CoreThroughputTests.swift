import Foundation
import LoligoConsensus
import LoligoMon
import NIOCore
import XCTest

/// CPU cost of the consensus core alone: monitors in one thread, messages encoded and decoded,
/// in-memory stores, no network or disk. Runs only with `LOLIGO_MON_BENCH=1` (best in a
/// release build: `swift test -c release --disable-swift-testing --filter CoreThroughputTests`);
/// it prints figures and asserts only that every request committed.
final class CoreThroughputTests: XCTestCase {
  func testCoreThroughput() throws {
    guard ProcessInfo.processInfo.environment["LOLIGO_MON_BENCH"] == "1" else {
      throw XCTSkip("set LOLIGO_MON_BENCH=1 to run")
    }
    for monitors in [1, 3] {
      for inFlight in [1, 64] {
        measureCore(
          monitors: monitors, inFlight: inFlight, requests: 200_000 / (inFlight == 1 ? 10 : 1))
      }
    }
  }

  func measureCore(monitors: Int, inFlight: Int, requests: Int) {
    let stores = (0..<monitors).map { _ in InMemoryMonStore() }
    var cores = (0..<monitors).map {
      MonitorCore(config: MonitorConfig(rank: $0, monitorCount: monitors), store: stores[$0])
    }
    var pending: [(to: Int, from: Int, bytes: ByteBuffer)] = []
    var head = 0
    var now: UInt64 = 1_000_000_000
    var committed = 0
    var submitted = 0
    var rounds = 0
    var proposalsInValues = 0
    func apply(_ node: Int, _ outputs: [MonOutput]) {
      for output in outputs {
        switch output {
        case .store(let transaction): stores[node].apply(transaction)
        case .send(let to, let message): pending.append((to, node, message.encoded()))
        case .reply(let reply):
          if case .committed = reply.result { committed += 1 }
        case .committed(let value) where node == 0:
          rounds += 1
          proposalsInValues += value.proposals.count
        default: break
        }
      }
    }
    func drain() {
      while head < pending.count {
        let (to, from, bytes) = pending[head]
        head += 1
        var buffer = bytes
        let message = try! MonMessage(from: &buffer)
        apply(to, cores[to].step(.message(from: from, message), now: now))
      }
      pending.removeAll(keepingCapacity: true)
      head = 0
    }
    for node in 0..<monitors { apply(node, cores[node].step(.start, now: now)) }
    drain()
    for _ in 0..<20 where cores.contains(where: { !$0.isRecovered }) {
      now += 6_000_000_000
      for node in 0..<monitors { apply(node, cores[node].step(.tick, now: now)) }
      drain()
    }
    XCTAssertTrue(cores.allSatisfy(\.isRecovered))
    var payload = ByteBufferAllocator().buffer(capacity: 64)
    payload.writeString("config-key set loligo/bench/key value-0123456789")
    let started = Date()
    while committed < requests {
      while submitted - committed < inFlight && submitted < requests {
        submitted += 1
        let node = submitted % monitors
        let request = ClientRequest(clientId: UInt64(submitted), tid: 1, payload: payload)
        apply(node, cores[node].step(.client(request), now: now))
      }
      now += 1_000
      drain()
    }
    let seconds = Date().timeIntervalSince(started)
    print(
      "core: \(monitors) monitors, \(inFlight) in flight: \(Int(Double(committed) / seconds)) proposals/s,"
        + " \(Int(Double(rounds) / seconds)) rounds/s,"
        + " \(String(format: "%.1f", Double(proposalsInValues) / Double(max(rounds, 1)))) proposals per value"
    )
    XCTAssertEqual(committed, requests)
  }
}
