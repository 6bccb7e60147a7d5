import ArgumentParser
import Atomics
import Foundation
import LoligoBench
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoWire
import NIOCore

/// `perf-msgr-server`: the server half of the messenger benchmark, with the command line of
/// Ceph's `ceph_perf_msgr_server`. It answers every OSD op with an OSD op reply.
@main
struct PerfServer: ParsableCommand, PerfMsgrRole {
  static let configSection = "osd"
  static let tool = "perf-msgr-server"
  static let configuration = CommandConfiguration(
    commandName: tool,
    abstract: "Messenger benchmark server: answers every OSD op with a reply.",
    discussion: """
      Positional arguments are those of Ceph's ceph_perf_msgr_server. Any config option can be \
      given as --<name> <value> (e.g. --ms_async_op_threads 2, --ms_crc_data false). \
      Stop it with SIGINT or SIGTERM; it prints what it served.

      Example:
        perf-msgr-server 127.0.0.1:10001 2 0
      """)

  @Argument(
    parsing: .allUnrecognized,
    help: ArgumentHelp(
      "<bind ip:port> <server worker threads> <think time us>",
      discussion: """
        bind: address to listen on (port 0 picks one and prints it). worker threads: threads \
        that process requests and reply, like an OSD's PG threads; 0 replies inline on the \
        messenger thread (the messenger alone, no hand-off; Ceph's tool never replies with 0). \
        think time: microseconds slept on the messenger thread per request.
        """, valueName: "args"))
  var positional: [String] = []

  @OptionGroup var shared: PerfMsgrOptions<PerfServer>

  static func main() {
    let (config, arguments) = ToolSupport.configAndArguments(tool: tool, entity: "osd.0")
    do {
      var parsed = try parseAsRoot(arguments)
      guard let command = parsed as? PerfServer else {
        try parsed.run()  // --help and friends
        return
      }
      try command.serve(config: config)
    } catch {
      exit(withError: error)
    }
  }

  mutating func run() throws {}

  func serve(config baseConfig: Config) throws {
    guard positional.count == 3 else {
      ToolSupport.fail(
        Self.tool,
        "expected 3 arguments: <bind ip:port> <server worker threads> <think time us>,"
          + " got \(positional.count) (see --help)", code: 2)
    }
    let (bind, workerThreads, thinkTime) = (positional[0], positional[1], positional[2])
    var config = baseConfig
    shared.apply(to: &config, tool: Self.tool)
    let address: EntityAddr
    do {
      address = try EntityAddr(parsing: bind, nonce: 0)
    } catch {
      ToolSupport.fail(Self.tool, "\(error)", code: 2)
    }
    let workers = ToolSupport.integer(
      workerThreads, name: "server worker threads", tool: Self.tool, range: 0...1024)
    let think = ToolSupport.integer(
      thinkTime, name: "think time", tool: Self.tool, range: 0...10_000_000)
    do { try Log.shared.configure(config) } catch { ToolSupport.fail(Self.tool, "\(error)") }

    let stderr = FileHandle.standardError
    func say(_ line: String) { stderr.write(Data((line + "\n").utf8)) }
    say(" This tool won't handle connection errors alike things, ")
    say(" please ensure the proper network environment to test. ")
    say(" Or ctrl+c when meeting error and rerun. ")
    say(" using ms-public-type \(config.string(.msType))")
    if config.string(.msType) == "rdma" {
      let device = config.string(.msAsyncRdmaDeviceName)
      say("       rdma device \(device.isEmpty ? "(first)" : device)")
    }
    say("       bind ip:port \(bind)")
    say("       worker threads \(workers)")
    say("       thinktime(us) \(think)")

    ToolSupport.blockTerminationSignals()
    let dispatcher = ServerDispatcher(workers: workers, thinkTimeUs: UInt32(think))
    let messenger: Messenger
    do {
      messenger = try Messenger(
        name: EntityName(.osd, 0), config: config, policy: .statelessServer, nonce: 0)
    } catch {
      ToolSupport.fail(Self.tool, "\(error)")
    }
    messenger.setDispatcher(dispatcher)
    let bound: EntityAddr
    do {
      bound = try messenger.bind(address)
    } catch {
      messenger.shutdown()
      ToolSupport.fail(Self.tool, "\(error)")
    }
    say("       listening on \(bound.hostPort)")
    let signal = ToolSupport.waitForTermination()
    messenger.shutdown()
    dispatcher.stop()
    say(
      " served \(dispatcher.requests.load(ordering: .relaxed)) requests,"
        + " \(dispatcher.bytes.load(ordering: .relaxed)) data bytes;"
        + " stopped by signal \(signal)")
  }
}

/// Fast-dispatches OSD ops: sleeps the think time on the messenger thread (as Ceph's tool
/// does), then lets a worker send the reply — or replies inline when there are no workers.
final class ServerDispatcher: Dispatcher, Sendable {
  let pool: WorkerPool
  let thinkTimeUs: UInt32
  let requests = ManagedAtomic<UInt64>(0)
  let bytes = ManagedAtomic<UInt64>(0)
  /// Every reply has the same front; only the tid (in the header) differs.
  let replyFront = OSDOpReply(result: 0).encodeFront()

  init(workers: Int, thinkTimeUs: UInt32) {
    pool = WorkerPool(threads: workers, name: "tp_serv_disp")
    self.thinkTimeUs = thinkTimeUs
  }

  func dispatch(_ message: Message) {
    guard message.type == MessageType.osdOp, let connection = message.connection else { return }
    requests.wrappingIncrement(ordering: .relaxed)
    bytes.wrappingIncrement(by: UInt64(message.data.readableBytes), ordering: .relaxed)
    if thinkTimeUs > 0 { usleep(thinkTimeUs) }
    if pool.isEmpty {
      // 0 workers: reply inline on the messenger thread (Ceph's tool would never reply).
      connection.send(Message(type: MessageType.osdOpReply, tid: message.tid, front: replyFront))
      return
    }
    // The request travels with the work, so the messenger's dispatch throttle bounds what
    // queues up behind slow workers.
    let front = replyFront
    pool.submit(shard: connection.id) {
      connection.send(Message(type: MessageType.osdOpReply, tid: message.tid, front: front))
    }
  }

  func stop() { pool.stop() }
}
