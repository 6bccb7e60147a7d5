import Foundation
import LoligoBench
import LoligoCore
import NIOCore

/// Samples every job's reply count once a second, and the latency percentiles of that second's
/// replies: a row of the per-second CSV each time, and a progress line on stderr unless quiet.
// state under `lock`; `rows` read after `stop` saw the thread end
final class ProgressSampler: @unchecked Sendable {
  static let csvHeader = [
    "second", "replies", "msgs_per_s", "mib_per_s", "avg_lat_us", "total_replies", "p50_lat_us",
    "p99_lat_us", "max_lat_us",
  ]

  private let jobs: [ClientJob]
  private let messageLength: Int
  private let quiet: Bool
  private let total: Int
  private let lock = NSLock()
  private var stopped = false
  private var thread: Thread?
  private(set) var rows: [[String]] = []

  init(jobs: [ClientJob], messageLength: Int, quiet: Bool, total: Int) {
    self.jobs = jobs
    self.messageLength = messageLength
    self.quiet = quiet
    self.total = total
  }

  func start(at startCycles: UInt64) {
    let thread = Thread { self.loop(startCycles) }
    thread.name = "sampler"
    self.thread = thread
    thread.start()
  }

  func stop() {
    lock.withLock { stopped = true }
    while lock.withLock({ thread != nil && !finished }) { usleep(1000) }
  }

  private var finished = false

  /// Every job's replies of the past second, merged; nil when there were none, or when a
  /// job's loop did not answer within 100 ms (gone: shut down at the end of a run).
  private func secondPercentiles() -> LatencySummary? {
    var merged = LatencyHistogram()
    for job in jobs {
      let future = job.takeSecond()
      guard (try? future.wait(timeout: .milliseconds(100))) != nil,
        let histogram = try? future.wait()
      else { return nil }
      merged.add(histogram)
    }
    return merged.count > 0 ? merged.summary() : nil
  }

  private func loop(_ startCycles: UInt64) {
    var second = 0
    var lastReplies = 0
    var lastLatency: UInt64 = 0
    var nextTick = startCycles &+ Cycles.fromSeconds(1)
    while true {
      // Sleep in short steps so stop() returns quickly.
      while Int64(bitPattern: nextTick &- Cycles.now()) > 0 {
        if lock.withLock({ stopped }) {
          lock.withLock { finished = true }
          return
        }
        usleep(10_000)
      }
      second += 1
      nextTick = nextTick &+ Cycles.fromSeconds(1)
      let replies = jobs.reduce(0) { $0 + $1.completedCount.load(ordering: .relaxed) }
      let latency = jobs.reduce(UInt64(0)) { $0 &+ $1.latencySumNs.load(ordering: .relaxed) }
      let delta = replies - lastReplies
      let avgUs = delta > 0 ? Double(latency &- lastLatency) / Double(delta) / 1000 : 0
      let mib = Double(delta) * Double(messageLength) / 1_048_576
      lastReplies = replies
      lastLatency = latency
      let percentiles = secondPercentiles().map {
        [$0.p50Us, $0.p99Us, $0.maxUs].map { String(format: "%.1f", $0) }
      }
      let row =
        [
          String(second), String(delta), String(delta), String(format: "%.3f", mib),
          String(format: "%.1f", avgUs), String(replies),
        ] + (percentiles ?? ["", "", ""])
      lock.withLock { rows.append(row) }
      if !quiet {
        let percent = Double(replies) * 100 / Double(max(total, 1))
        FileHandle.standardError.write(
          Data(
            String(
              format: "  %4d s  %9d msgs/s  %9.2f MB/s  avg lat %8.1f us  %5.1f%% done\n", second,
              delta, mib, avgUs, percent
            ).utf8))
      }
    }
  }
}
