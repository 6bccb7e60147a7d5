import Atomics
import Foundation
import LoligoCore
import LoligoVerbs
import NIOConcurrencyHelpers
import NIOCore

/// The RDMA options a stack is built from (see ConfigOptions.swift for what each means).
public struct RDMAConfiguration: Hashable, Sendable {
  public var deviceName: String
  public var port: Int
  public var gidIndex: Int
  public var sharedReceiveQueue: Bool
  public var bufferSize: Int
  public var sendBuffers: Int
  public var receiveBuffers: Int
  public var connectionCredits: Int
  public var pollingMicroseconds: Int
  public var connectionManager: Bool
  public var zeroCopyThreshold: Int
  public var zeroCopyInflight: Int
  public var maxMessageBytes: Int

  public init(_ config: Config) {
    deviceName = config.string(.msAsyncRdmaDeviceName)
    port = config.int(.msAsyncRdmaPortNum)
    gidIndex = config.int(.msAsyncRdmaGidIdx)
    sharedReceiveQueue = config.bool(.msAsyncRdmaSupportSrq)
    bufferSize = config.int(.msAsyncRdmaBufferSize)
    sendBuffers = config.int(.msAsyncRdmaSendBuffers)
    receiveBuffers = config.int(.msAsyncRdmaReceiveBuffers)
    connectionCredits = config.int(.msAsyncRdmaConnectionCredits)
    pollingMicroseconds = config.int(.msAsyncRdmaPollingUs)
    connectionManager = config.bool(.msAsyncRdmaCm)
    zeroCopyThreshold = config.int(.msRdmaZeroCopyThreshold)
    zeroCopyInflight = config.int(.msRdmaZeroCopyInflight)
    maxMessageBytes = config.int(.msMaxMessageSize)
  }

  var isSoft: Bool { deviceName == "soft" }

  /// Bytes of registered memory the two chunk pools take.
  var poolBytes: UInt64 { UInt64(bufferSize) * UInt64(sendBuffers + receiveBuffers) }
}

/// Registered memory cut into equal chunks, with a free list.
// the free list under `lock`; memory and region fixed in init
final class ChunkPool: @unchecked Sendable {
  let base: UnsafeMutableRawPointer
  let chunkSize: Int
  let count: Int
  let region: any MemoryRegion
  private let lock = NIOLock()
  private var free: [Int32]

  init(device: any VerbsDevice, chunkSize: Int, count: Int, access: MemoryAccess) throws {
    self.chunkSize = chunkSize
    self.count = count
    // Page-aligned, and untouched pages cost nothing until a chunk is used.
    base = UnsafeMutableRawPointer.allocate(byteCount: chunkSize * count, alignment: 4096)
    do {
      region = try device.registerMemory(base, length: chunkSize * count, access: access)
    } catch {
      base.deallocate()
      throw error
    }
    free = (0..<Int32(count)).reversed().map { $0 }
  }

  func pointer(_ index: Int) -> UnsafeMutableRawPointer { base + index * chunkSize }

  func scatterGather(_ index: Int, length: Int) -> ScatterGather {
    ScatterGather(pointer(index), length: length, lkey: region.lkey)
  }

  func take() -> Int? { lock.withLock { free.popLast().map(Int.init) } }

  func take(_ n: Int) -> [Int]? {
    lock.withLock {
      guard free.count >= n else { return nil }
      let taken = free.suffix(n).map(Int.init)
      free.removeLast(n)
      return taken
    }
  }

  func give(_ index: Int) { lock.withLock { free.append(Int32(index)) } }

  var available: Int { lock.withLock { free.count } }
}

/// One device opened for the messenger, shared by every RDMA messenger of the process with the
/// same options (Ceph's RDMAStack + Infiniband + RDMADispatcher): the device, one completion
/// channel with a send and a receive completion queue, the shared receive queue, the send and
/// receive chunk pools, and the polling thread that routes completions to streams by QP number.
// mutable state under `lock`, counts atomic, the rest fixed in init
final class RDMAStack: @unchecked Sendable {
  let configuration: RDMAConfiguration
  let device: any VerbsDevice
  let channel: any CompletionChannel
  let sendCQ: any CompletionQueue
  let receiveCQ: any CompletionQueue
  let srq: (any SharedReceiveQueue)?
  let sendPool: ChunkPool
  let receivePool: ChunkPool
  /// Receive requests each connection may have posted, one per receive credit.
  let credits: Int
  /// With `ms_async_rdma_cm`: the event channel and thread that set connections up.
  let connectionManager: RDMAConnectionManager?

  private let lock = NIOLock()
  private var streams: [UInt32: RDMAStream] = [:]
  private var queuePairs: [UInt32: any QueuePair] = [:]
  /// Payloads sent by RDMA READ instead of send chunks (for tests and status).
  let zeroCopyPayloads = ManagedAtomic<Int>(0)
  /// SRQ buffers not promised to any connection yet (credits are reserved from these).
  private var unreservedReceives: Int
  private var chunkWaiters: [RDMAStream] = []

  static let beaconID: UInt64 = 0xDEAD_BEEF
  static let finID: UInt64 = RDMAWorkID.bareKind | 0xF1
  /// Queue pairs being drained, by number (under `lock`; processed by the polling thread).
  private var retiring: [UInt32: RetiringQueuePair] = [:]

  private static let cacheLock = NIOLock()
  nonisolated(unsafe) private static var cache: [RDMAConfiguration: RDMAStack] = [:]

  /// The process's stack for `configuration`, opening the device on first use.
  static func shared(_ configuration: RDMAConfiguration) throws -> RDMAStack {
    try cacheLock.withLock {
      if let stack = cache[configuration] { return stack }
      let stack = try RDMAStack(configuration)
      cache[configuration] = stack
      return stack
    }
  }

  private init(_ configuration: RDMAConfiguration) throws {
    self.configuration = configuration
    let device: any VerbsDevice
    if configuration.isSoft {
      guard !configuration.connectionManager else {
        throw VerbsError.invalidArgument(
          "ms_async_rdma_cm = true needs a hardware RDMA device (rdma_cm has no soft-verbs"
            + " counterpart); name one with ms_async_rdma_device_name or leave it false")
      }
      // Soft-verbs memory is ordinary memory: no locking limit applies.
      device = try SoftVerbs.shared()
      connectionManager = nil
    } else if configuration.connectionManager {
      // The event channel first: without rdma_cm nothing else is worth opening, and its
      // failure says what to check.
      let events = try CMEventChannel.open()
      let hardware = try HardwareVerbs.open(
        name: configuration.deviceName, port: configuration.port,
        gidIndex: configuration.gidIndex, connectionManager: true)
      try MemoryLockCheck.check(required: configuration.poolBytes + (16 << 20))
      device = hardware
      connectionManager = RDMAConnectionManager(events: events, device: hardware)
    } else {
      device = try HardwareVerbs.open(
        name: configuration.deviceName, port: configuration.port,
        gidIndex: configuration.gidIndex)
      try MemoryLockCheck.check(required: configuration.poolBytes + (16 << 20))
      connectionManager = nil
    }
    self.device = device
    let limits = device.limits
    credits = configuration.connectionCredits
    guard configuration.receiveBuffers >= credits + 1 else {
      throw VerbsError.invalidArgument(
        "ms_async_rdma_receive_buffers (\(configuration.receiveBuffers)) must exceed"
          + " ms_async_rdma_connection_credits (\(credits))")
    }
    if configuration.sharedReceiveQueue
      && configuration.receiveBuffers > limits.maxSharedReceiveQueueWorkRequests
    {
      throw VerbsError.invalidArgument(
        "ms_async_rdma_receive_buffers (\(configuration.receiveBuffers)) exceeds the device's"
          + " shared receive queue (\(limits.maxSharedReceiveQueueWorkRequests))")
    }
    if UInt64(configuration.bufferSize) * UInt64(configuration.sendBuffers)
      > limits.maxMemoryRegionBytes
    {
      throw VerbsError.invalidArgument("the send pool exceeds the device's largest memory region")
    }
    channel = try device.makeCompletionChannel()
    let depth = min(
      limits.maxCompletionQueueEntries,
      4 * (configuration.sendBuffers + configuration.receiveBuffers) + 1024)
    sendCQ = try device.makeCompletionQueue(depth: depth, channel: channel)
    receiveCQ = try device.makeCompletionQueue(depth: depth, channel: channel)
    sendPool = try ChunkPool(
      device: device, chunkSize: configuration.bufferSize, count: configuration.sendBuffers,
      access: [.localWrite])
    receivePool = try ChunkPool(
      device: device, chunkSize: configuration.bufferSize, count: configuration.receiveBuffers,
      access: [.localWrite])
    unreservedReceives = configuration.receiveBuffers
    if configuration.sharedReceiveQueue {
      let srq = try device.makeSharedReceiveQueue(depth: configuration.receiveBuffers)
      while let chunk = receivePool.take() {
        try srq.postReceive(
          id: UInt64(chunk), receivePool.scatterGather(chunk, length: configuration.bufferSize))
      }
      self.srq = srq
    } else {
      srq = nil
    }
    let thread = Thread { [unowned self] in self.poll() }
    thread.name = "rdma-polling"
    thread.start()
  }

  var transportKind: UInt8 { configuration.isSoft ? 0 : 1 }

  /// What this side tells each peer at set-up.
  var localParameters: RDMAConnectionParameters {
    RDMAConnectionParameters(
      credits: credits, bufferSize: configuration.bufferSize,
      readLimit: configuration.zeroCopyInflight)
  }

  // MARK: connections

  /// A queue pair for a new stream (on the rdma_cm id `cm` if given), with its receive credits
  /// reserved. Throws when the receive pool cannot back another connection.
  func makeQueuePair(for stream: RDMAStream, on cm: CMID? = nil) throws -> any QueuePair {
    let perConnection = credits + 1
    let reserved: Bool = lock.withLock {
      guard unreservedReceives >= perConnection else { return false }
      unreservedReceives -= perConnection
      return true
    }
    guard reserved else {
      throw VerbsError.resources(
        "no receive buffers left for another RDMA connection (each takes"
          + " ms_async_rdma_connection_credits + 1 = \(perConnection) of"
          + " ms_async_rdma_receive_buffers = \(configuration.receiveBuffers))")
    }
    do {
      let qp: any QueuePair
      if let cm {
        guard let connectionManager else {
          throw VerbsError.invalidState("an rdma_cm queue pair without ms_async_rdma_cm")
        }
        qp = try cm.makeQueuePair(
          device: connectionManager.device, sendCQ: sendCQ, receiveCQ: receiveCQ, srq: srq,
          maxSend: stream.sendQueueDepth, maxReceive: perConnection)
      } else {
        qp = try device.makeQueuePair(
          sendCQ: sendCQ, receiveCQ: receiveCQ, srq: srq, maxSend: stream.sendQueueDepth,
          maxReceive: perConnection)
      }
      lock.withLock {
        streams[qp.number] = stream
        queuePairs[qp.number] = qp
      }
      return qp
    } catch {
      releaseCredits()
      throw error
    }
  }

  func releaseCredits() {
    lock.withLock { unreservedReceives += credits + 1 }
  }

  func forget(_ qp: any QueuePair) {
    lock.withLock {
      streams[qp.number] = nil
      queuePairs[qp.number] = nil
    }
  }

  /// Connections holding receive credits (live or still draining), free send chunks, and free
  /// receive chunks (without SRQ; with it every chunk stays posted).
  var usage: (connections: Int, freeSendChunks: Int, freeReceiveChunks: Int) {
    let connections = lock.withLock {
      (configuration.receiveBuffers - unreservedReceives) / (credits + 1)
    }
    return (connections, sendPool.available, receivePool.available)
  }

  /// Testing: moves every queue pair of the stack to the error state; returns how many.
  func injectQueuePairErrors() -> Int {
    let all = lock.withLock { Array(queuePairs.values) }
    for qp in all { qp.moveToError() }
    return all.count
  }

  /// Takes a receive chunk for a queue pair's own receive queue (no SRQ).
  func takeReceiveChunk() -> Int? { receivePool.take() }

  /// Gives a received chunk back: to the SRQ, or to the pool.
  func recycleReceive(_ chunk: Int) {
    if let srq {
      do {
        try srq.postReceive(
          id: UInt64(chunk), receivePool.scatterGather(chunk, length: configuration.bufferSize))
      } catch {
        Log.shared.error("ms", "rdma: cannot repost a receive to the SRQ: \(error)")
        receivePool.give(chunk)
      }
    } else {
      receivePool.give(chunk)
    }
  }

  /// Registers `stream` to be told when send chunks come back.
  func waitForChunks(_ stream: RDMAStream) {
    lock.withLock {
      if !chunkWaiters.contains(where: { $0 === stream }) { chunkWaiters.append(stream) }
    }
  }

  func returnSendChunk(_ chunk: Int) {
    sendPool.give(chunk)
    wakeChunkWaiters()
  }

  private func wakeChunkWaiters() {
    let waiters: [RDMAStream] = lock.withLock {
      guard !chunkWaiters.isEmpty else { return [] }
      defer { chunkWaiters.removeAll() }
      return chunkWaiters
    }
    for stream in waiters { stream.chunksAvailable() }
  }

  // MARK: polling

  /// The polling thread: busy-polls both completion queues for `ms_async_rdma_polling_us`
  /// after the last completion, then arms them and sleeps on the completion channel.
  private func poll() {
    let budgetNs = UInt64(configuration.pollingMicroseconds) * 1000
    let asyncEvents = device.asyncEventDescriptor
    let completions = UnsafeMutableBufferPointer<WorkCompletion>.allocate(capacity: 32)
    completions.initialize(repeating: .empty)
    var lastWork = monotonicNanoseconds()
    var lastDrainCheck: UInt64 = 0
    var armed = false
    while true {
      // Drains advance even while completions keep coming (at most every 100 us).
      let draining = retiringCount.load(ordering: .relaxed) > 0
      if draining {
        let now = monotonicNanoseconds()
        if now - lastDrainCheck > 100_000 {
          lastDrainCheck = now
          processRetiring()
        }
      }
      var found = 0
      let sent = sendCQ.poll(into: completions)
      if sent > 0 { route(completions, count: sent) }
      found += sent
      let received = receiveCQ.poll(into: completions)
      if received > 0 { route(completions, count: received) }
      found += received
      if found > 0 {
        lastWork = monotonicNanoseconds()
        armed = false
        continue
      }
      if monotonicNanoseconds() - lastWork < budgetNs {
        sched_yield()
        continue
      }
      if !armed {
        // Arm, then look once more: a completion that came in between would not signal.
        sendCQ.requestNotification()
        receiveCQ.requestNotification()
        armed = true
        continue
      }
      var descriptors = [pollfd(fd: channel.fileDescriptor, events: Int16(POLLIN), revents: 0)]
      if let fd = asyncEvents {
        descriptors.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
      }
      _ = Glibc.poll(&descriptors, nfds_t(descriptors.count), draining ? 5 : 100)
      channel.takeEvents()
      if descriptors.count > 1 && descriptors[1].revents != 0 { handleAsyncEvents() }
      armed = false
    }
  }

  /// A queue pair the device failed outside any work request (QP fatal, access error) goes to
  /// the error state, so its outstanding requests complete as flushed and its stream faults;
  /// other events (port down, ...) are logged.
  private func handleAsyncEvents() {
    for event in device.takeAsyncEvents() {
      Log.shared.error("ms", "rdma: \(device.name): \(event)")
      guard event.isQueuePairFatal, let number = event.queuePairNumber else { continue }
      let qp = lock.withLock { queuePairs[number] }
      qp?.moveToError()
      if let stream = lock.withLock({ streams[number] }) {
        stream.eventLoop.execute { stream.fault("queue pair failed: \(event)") }
      }
    }
  }

  private func route(_ completions: UnsafeMutableBufferPointer<WorkCompletion>, count: Int) {
    var orphans: [WorkCompletion] = []
    var returned = false
    lock.withLock {
      for i in 0..<count {
        let completion = completions[i]
        if let stream = streams[completion.queuePairNumber] {
          if completion.status == .success && completion.opcode == .send
            && completion.id != RDMAStack.finID
          {
            // A send went through: its chunk and its slot in the send queue are free again.
            // Nothing for the stream's loop to do unless it waits for them.
            stream.sendsPosted.wrappingDecrement(ordering: .relaxed)
            if let chunk = RDMAWorkID.sendChunk(completion.id) { sendPool.give(chunk) }
            returned = true
            continue
          }
          // Under the lock, so `retire` can take over everything not yet handed to the stream.
          stream.deliver(completion)
        } else if let retired = retiring[completion.queuePairNumber] {
          retired.backlog.append(completion)
        } else {
          orphans.append(completion)
        }
      }
    }
    for completion in orphans { orphan(completion) }
    if returned { wakeChunkWaiters() }
  }

  // MARK: draining

  /// Takes over a closed stream's queue pair: the polling thread waits for its FIN (at most
  /// 2 s), moves it to the error state, posts the beacon, and destroys it once the beacon's
  /// completion (and, without SRQ, every flushed receive) came back, so no completion can
  /// name it afterwards. Then its registrations are released and its link let go (the side
  /// channel closed, or the rdma_cm id disconnected and destroyed).
  func retire(_ retired: RetiringQueuePair, from stream: RDMAStream) {
    lock.withLock {
      streams[retired.qp.number] = nil
      queuePairs[retired.qp.number] = nil
      retired.backlog = stream.takeInbox()
      retiring[retired.qp.number] = retired
      retiringCount.wrappingIncrement(ordering: .relaxed)
      chunkWaiters.removeAll { $0 === stream }
    }
  }

  /// Completions a stream had already taken when it was retired.
  func handOver(_ completions: ArraySlice<WorkCompletion>, to retired: RetiringQueuePair) {
    lock.withLock { retired.backlog.append(contentsOf: completions) }
  }

  /// How many queue pairs are draining (read without the lock by the polling loop).
  private let retiringCount = ManagedAtomic<Int>(0)

  private func processRetiring() {
    let now = monotonicNanoseconds()
    let all: [(RetiringQueuePair, [WorkCompletion])] = lock.withLock {
      retiring.values.map { retired in
        defer { retired.backlog.removeAll() }
        return (retired, retired.backlog)
      }
    }
    for (retired, completions) in all {
      for completion in completions { retiredCompletion(retired, completion) }
      if !retired.beaconPosted && (!retired.finPending || now > retired.finDeadline) {
        retired.qp.moveToError()
        retired.beaconPosted = true
        retired.beaconDeadline = now + 5_000_000_000
        do {
          try retired.qp.postSend(SendRequest(id: RDMAStack.beaconID, opcode: .send, local: nil))
        } catch {
          Log.shared.error(
            "ms", "rdma: cannot post the beacon on QP \(retired.qp.number): \(error)")
          retired.beaconDone = true
          retired.receivesOutstanding = 0
        }
      }
      let drained = retired.beaconDone && retired.receivesOutstanding <= 0
      if drained || (retired.beaconPosted && now > retired.beaconDeadline) {
        if !drained {
          Log.shared.error(
            "ms", "rdma: QP \(retired.qp.number) did not drain in 5 s; destroying it")
        }
        finish(retired)
      }
    }
  }

  private func retiredCompletion(_ retired: RetiringQueuePair, _ completion: WorkCompletion) {
    switch completion.opcode {
    case .receive:
      guard completion.id < UInt64(receivePool.count) else { return }
      if srq != nil {
        recycleReceive(Int(completion.id))
      } else {
        receivePool.give(Int(completion.id))
        retired.receivesOutstanding -= 1
      }
    default:
      if completion.id == RDMAStack.beaconID {
        retired.beaconDone = true
      } else if completion.id == RDMAStack.finID {
        retired.finPending = false
      } else if let chunk = RDMAWorkID.sendChunk(completion.id) {
        returnSendChunk(chunk)
      }
    }
  }

  private func finish(_ retired: RetiringQueuePair) {
    lock.withLock { retiring[retired.qp.number] = nil }
    retiringCount.wrappingDecrement(ordering: .relaxed)
    retired.qp.destroy()
    for region in retired.regions { region.deregister() }
    retired.regions.removeAll()
    retired.keep.removeAll()
    releaseCredits()
    retired.link.release()
  }

  /// A completion whose stream is gone (a late one after its drain): give its chunk back.
  private func orphan(_ completion: WorkCompletion) {
    if completion.opcode == .receive {
      // Beacons and reads carry other ids; receive ids are chunk indexes.
      guard completion.id < UInt64(receivePool.count) else { return }
      recycleReceive(Int(completion.id))
    } else if let chunk = RDMAWorkID.sendChunk(completion.id) {
      returnSendChunk(chunk)
    }
  }
}

/// What a send work request's id says: kind in the top byte, a chunk or read id below.
enum RDMAWorkID {
  static let chunkKind: UInt64 = 1 << 56
  static let bareKind: UInt64 = 2 << 56
  static let readKind: UInt64 = 3 << 56

  static func chunk(_ index: Int) -> UInt64 { chunkKind | UInt64(index) }
  static func read(_ id: UInt32) -> UInt64 { readKind | UInt64(id) }

  static func sendChunk(_ id: UInt64) -> Int? {
    id >> 56 == 1 ? Int(id & 0xFFFF_FFFF) : nil
  }
}

func monotonicNanoseconds() -> UInt64 {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// A queue pair on its way out, with what must outlive it.
// `backlog` under the stack's lock, the rest the polling thread's
final class RetiringQueuePair: @unchecked Sendable {
  let qp: any QueuePair
  var finPending: Bool
  let finDeadline: UInt64
  var receivesOutstanding: Int
  var regions: [any MemoryRegion]
  var keep: [ByteBuffer]
  let link: any RDMAConnectionLink
  var backlog: [WorkCompletion] = []
  var beaconPosted = false
  var beaconDone = false
  var beaconDeadline: UInt64 = 0

  init(
    qp: any QueuePair, finPending: Bool, receivesOutstanding: Int, regions: [any MemoryRegion],
    keep: [ByteBuffer], link: any RDMAConnectionLink
  ) {
    self.qp = qp
    self.finPending = finPending
    self.finDeadline = monotonicNanoseconds() + 2_000_000_000
    self.receivesOutstanding = receivesOutstanding
    self.regions = regions
    self.keep = keep
    self.link = link
  }
}
