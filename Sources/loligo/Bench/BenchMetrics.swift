import Foundation
import LoligoBench
import LoligoDaemon
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// `loligo bench --metrics-port N`: the running bench's figures in Prometheus' text format on
/// 127.0.0.1:N. Every op of the bench goes through `MeteredObjectIO`, which counts ops, bytes
/// and errors and records latency histograms (`loligo_bench_...`); once a second the figures
/// of the second just ended are kept as gauges, the rows rados bench prints.
final class BenchMetrics: Sendable {
  let counters = PerfCounters()
  let writes, reads, writeBytes, readBytes, errors, started: PerfCounters.Counter
  let writeLatency, readLatency: PerfCounters.Latency
  private let lastSecond = NIOLockedValueBox(LastSecond())
  private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  private let server: MetricsServer
  private let ticker: RepeatedTask

  /// Figures of the last whole second, and the totals at its start.
  struct LastSecond {
    var ops: UInt64 = 0
    var bytes: UInt64 = 0
    var latencySum: Double = 0
    var rates = (ops: 0.0, bytes: 0.0, latency: 0.0)
  }

  init(port: Int) throws {
    writes = counters.counter("bench", "op_w")
    reads = counters.counter("bench", "op_r")
    writeBytes = counters.counter("bench", "op_w_bytes")
    readBytes = counters.counter("bench", "op_r_bytes")
    errors = counters.counter("bench", "op_errors")
    started = counters.counter("bench", "op_started")
    writeLatency = counters.latency("bench", "op_w_latency")
    readLatency = counters.latency("bench", "op_r_latency")
    // The server's and ticker's closures reach the metrics once they exist.
    let metrics = NIOLockedValueBox<BenchMetrics?>(nil)
    do {
      server = try MetricsServer(host: "127.0.0.1", port: port, group: group) {
        metrics.withLockedValue { $0 }?.render() ?? ""
      }
    } catch {
      try? group.syncShutdownGracefully()
      throw error
    }
    ticker = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) {
      _ in metrics.withLockedValue { $0 }?.tick()
    }
    metrics.withLockedValue { $0 = self }
  }

  func stop() {
    ticker.cancel()
    server.stop()
    try? group.syncShutdownGracefully()
  }

  /// The ops and bytes finished so far, and their latency sum.
  private func totals() -> (ops: UInt64, bytes: UInt64, latency: Double) {
    (
      writes.current + reads.current, writeBytes.current + readBytes.current,
      writeLatency.sumSeconds + readLatency.sumSeconds
    )
  }

  private func tick() {
    let now = totals()
    lastSecond.withLockedValue { last in
      let ops = now.ops - last.ops
      last.rates = (
        Double(ops), Double(now.bytes - last.bytes),
        ops > 0 ? (now.latency - last.latencySum) / Double(ops) : 0
      )
      (last.ops, last.bytes, last.latencySum) = now
    }
  }

  func render() -> String {
    var out = PrometheusText()
    counters.write(to: &out)
    let finished = totals().ops + errors.current
    out.gauge(
      "loligo_bench_ops_in_flight", help: "ops the bench has started and not seen finish",
      Double(started.current &- finished))
    let rates = lastSecond.withLockedValue { $0.rates }
    out.gauge("loligo_bench_ops_per_second", help: "ops finished in the last second", rates.ops)
    out.gauge(
      "loligo_bench_bytes_per_second", help: "bytes written or read in the last second",
      rates.bytes)
    out.gauge(
      "loligo_bench_latency_seconds", help: "mean latency of the ops of the last second",
      rates.latency)
    return out.text
  }
}
