import ArgumentParser
import CLoligoSys
import Foundation
import LoligoBench
import LoligoCore
import LoligoMessenger
import LoligoWire
import NIOCore

/// `perf-msgr-client`: the client half of the messenger benchmark, with the command line of
/// Ceph's `ceph_perf_msgr_client`, timed with the calibrated TSC.
@main
struct PerfClient: ParsableCommand, PerfMsgrRole {
  static let configSection = "client"
  static let tool = "perf-msgr-client"
  static let configuration = CommandConfiguration(
    commandName: tool,
    abstract: "Messenger benchmark client: sends OSD write ops and times their replies.",
    discussion: """
      Positional arguments are those of Ceph's ceph_perf_msgr_client. Each job has its own \
      messenger and connection and keeps <concurrency> messages in flight until <ios> replies \
      have arrived; the clock stops when every reply is in (--legacy: after the last send, as \
      Ceph's tool does). Any config option can be given as --<name> <value>.

      Example:
        perf-msgr-client 127.0.0.1:10001 2 16 10000 0 4096 --results Results
      """)

  @Argument(
    parsing: .allUnrecognized,
    help: ArgumentHelp(
      "<server ip:port> <numjobs> <concurrency> <ios> <think time us> <msg length>",
      discussion: """
        numjobs: client threads, each with its own messenger and connection; concurrency: \
        messages in flight per job (like iodepth in fio); ios: messages per job; think time: \
        microseconds slept per reply; msg length: data bytes per message.
        """, valueName: "args"))
  var positional: [String] = []

  @OptionGroup var shared: PerfMsgrOptions<PerfClient>

  @Option(help: "Write the JSON result to this file (and the per-second CSV beside it).")
  var json: String?

  @Option(help: "Write result.json and per-second.csv to a new run directory under this one.")
  var results: String?

  @Option(
    name: .customLong("result-dir"),
    help: "Write result.json and per-second.csv into this directory itself (a profile run's step)."
  )
  var resultDir: String?

  @Option(help: "Name of the run in the results directory and the JSON.")
  var name: String = "perf-msgr"

  @Flag(help: "Stop the clock after the last send, like Ceph's tool (may miss replies).")
  var legacy = false

  @Option(help: "Give up when no reply arrives for this many seconds (0 = wait forever).")
  var stallTimeout: Double = 30

  @Flag(help: "No per-second progress lines on stderr.")
  var quiet = false

  static func main() {
    let (config, arguments) = ToolSupport.configAndArguments(tool: tool, entity: "client")
    do {
      var parsed = try parseAsRoot(arguments)
      guard let command = parsed as? PerfClient else {
        try parsed.run()  // --help and friends
        return
      }
      command.execute(config: config)
    } catch {
      exit(withError: error)
    }
  }

  func run() throws {}

  func execute(config baseConfig: Config) {
    guard positional.count == 6 else {
      ToolSupport.fail(
        Self.tool,
        "expected 6 arguments: <server ip:port> <numjobs> <concurrency> <ios> <think time us>"
          + " <msg length>, got \(positional.count) (see --help)", code: 2)
    }
    let (server, numjobs, concurrency, ios, thinkTime, msgLength) = (
      positional[0], positional[1], positional[2], positional[3], positional[4], positional[5]
    )
    var config = baseConfig
    shared.apply(to: &config, tool: Self.tool)
    let serverAddr: EntityAddr
    do {
      serverAddr = try EntityAddr(parsing: server)
    } catch {
      ToolSupport.fail(Self.tool, "\(error)", code: 2)
    }
    let jobs = ToolSupport.integer(numjobs, name: "numjobs", tool: Self.tool, range: 1...1024)
    let depth = ToolSupport.integer(
      concurrency, name: "concurrency", tool: Self.tool, range: 1...65536)
    let count = ToolSupport.integer(ios, name: "ios", tool: Self.tool, range: 1...Int(Int32.max))
    let think = ToolSupport.integer(
      thinkTime, name: "think time", tool: Self.tool, range: 0...10_000_000)
    let maxMessage = config.int(.msMaxMessageSize)
    let length = ToolSupport.integer(
      msgLength, name: "msg length", tool: Self.tool, range: 0...Int.max)
    if length > maxMessage - 256 {
      ToolSupport.fail(
        Self.tool,
        "msg length \(length) exceeds ms_max_message_size (\(maxMessage) bytes, less 256 for the op)",
        code: 2)
    }
    // A message the connection may never queue would be refused on every send.
    let maxQueued = config.int(.msMaxQueuedBytes)
    if length > maxQueued {
      ToolSupport.fail(
        Self.tool, "msg length \(length) exceeds ms_max_queued_bytes (\(maxQueued) bytes)",
        code: 2)
    }
    guard stallTimeout >= 0 else {
      ToolSupport.fail(Self.tool, "--stall-timeout must be >= 0", code: 2)
    }
    if [json, results, resultDir].compactMap({ $0 }).count > 1 {
      ToolSupport.fail(Self.tool, "give one of --json, --results and --result-dir", code: 2)
    }
    do { try Log.shared.configure(config) } catch { ToolSupport.fail(Self.tool, "\(error)") }

    print(" using ms-public-type \(config.string(.msType))")
    if config.string(.msType) == "rdma" {
      let device = config.string(.msAsyncRdmaDeviceName)
      print("       rdma device \(device.isEmpty ? "(first)" : device)")
    }
    print("       server ip:port \(server)")
    print("       numjobs \(jobs)")
    print("       concurrency \(depth)")
    print("       ios \(count)")
    print("       thinktime(us) \(think)")
    print("       message data bytes \(length)")
    loligo_flush_stdout()

    let calibration = Cycles.initialize()
    var zeros = ByteBufferAllocator().buffer(capacity: length)
    zeros.writeRepeatingByte(0, count: length)

    // Set up every job and wait until each connection is ready, outside the timed region.
    var clientJobs: [ClientJob] = []
    for index in 0..<jobs {
      let messenger: Messenger
      do {
        messenger = try Messenger(
          name: EntityName(.client, Int64(index)), config: config, policy: .losslessClient,
          nonce: UInt32(truncatingIfNeeded: Int(getpid()) + index))
      } catch {
        ToolSupport.fail(Self.tool, "\(error)")
      }
      let job = ClientJob(
        index: index, messenger: messenger, ios: count, concurrency: depth,
        thinkTimeUs: UInt32(think), messageLength: length, legacy: legacy, data: zeros)
      messenger.setDispatcher(job)
      clientJobs.append(job)
    }
    for job in clientJobs {
      let connection = job.connect(to: serverAddr)
      do {
        try connection.ready.wait()
      } catch {
        for job in clientJobs { job.messenger.shutdown() }
        ToolSupport.fail(Self.tool, "cannot reach server \(server): \(error)")
      }
    }

    let sampler = ProgressSampler(
      jobs: clientJobs, messageLength: length, quiet: quiet, total: jobs * count)
    let cpuStart = loligo_process_cpu_ns()
    let start = Cycles.now()
    sampler.start(at: start)
    for job in clientJobs { job.start() }
    var failure: String?
    for job in clientJobs {
      if let reason = wait(for: job, sampler: sampler) {
        failure = failure ?? reason
      }
    }
    if legacy {
      // Ceph's tool stops after shutting the messengers down, without draining replies.
      for job in clientJobs { job.messenger.shutdown() }
    }
    let stop = Cycles.now()
    let received = clientJobs.reduce(0) { $0 + $1.repliesReceived }
    let cpuNs = loligo_process_cpu_ns() - cpuStart
    sampler.stop()
    if !legacy {
      for job in clientJobs { job.messenger.shutdown() }
    }
    if let failure {
      ToolSupport.fail(Self.tool, failure)
    }

    let runCycles = stop &- start
    let totalOps = jobs * count
    print(" Total op \(totalOps) run time \(Cycles.toMicroseconds(runCycles))us.")

    var merged = LatencyHistogram()
    for job in clientJobs { merged.add(job.histogram) }
    let seconds = Cycles.toSeconds(runCycles)
    // Legacy mode times the sends, as Ceph's tool does; otherwise the replies.
    let rate = Double(legacy ? totalOps : received) / seconds
    let mib = rate * Double(length) / 1_048_576
    let latency = merged.summary()
    print(
      String(
        format: " %.1f msgs/s, %.2f MB/s (MiB of message data per second), %d replies",
        rate, mib, received))
    print(
      String(
        format: " latency us: min %.1f p50 %.1f p99 %.1f p99.9 %.1f max %.1f mean %.1f",
        latency.minUs, latency.p50Us, latency.p99Us, latency.p999Us, latency.maxUs, latency.meanUs))
    var jobResults: [PerfClientResult.Job] = []
    for job in clientJobs {
      let jobCycles = job.endCycles &- job.startCycles
      let jobRate = Double(job.repliesReceived) / max(Cycles.toSeconds(jobCycles), 1e-9)
      let summary = job.histogram.summary()
      jobResults.append(
        PerfClientResult.Job(
          job: job.index, ops: job.repliesReceived, runTimeUs: Cycles.toMicroseconds(jobCycles),
          messagesPerSecond: jobRate, latency: summary,
          latencyHistogram: job.histogram.encoded))
      print(
        String(
          format: " job %d: %d replies in %llu us, %.1f msgs/s, p50 %.1f us, p99 %.1f us",
          job.index, job.repliesReceived, Cycles.toMicroseconds(jobCycles), jobRate, summary.p50Us,
          summary.p99Us))
    }
    print(" clock: \(calibration.description)")
    let cpuSeconds = Double(cpuNs) / 1e9
    let cpuPerMessage = Double(cpuNs) / 1000 / Double(max(received, 1))
    print(
      String(format: " cpu: %.3f s in this process, %.2f us per message", cpuSeconds, cpuPerMessage)
    )
    if legacy && received < totalOps {
      print(" legacy: \(totalOps - received) replies had not arrived when the clock stopped")
    }

    let location =
      results.map { ResultsLocation.newRunDirectory(under: $0) }
      ?? resultDir.map { ResultsLocation.directory($0) }
    guard json != nil || location != nil else { return }
    do {
      let writer =
        try json.map { try ResultsWriter(jsonPath: $0) } ?? ResultsWriter(location!, name: name)
      let document = PerfClientResult(
        name: name, environment: RunEnvironment.current(),
        parameters: .init(
          server: server, numjobs: jobs, concurrency: depth, ios: count, thinkTimeUs: think,
          messageLength: length, legacy: legacy, msType: config.string(.msType),
          msAsyncOpThreads: config.int(.msAsyncOpThreads), msCrcData: config.bool(.msCrcData)),
        result: .init(
          totalOps: totalOps, repliesReceived: received,
          runTimeUs: Cycles.toMicroseconds(runCycles),
          messagesPerSecond: rate, mibPerSecond: mib, latency: latency,
          latencyHistogram: merged.encoded, cpuSeconds: cpuSeconds,
          cpuUsPerMessage: cpuPerMessage),
        jobs: jobResults, perSecondCSV: writer.csvURL.lastPathComponent)
      try writer.write(json: document)
      try writer.write(csvHeader: ProgressSampler.csvHeader, rows: sampler.rows)
      print(" result: \(writer.jsonURL.path)")
    } catch {
      ToolSupport.fail(Self.tool, "cannot write results: \(error)")
    }
  }

  /// Waits for one job, failing it if no reply arrives for `stallTimeout` seconds.
  private func wait(for job: ClientJob, sampler: ProgressSampler) -> String? {
    let future = job.done.futureResult
    var lastCount = -1
    var lastProgress = Date()
    while true {
      do {
        try future.wait(timeout: .milliseconds(250))
        return nil
      } catch is TimeoutError {
        let now = job.repliesReceived
        if now != lastCount {
          lastCount = now
          lastProgress = Date()
        } else if stallTimeout > 0 && Date().timeIntervalSince(lastProgress) > stallTimeout {
          return "job \(job.index): no reply for \(Int(stallTimeout)) s after \(now) replies"
            + " (server stalled, or it has 0 worker threads)"
        }
      } catch {
        return "\(error)"
      }
    }
  }
}

struct TimeoutError: Error {}

extension EventLoopFuture {
  /// Waits up to `timeout`; throws `TimeoutError` if the future is still pending.
  func wait(timeout: TimeAmount) throws {
    let semaphore = DispatchSemaphore(value: 0)
    let box = ResultBox()
    whenComplete { result in
      box.set(result.map { _ in () })
      semaphore.signal()
    }
    if semaphore.wait(timeout: .now() + .nanoseconds(Int(timeout.nanoseconds))) == .timedOut {
      throw TimeoutError()
    }
    try box.get().get()
  }
}

private final class ResultBox: @unchecked Sendable {  // `result` under `lock`
  private let lock = NSLock()
  private var result: Result<Void, any Error>?
  func set(_ value: Result<Void, any Error>) { lock.withLock { result = value } }
  func get() -> Result<Void, any Error> { lock.withLock { result! } }
}
