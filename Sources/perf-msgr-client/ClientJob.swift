import Atomics
import Foundation
import LoligoBench
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoWire
import NIOCore

/// One client job: its own messenger and connection, driven entirely on that connection's event
/// loop — each reply triggers the next send inline, so the timed path has no thread hand-offs
/// on the client side. Keeps `concurrency` messages in flight until `ios` have been answered.
// loop-confined, read elsewhere after `done`; the sampler reads atomics
final class ClientJob: Dispatcher, @unchecked Sendable {
  let index: Int
  let messenger: Messenger
  let ios: Int
  let concurrency: Int
  let thinkTimeUs: UInt32
  let legacy: Bool
  private let front: ByteBuffer
  private let data: ByteBuffer
  private(set) var connection: Connection!

  // Owned by the connection's loop.
  private var sent = 0
  private var completed = 0
  private var stamps: [UInt64]
  private let stampMask: Int
  private(set) var histogram = LatencyHistogram()
  /// The latencies since the sampler last took them (`takeSecond`).
  private var second = LatencyHistogram()
  private(set) var startCycles: UInt64 = 0
  private(set) var endCycles: UInt64 = 0
  private var finished = false

  /// Read by the per-second sampler from another thread.
  let completedCount = ManagedAtomic<Int>(0)
  let latencySumNs = ManagedAtomic<UInt64>(0)

  /// Completes when every reply has arrived (or, with `legacy`, when the last message is sent).
  let done: EventLoopPromise<Void>

  init(
    index: Int, messenger: Messenger, ios: Int, concurrency: Int, thinkTimeUs: UInt32,
    messageLength: Int, legacy: Bool, data: ByteBuffer
  ) {
    self.index = index
    self.messenger = messenger
    self.ios = ios
    self.concurrency = concurrency
    self.thinkTimeUs = thinkTimeUs
    self.legacy = legacy
    self.front = OSDOp.write(object: "object-name", offset: 0, length: messageLength).encodeFront()
    self.data = data
    var slots = 1
    while slots < concurrency * 2 { slots <<= 1 }
    self.stamps = [UInt64](repeating: 0, count: slots)
    self.stampMask = slots - 1
    self.done = messenger.group.next().makePromise()
  }

  func connect(to server: EntityAddr) -> Connection {
    connection = messenger.connect(to: server)
    return connection
  }

  /// Starts sending, on the connection's loop.
  func start() {
    connection.loop.execute {
      self.startCycles = Cycles.now()
      self.fill()
    }
  }

  private func fill() {
    while sent < ios && sent - completed < concurrency {
      sent += 1
      let tid = UInt64(sent)
      stamps[Int(tid) & stampMask] = Cycles.now()
      connection.send(Message(type: MessageType.osdOp, tid: tid, front: front, data: data))
    }
    if legacy && sent == ios { finish() }
  }

  func dispatch(_ message: Message) {
    guard message.type == MessageType.osdOpReply, !finished || legacy else { return }
    let now = Cycles.now()
    let latency = Cycles.toNanoseconds(now &- stamps[Int(message.tid) & stampMask])
    histogram.record(nanoseconds: latency)
    second.record(nanoseconds: latency)
    completed += 1
    completedCount.wrappingIncrement(ordering: .relaxed)
    latencySumNs.wrappingIncrement(by: latency, ordering: .relaxed)
    if thinkTimeUs > 0 { usleep(thinkTimeUs) }
    if completed >= ios {
      finish()
    } else if !finished {
      fill()
    }
  }

  private func finish() {
    guard !finished else { return }
    finished = true
    endCycles = Cycles.now()
    done.succeed(())
  }

  func connectionReset(_ connection: Connection, reason: String) {
    guard !finished else { return }
    finished = true
    done.fail(
      MessengerError.closed("job \(index): lost the server after \(completed) replies: \(reason)"))
  }

  var repliesReceived: Int { completedCount.load(ordering: .relaxed) }

  /// The latencies recorded since the previous call, taken on the connection's loop (which
  /// owns them, so replies pay no lock for the per-second percentiles); the next second starts
  /// empty.
  func takeSecond() -> EventLoopFuture<LatencyHistogram> {
    connection.loop.submit {
      defer { self.second.reset() }
      return self.second
    }
  }
}
