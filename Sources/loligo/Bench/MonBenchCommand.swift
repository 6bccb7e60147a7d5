import ArgumentParser
import Foundation
import LoligoBench
import LoligoClient
import LoligoCore
import LoligoMessages
import NIOCore

/// `loligo mon-bench`: committed `config-key set` operations per second and their latency,
/// from N concurrent clients (each its own connection, one command in flight, like a loop of
/// `ceph config-key set`). Prints one summary line; `--json` prints a document in the same form
/// as scripts/ceph-reference/monbench.py, so both systems land in one table, plus what only
/// Loligo has: `latency_histogram_ns`, every set's latency as HdrHistogram's compressed base64.
struct MonBenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mon-bench", abstract: "Measure committed config-key sets per second.",
    discussion: """
      Example:
        loligo mon-bench --clients 8 --seconds 5 --conf /tmp/c1/loligo.toml
      """)

  @Option(help: "Concurrent clients.") var clients = 1
  @Option(help: "Seconds to run.") var seconds: Double = 5
  @Option(help: "Bytes per value.") var valueBytes = 16
  @Option(help: "Tag NAME=VALUE added to the JSON (repeatable).") var tag: [String] = []
  @Flag(help: "Print the JSON document on stdout (the summary line goes to stderr).") var json =
    false
  @Option(help: "Cluster file; else $LOLIGO_CONF, else ./loligo.toml.") var conf: String?

  func validate() throws {
    guard (1...256).contains(clients) else { throw ValidationError("--clients must be 1...256") }
    guard seconds > 0 && seconds <= 3600 else {
      throw ValidationError("--seconds must be in (0, 3600]")
    }
    guard (1...MonServicesLimits.maxValue).contains(valueBytes) else {
      throw ValidationError("--value-bytes must be 1...\(MonServicesLimits.maxValue)")
    }
  }

  // Written only by its own thread; read after the DispatchGroup wait that joins the threads.
  final class Worker: @unchecked Sendable {
    let index: Int
    var histogram = LatencyHistogram()
    var errors = 0
    var errorSamples: [String] = []
    var ops = 0
    var lastKey = ""
    var lastValue = ""
    var fatal: String?
    var start: Date?
    var end: Date?
    init(index: Int) { self.index = index }
  }

  func run() throws {
    var config = try ClusterClient.config(path: conf)
    try? config.set("ms_async_op_threads", "1")
    let runID = String(UUID().uuidString.prefix(8)).lowercased()
    let value = String(repeating: "x", count: valueBytes)
    let workers = (0..<clients).map(Worker.init)
    var monClients: [MonClient] = []
    for _ in 0..<clients { monClients.append(try MonClient.connect(config: config)) }
    defer { for client in monClients { client.shutdown() } }
    // Warm up each session so connection setup is not timed.
    for client in monClients {
      _ = try? client.commandSync(["prefix": "quorum_status"], timeout: .seconds(10))
    }
    let cpuStart = ProcessInfo.processInfo.systemUptime
    let group = DispatchGroup()
    let barrier = DispatchSemaphore(value: 0)
    for (index, worker) in workers.enumerated() {
      let client = monClients[index]
      group.enter()
      Thread.detachNewThread {
        defer { group.leave() }
        barrier.wait()
        worker.start = Date()
        let stop = Date().addingTimeInterval(seconds)
        var n = 0
        while Date() < stop {
          let key = "monbench/\(runID)/\(index)/\(n)"
          let valueText = "\(value)-\(n)"
          let t0 = Cycles.now()
          do {
            let reply = try client.commandSync(
              ["prefix": "config-key set", "key": key, "val": valueText], timeout: .seconds(30))
            if reply.result == 0 {
              worker.histogram.record(nanoseconds: Cycles.toNanoseconds(Cycles.now() &- t0))
              worker.ops += 1
              worker.lastKey = key
              worker.lastValue = valueText
            } else {
              worker.errors += 1
              if worker.errorSamples.count < 3 { worker.errorSamples.append(reply.status) }
            }
          } catch {
            worker.errors += 1
            if worker.errorSamples.count < 3 { worker.errorSamples.append("\(error)") }
            if worker.errors > 100 {
              worker.fatal = "too many errors"
              break
            }
          }
          n += 1
        }
        worker.end = Date()
      }
    }
    for _ in workers { barrier.signal() }
    group.wait()
    _ = cpuStart
    var merged = LatencyHistogram()
    for worker in workers { merged.add(worker.histogram) }
    let started = workers.compactMap(\.start).min() ?? Date()
    let ended = workers.compactMap(\.end).max() ?? Date()
    let elapsed = ended.timeIntervalSince(started)
    let ops = workers.reduce(0) { $0 + $1.ops }
    let errors = workers.reduce(0) { $0 + $1.errors }
    // Read back each client's last key: committed values must be there.
    var verified = 0
    var mismatched = 0
    if let checker = monClients.first {
      for worker in workers where !worker.lastKey.isEmpty {
        let reply = try? checker.commandSync(["prefix": "config-key get", "key": worker.lastKey])
        if reply?.result == 0 && reply?.outputString == worker.lastValue {
          verified += 1
        } else {
          mismatched += 1
        }
      }
    }
    let summary = merged.summary()
    func ms(_ us: Double) -> Double { (us * 1000).rounded() / 1_000_000 }
    let fatal = workers.compactMap { $0.fatal.map { "client \($0)" } }
    let ok = fatal.isEmpty && errors == 0 && ops > 0 && mismatched == 0
    var tags: [String: String] = ["system": "loligo"]
    for item in tag {
      if let eq = item.firstIndex(of: "=") {
        tags[String(item[..<eq])] = String(item[item.index(after: eq)...])
      }
    }
    let document: [String: Any] = [
      "schema": "loligo.ceph-reference.monbench/1", "label": "loligo", "tags": tags,
      "method": "loligo MonClient config-key set, one command in flight per client",
      "mode": "threads", "clients": clients, "value_bytes": valueBytes,
      "requested_seconds": seconds, "ops": ops, "errors": errors,
      "seconds": (elapsed * 10000).rounded() / 10000,
      "ops_per_s": elapsed > 0 ? (Double(ops) / elapsed * 10).rounded() / 10 : 0,
      "mean_ms": ms(summary.meanUs), "min_ms": ms(summary.minUs), "p50_ms": ms(summary.p50Us),
      "p90_ms": ms(summary.p90Us), "p99_ms": ms(summary.p99Us), "p999_ms": ms(summary.p999Us),
      "max_ms": ms(summary.maxUs), "per_client_ops": workers.map(\.ops),
      "error_samples": Array(workers.flatMap(\.errorSamples).prefix(5)), "fatal": fatal,
      "verify": ["sampled": verified + mismatched, "ok": verified, "mismatched": mismatched],
      "ok": ok, "run_id": runID, "latency_histogram_ns": merged.encoded,
    ]
    let line = String(
      format:
        "mon-bench: %d client(s), %.2f s: %d committed sets, %.1f /s, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms; %d errors; verified %d/%d",
      clients, elapsed, ops, Double(ops) / max(elapsed, 1e-9), ms(summary.p50Us), ms(summary.p99Us),
      ms(summary.p999Us), ms(summary.maxUs), errors, verified, verified + mismatched)
    if json {
      FileHandle.standardError.write(Data((line + "\n").utf8))
      let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    } else {
      print(line)
    }
    if !ok { throw ExitCode(1) }
  }
}

enum MonServicesLimits {
  /// The monitors' `mon_config_key_max_entry_size` (64 KiB).
  static let maxValue = 64 << 10
}
