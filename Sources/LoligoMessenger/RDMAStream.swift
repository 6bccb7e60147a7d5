import Atomics
import LoligoCore
import LoligoVerbs
import NIOConcurrencyHelpers
import NIOCore

/// Why an RDMA stream ended abnormally.
public struct RDMATransportError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// One RDMA connection seen as a `TransportStream`: an ordered byte stream carried by SENDs on
/// a reliable connected queue pair, with the session above it unchanged.
///
/// Every SEND carries 32 bits of immediate data: a kind in the top byte and, below it, the
/// receive credits the sender returns (for READ_DONE: the read id).
///
/// - STREAM: the next bytes of the stream, copied into a registered send chunk (at most the
///   peer's receive buffer size).
/// - READ_DESC: a payload of at least `ms_rdma_zero_copy_threshold` bytes, not copied: the
///   chunk holds its address, length, rkey and id (the remote buffer is advertised in this
///   header), and the receiver pulls it with one RDMA READ straight into the buffer it hands to
///   the session, then answers READ_DONE so the sender releases and deregisters it.
/// - CREDIT: nothing but returned credits, when enough are owed and no data is going back.
/// - FIN: the orderly end of the stream.
///
/// Credits: each side grants the other `ms_async_rdma_connection_credits` receives (reserved
/// from the receive pool, so all connections together never exceed the receive queue). Every
/// SEND consumes one; a credit comes back when the receiver has delivered that message to the
/// session, which is also how a slow or paused receiver pushes back. Data needs two credits in
/// hand and a CREDIT one, so a side that owes credits can always return them: whichever side
/// sent the last CREDIT gave the other at least `creditThreshold` >= 2, so both can never be
/// stuck at zero, and as each CREDIT answers at least two messages the exchange dies out.
///
/// Closing: FIN (when a credit is left and the peer has not ended first), then the beacon: the
/// queue pair goes to the error state and a zero-length SEND is posted; its (flushed)
/// completion comes after every earlier one, so when it arrives no completion can still name
/// this queue pair or its chunks and the QP is destroyed. The link that set the queue pair up
/// (`RDMAConnectionLink`) stays as a liveness signal: the TCP side channel closes with a BYE
/// byte after an orderly end and without one when the peer process died; rdma_cm reports
/// DISCONNECTED once the peer's end is gone.
///
/// Threading: state belongs to the stream's event loop; the polling thread hands completions
/// over through `inbox` (one hop per burst).
// loop-owned state; the polling thread's hand-over under `inboxLock`
final class RDMAStream: TransportStream, @unchecked Sendable {
  enum Kind: UInt32 {
    case stream = 1
    case credit, readDescriptor, readDone, fin
  }

  enum Phase { case connecting, established, closed }

  /// A payload being pulled with RDMA READ, in stream order with the copied bytes around it.
  final class IncomingRead {
    let id: UInt32
    let length: Int
    var buffer: ByteBuffer
    var region: (any MemoryRegion)?
    var done = false

    init(id: UInt32, length: Int, buffer: ByteBuffer) {
      self.id = id
      self.length = length
      self.buffer = buffer
    }
  }

  enum Inbound {
    case bytes(ByteBuffer, messages: Int)
    case read(IncomingRead)
    case fin
  }

  let stack: RDMAStack
  let link: any RDMAConnectionLink
  let eventLoop: any EventLoop
  let allocator: ByteBufferAllocator
  var remoteAddress: SocketAddress? { link.remoteAddress }
  var localAddress: SocketAddress? { link.localAddress }
  /// Send work requests a queue pair may have outstanding: every credit, every pull, control
  /// messages and the beacon.
  let sendQueueDepth: Int
  private(set) var qp: (any QueuePair)?

  // Handed over by the polling thread.
  private let inboxLock = NIOLock()
  private var inbox: [WorkCompletion] = []
  private var inboxScheduled = false
  private var spareInbox: [WorkCompletion] = []

  // Loop-owned.
  private(set) var phase = Phase.connecting
  private weak var delegate: (any TransportStreamDelegate)?
  private var heldClose: (any Error)??
  private var closeNotified = false
  private var readEnabled = true
  private var inbound = CircularBuffer<Inbound>()
  private var incoming: [UInt32: IncomingRead] = [:]
  private var pendingWrites = CircularBuffer<ByteBuffer>()
  private var outQueue = CircularBuffer<ByteBuffer>()
  /// Receives we may still consume at the peer.
  private var credits = 0
  /// Messages delivered since we last returned credits for them.
  private var owed = 0
  /// Send work requests posted and not completed. Successful send completions are counted
  /// off by the polling thread directly (no hop to this loop), hence atomic.
  let sendsPosted = ManagedAtomic<Int>(0)
  private var sendsInFlight: Int { sendsPosted.load(ordering: .relaxed) }
  private var receivesPosted = 0
  private var waitingForChunks = false
  private var peerBufferSize = 0
  private var peerReadLimit = 0
  /// The most credits the peer granted: returns beyond it are a protocol error.
  private var peerCreditLimit = 0
  private var nextReadID: UInt32 = 0
  private var outstandingReads: [UInt32: (ByteBuffer, any MemoryRegion)] = [:]
  private var readDonesToSend: [UInt32] = []
  /// Set once the queue pair went to the stack's drain.
  private var retired: RetiringQueuePair?
  private var peerFinished = false
  /// A FIN arrived (maybe not yet delivered): failures after it are the peer's teardown.
  private var finReceived = false
  private var failed = false
  private var peerSaidBye = false
  private var credited = false

  let creditThreshold: Int

  init(
    stack: RDMAStack, link: any RDMAConnectionLink, eventLoop: any EventLoop,
    allocator: ByteBufferAllocator
  ) {
    self.stack = stack
    self.link = link
    self.eventLoop = eventLoop
    self.allocator = allocator
    let configuration = stack.configuration
    sendQueueDepth = 2 * configuration.connectionCredits + configuration.zeroCopyInflight + 8
    creditThreshold = max(2, configuration.connectionCredits / 4)
  }

  /// Makes the queue pair (reserving receive credits), on the rdma_cm id `cm` if given.
  /// Throws when none can be had.
  func createQueuePair(on cm: CMID? = nil) throws {
    qp = try stack.makeQueuePair(for: self, on: cm)
    credited = true
  }

  /// Side channel: connects the queue pair to the peer's, posts our receives and takes the
  /// peer's parameters.
  func connect(to remote: QueuePairEndpoint, peer: RDMAConnectionParameters) throws {
    guard let qp else { throw RDMATransportError("no queue pair") }
    try qp.connect(to: remote)
    try postReceives()
    setPeer(peer)
  }

  /// Without SRQ, posts this queue pair's receives (before the peer may send: rdma_cm needs
  /// them before it connects, the side channel before READY).
  func postReceives() throws {
    guard let qp else { throw RDMATransportError("no queue pair") }
    if stack.srq == nil {
      for _ in 0...stack.credits {
        guard let chunk = stack.takeReceiveChunk() else {
          throw RDMATransportError("receive pool exhausted")
        }
        try qp.postReceive(
          id: UInt64(chunk),
          stack.receivePool.scatterGather(chunk, length: stack.configuration.bufferSize))
        receivesPosted += 1
      }
    }
  }

  /// The peer's credits, receive buffer size and READ limit (validated by the caller). Adds to
  /// the credits: none can have been returned before, as the peer owes nothing yet.
  func setPeer(_ peer: RDMAConnectionParameters) {
    credits += peer.credits
    peerCreditLimit = peer.credits
    peerBufferSize = min(peer.bufferSize, stack.configuration.bufferSize)
    peerReadLimit = min(peer.readLimit, stack.configuration.zeroCopyInflight)
  }

  func established() {
    phase = .established
  }

  // MARK: TransportStream

  func setDelegate(_ delegate: (any TransportStreamDelegate)?) {
    self.delegate = delegate
    guard delegate != nil, !inbound.isEmpty || heldClose != nil else { return }
    // Not from inside setDelegate: the session attaches before it writes its banner, and
    // bytes that arrived while connecting must not be handled (and answered) before that.
    eventLoop.execute {
      self.deliverInbound()
      if let error = self.heldClose, !self.closeNotified, self.delegate != nil {
        self.heldClose = nil
        self.notifyClosed(error)
      }
    }
  }

  func write(_ buffer: ByteBuffer) {
    guard phase == .established, buffer.readableBytes > 0 else { return }
    pendingWrites.append(buffer)
  }

  func flush() {
    guard phase == .established else { return }
    while let buffer = pendingWrites.popFirst() { outQueue.append(buffer) }
    pump()
  }

  func setReadEnabled(_ enabled: Bool) {
    readEnabled = enabled
    if enabled {
      deliverInbound()
      sendControl()
    }
  }

  func close() {
    switch phase {
    case .connecting:
      retire(finPending: false)
    case .established:
      var fin = false
      if !failed && !peerFinished && credits >= 1 && sendsInFlight < sendQueueDepth - 1 {
        fin = postBare(.fin, value: takeOwed(), id: RDMAStack.finID)
      }
      // Side channel: BYE tells the peer this is an orderly end, not a crash.
      if !failed { link.announceOrderlyClose() }
      retire(finPending: fin)
    case .closed:
      break
    }
  }

  // MARK: from the polling thread

  func deliver(_ completion: WorkCompletion) {
    let schedule: Bool = inboxLock.withLock {
      inbox.append(completion)
      defer { inboxScheduled = true }
      return !inboxScheduled
    }
    if schedule { eventLoop.execute { self.drainInbox() } }
  }

  func chunksAvailable() {
    eventLoop.execute {
      self.waitingForChunks = false
      self.pump()
      self.sendControl()
    }
  }

  private func drainInbox() {
    var batch = spareInbox
    inboxLock.withLock {
      swap(&batch, &inbox)
      inboxScheduled = false
    }
    for index in batch.indices {
      if let retired {
        // Closed while handling this batch: the rest belongs to the drain.
        stack.handOver(batch[index...], to: retired)
        break
      }
      handle(batch[index])
    }
    batch.removeAll(keepingCapacity: true)
    spareInbox = batch
    deliverInbound()
    pump()
    sendControl()
  }

  // MARK: completions

  private func handle(_ completion: WorkCompletion) {
    switch completion.opcode {
    case .receive:
      received(completion)
    case .rdmaRead:
      readCompleted(completion)
    default:
      sendCompleted(completion)
    }
  }

  private func sendCompleted(_ completion: WorkCompletion) {
    sendsPosted.wrappingDecrement(ordering: .relaxed)
    if let chunk = RDMAWorkID.sendChunk(completion.id) { stack.returnSendChunk(chunk) }
    if completion.status != .success {
      fault("send failed: \(completion.status)")
    }
  }

  private func readCompleted(_ completion: WorkCompletion) {
    sendsPosted.wrappingDecrement(ordering: .relaxed)
    let id = UInt32(truncatingIfNeeded: completion.id)
    guard let read = incoming[id] else { return }
    read.region?.deregister()
    read.region = nil
    guard completion.status == .success else {
      fault("RDMA READ of \(read.length) bytes failed: \(completion.status)")
      return
    }
    read.buffer.moveWriterIndex(forwardBy: read.length)
    read.done = true
    incoming[id] = nil
    // The bytes are ours now: the sender may release its buffer.
    readDonesToSend.append(id)
  }

  private func received(_ completion: WorkCompletion) {
    let chunk = Int(completion.id)
    if stack.srq == nil { receivesPosted -= 1 }
    defer { repost(chunk) }
    guard completion.status == .success else {
      if completion.status != .workRequestFlushed || phase == .established {
        fault("receive failed: \(completion.status)")
      }
      return
    }
    // The peer may send as soon as it has READY on the side channel, which can be before our
    // side channel has read it: keep what comes while connecting (delivered once established).
    guard phase == .established || phase == .connecting else { return }
    guard let immediate = completion.immediate, let kind = Kind(rawValue: immediate >> 24) else {
      fault("protocol error: a SEND without a known kind", protocolError: true)
      return
    }
    let value = Int(immediate & 0xFF_FFFF)
    let length = Int(completion.byteLength)
    if kind != .readDone {
      credits += value
      guard credits <= peerCreditLimit else {
        fault("protocol error: peer returned more credits than it had", protocolError: true)
        return
      }
    }
    let data = stack.receivePool.pointer(chunk)
    switch kind {
    case .stream:
      guard length > 0, length <= stack.configuration.bufferSize else {
        fault("protocol error: stream chunk of \(length) bytes", protocolError: true)
        return
      }
      let bytes = UnsafeRawBufferPointer(start: data, count: length)
      // Consecutive chunks go up in one buffer, but not much beyond a chunk: a session that
      // pauses reading (dispatch throttle) stops within one delivered buffer.
      if case .bytes(var buffer, let messages)? = inbound.last,
        buffer.readableBytes + length <= max(64 << 10, stack.configuration.bufferSize)
      {
        inbound.removeLast()
        buffer.writeBytes(bytes)
        inbound.append(.bytes(buffer, messages: messages + 1))
      } else {
        var buffer = allocator.buffer(capacity: length)
        buffer.writeBytes(bytes)
        inbound.append(.bytes(buffer, messages: 1))
      }
    case .credit:
      guard length == 0 else {
        fault("protocol error: credit message with \(length) bytes", protocolError: true)
        return
      }
      owed += 1
    case .readDescriptor:
      guard length == RDMAStream.descriptorSize else {
        fault("protocol error: read descriptor of \(length) bytes", protocolError: true)
        return
      }
      startRead(descriptor: UnsafeRawBufferPointer(start: data, count: length))
    case .readDone:
      let id = UInt32(value)
      guard length == 0, let (_, region) = outstandingReads.removeValue(forKey: id) else {
        fault("protocol error: READ_DONE for unknown read \(value)", protocolError: true)
        return
      }
      region.deregister()
      owed += 1
    case .fin:
      owed += 1
      finReceived = true
      inbound.append(.fin)
    }
  }

  private func repost(_ chunk: Int) {
    if stack.srq != nil {
      stack.recycleReceive(chunk)
    } else if phase == .established || phase == .connecting, let qp {
      do {
        try qp.postReceive(
          id: UInt64(chunk),
          stack.receivePool.scatterGather(chunk, length: stack.configuration.bufferSize))
        receivesPosted += 1
      } catch {
        stack.receivePool.give(chunk)
      }
    } else {
      stack.receivePool.give(chunk)
    }
  }

  /// Largest piece of a pulled payload handed to the session at once.
  static let deliverySlice = 64 << 10

  /// address (8) | length (8) | rkey (4) | id (4), little endian.
  static let descriptorSize = 24

  private func startRead(descriptor: UnsafeRawBufferPointer) {
    let address = UInt64(littleEndian: descriptor.loadUnaligned(as: UInt64.self))
    let length = UInt64(littleEndian: descriptor.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    let rkey = UInt32(littleEndian: descriptor.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
    let id = UInt32(littleEndian: descriptor.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
    // The peer names the size: bound it before allocating anything.
    guard length > 0, length <= UInt64(stack.configuration.maxMessageBytes) else {
      fault(
        "protocol error: advertised payload of \(length) bytes exceeds ms_max_message_size",
        protocolError: true)
      return
    }
    guard incoming.count < stack.configuration.zeroCopyInflight, incoming[id] == nil else {
      fault("protocol error: too many advertised payloads at once", protocolError: true)
      return
    }
    guard let qp, sendsInFlight < sendQueueDepth - 1 else {
      fault("send queue full")
      return
    }
    let count = Int(length)
    let read = IncomingRead(id: id, length: count, buffer: allocator.buffer(capacity: count))
    // The buffer is not touched again until the READ has completed, so its storage stays put.
    let target = read.buffer.withUnsafeMutableWritableBytes { $0.baseAddress! }
    do {
      let region = try stack.device.registerMemory(target, length: count, access: [.localWrite])
      read.region = region
      try qp.postSend(
        SendRequest(
          id: RDMAWorkID.read(id), opcode: .rdmaRead,
          local: ScatterGather(target, length: count, lkey: region.lkey), remoteAddress: address,
          rkey: rkey))
    } catch {
      read.region?.deregister()
      fault("cannot pull a \(count)-byte payload: \(error)")
      return
    }
    sendsPosted.wrappingIncrement(ordering: .relaxed)
    incoming[id] = read
    inbound.append(.read(read))
  }

  // MARK: delivering to the session

  private func deliverInbound() {
    guard let delegate, readEnabled else { return }
    var delivered = false
    loop: while let first = inbound.first {
      guard self.delegate === delegate, readEnabled, phase == .established
      else { break }
      switch first {
      case .bytes(let buffer, let messages):
        inbound.removeFirst()
        owed += messages
        delivered = true
        delegate.streamDidReceive(buffer)
      case .read(let read):
        guard read.done else { break loop }
        // In slices (views of the same storage, no copy), so a session that pauses reading
        // stops within one slice even when the pull brought a whole batch of messages.
        let n = min(read.buffer.readableBytes, RDMAStream.deliverySlice)
        let slice = read.buffer.readSlice(length: n)!
        if read.buffer.readableBytes == 0 {
          inbound.removeFirst()
          owed += 1
        }
        delivered = true
        delegate.streamDidReceive(slice)
      case .fin:
        inbound.removeFirst()
        peerFinished = true
        if delivered { delegate.streamDidFinishReadBatch() }
        notifyClosed(nil)
        close()
        return
      }
    }
    if delivered && self.delegate === delegate { delegate.streamDidFinishReadBatch() }
  }

  // MARK: sending

  private func takeOwed() -> UInt32 {
    let value = min(owed, 0xFF_FFFF)
    owed -= value
    return UInt32(value)
  }

  /// Posts a SEND without payload. False if the queue pair refused it.
  private func postBare(_ kind: Kind, value: UInt32, id: UInt64) -> Bool {
    guard let qp else { return false }
    do {
      try qp.postSend(
        SendRequest(
          id: id, opcode: .sendWithImmediate, local: nil,
          immediate: kind.rawValue << 24 | value))
    } catch {
      fault("post send: \(error)")
      return false
    }
    credits -= 1
    sendsPosted.wrappingIncrement(ordering: .relaxed)
    return true
  }

  /// READ_DONE and credit returns.
  private func sendControl() {
    guard phase == .established else { return }
    while let id = readDonesToSend.first, credits >= 2, sendsInFlight < sendQueueDepth - 1 {
      readDonesToSend.removeFirst()
      guard postBare(.readDone, value: id & 0xFF_FFFF, id: RDMAWorkID.bareKind | 0xD0) else {
        return
      }
    }
    if owed >= creditThreshold && credits >= 1 {
      if sendsInFlight < sendQueueDepth - 1 {
        _ = postBare(.credit, value: takeOwed(), id: RDMAWorkID.bareKind | 0xC0)
      } else {
        waitForSendCompletions()
      }
    } else if !readDonesToSend.isEmpty && credits >= 2 {
      waitForSendCompletions()
    }
  }

  private var zeroCopyThreshold: Int { stack.configuration.zeroCopyThreshold }

  private func isZeroCopy(_ buffer: ByteBuffer) -> Bool {
    zeroCopyThreshold > 0 && buffer.readableBytes >= zeroCopyThreshold && peerReadLimit > 0
  }

  /// Moves queued bytes out as far as credits, chunks and the send queue allow.
  private func pump() {
    guard phase == .established, let qp else { return }
    while let front = outQueue.first {
      guard credits >= 2 else { return }
      guard sendsInFlight < sendQueueDepth - 1 else {
        waitForSendCompletions()
        return
      }
      if isZeroCopy(front) {
        guard outstandingReads.count < peerReadLimit else { return }
        guard let chunk = takeChunk() else { return }
        if advertise(front, chunk: chunk, qp: qp) {
          outQueue.removeFirst()
          continue
        }
        stack.returnSendChunk(chunk)
        return
      }
      guard let chunk = takeChunk() else { return }
      let capacity = peerBufferSize
      let base = stack.sendPool.pointer(chunk)
      var filled = 0
      while filled < capacity, var buffer = outQueue.first {
        if filled > 0 && isZeroCopy(buffer) { break }
        let n = min(capacity - filled, buffer.readableBytes)
        buffer.withUnsafeReadableBytes {
          (base + filled).copyMemory(from: $0.baseAddress!, byteCount: n)
        }
        filled += n
        buffer.moveReaderIndex(forwardBy: n)
        if buffer.readableBytes == 0 {
          outQueue.removeFirst()
        } else {
          outQueue[outQueue.startIndex] = buffer
        }
      }
      do {
        try qp.postSend(
          SendRequest(
            id: RDMAWorkID.chunk(chunk), opcode: .sendWithImmediate,
            local: stack.sendPool.scatterGather(chunk, length: filled),
            immediate: Kind.stream.rawValue << 24 | takeOwed()))
      } catch {
        stack.returnSendChunk(chunk)
        fault("post send: \(error)")
        return
      }
      credits -= 1
      sendsPosted.wrappingIncrement(ordering: .relaxed)
    }
  }

  /// The send queue is full: be woken (as for chunks) when sends complete.
  private func waitForSendCompletions() {
    guard !waitingForChunks else { return }
    waitingForChunks = true
    stack.waitForChunks(self)
    if sendsInFlight < sendQueueDepth - 1 {
      // Completed in between: no wake-up will come for it.
      eventLoop.execute { self.chunksAvailable() }
    }
  }

  private func takeChunk() -> Int? {
    if let chunk = stack.sendPool.take() { return chunk }
    if !waitingForChunks {
      waitingForChunks = true
      stack.waitForChunks(self)
      // A chunk may have come back between the two calls.
      if let chunk = stack.sendPool.take() { return chunk }
    }
    return nil
  }

  /// Registers `buffer` for remote reads and sends its descriptor. The buffer is kept (so its
  /// storage is neither freed nor written) until the peer's READ_DONE.
  private func advertise(_ buffer: ByteBuffer, chunk: Int, qp: any QueuePair) -> Bool {
    let length = buffer.readableBytes
    let address = buffer.withUnsafeReadableBytes {
      UnsafeMutableRawPointer(mutating: $0.baseAddress!)
    }
    let region: any MemoryRegion
    do {
      region = try stack.device.registerMemory(address, length: length, access: [.remoteRead])
    } catch {
      Log.shared.error("ms", "rdma: cannot register a \(length)-byte payload: \(error)")
      return false
    }
    nextReadID = (nextReadID &+ 1) & 0xFF_FFFF
    let id = nextReadID
    let base = stack.sendPool.pointer(chunk)
    base.storeBytes(of: UInt64(UInt(bitPattern: address)).littleEndian, as: UInt64.self)
    base.storeBytes(of: UInt64(length).littleEndian, toByteOffset: 8, as: UInt64.self)
    base.storeBytes(of: region.rkey.littleEndian, toByteOffset: 16, as: UInt32.self)
    base.storeBytes(of: id.littleEndian, toByteOffset: 20, as: UInt32.self)
    do {
      try qp.postSend(
        SendRequest(
          id: RDMAWorkID.chunk(chunk), opcode: .sendWithImmediate,
          local: stack.sendPool.scatterGather(chunk, length: RDMAStream.descriptorSize),
          immediate: Kind.readDescriptor.rawValue << 24 | takeOwed()))
    } catch {
      region.deregister()
      return false
    }
    outstandingReads[id] = (buffer, region)
    stack.zeroCopyPayloads.wrappingIncrement(ordering: .relaxed)
    credits -= 1
    sendsPosted.wrappingIncrement(ordering: .relaxed)
    return true
  }

  // MARK: ending

  /// The connection failed: tell the session (as a TCP stream reports an error), then drain.
  func fault(_ reason: String, protocolError: Bool = false) {
    // After the peer's FIN its queue pair goes away: our failing requests are expected, and
    // the FIN (delivered after the bytes before it) ends the stream in order.
    if finReceived && !protocolError { return }
    // Completions flushed by our own drain are expected, not failures.
    guard !failed, phase == .established || phase == .connecting else {
      return
    }
    failed = true
    if protocolError {
      Log.shared.error("ms", "rdma \(remoteAddress.map { "\($0)" } ?? "?"): \(reason)")
    }
    if phase == .established || phase == .connecting {
      notifyClosed(RDMATransportError(reason))
    }
    close()
  }

  private func notifyClosed(_ error: (any Error)?) {
    guard !closeNotified else { return }
    if let delegate {
      closeNotified = true
      delegate.streamDidClose(error: error)
    } else {
      heldClose = .some(error)
    }
  }

  /// The side channel said BYE: an orderly end follows.
  func peerBye() { peerSaidBye = true }

  /// rdma_cm reported DISCONNECTED: the peer's end is gone, after its FIN in an orderly close
  /// or because its process died. A FIN still on its way through the completion queue gets a
  /// moment to arrive first, so an orderly end is not reported as a fault.
  func peerDisconnected() {
    switch phase {
    case .established:
      guard !finReceived else { return }
      eventLoop.scheduleTask(in: .milliseconds(200)) { [self] in
        guard phase == .established, !finReceived else { return }
        deliverInbound()
        fault("peer disconnected (rdma_cm DISCONNECTED without FIN)")
      }
    case .connecting:
      close()
    case .closed:
      break
    }
  }

  /// The side channel closed. Without a BYE the peer process is gone.
  func sideChannelClosed() {
    switch phase {
    case .established:
      if peerSaidBye {
        deliverInbound()
        notifyClosed(nil)
        close()
      } else {
        fault("peer went away (RDMA side channel closed)")
      }
    case .connecting:
      close()
    case .closed:
      break
    }
  }

  /// Hands the queue pair to the stack, which drains it (FIN, then the beacon) on its polling
  /// thread and then destroys it, whatever becomes of this stream's event loop.
  private func retire(finPending: Bool) {
    phase = .closed
    pendingWrites.removeAll()
    outQueue.removeAll()
    inbound.removeAll()
    // Registered buffers stay alive (and registered) until the queue pair cannot touch them.
    var regions: [any MemoryRegion] = []
    var keep: [ByteBuffer] = []
    for (_, (buffer, region)) in outstandingReads {
      regions.append(region)
      keep.append(buffer)
    }
    for (_, read) in incoming {
      if let region = read.region { regions.append(region) }
      keep.append(read.buffer)
    }
    outstandingReads.removeAll()
    incoming.removeAll()
    guard let qp, credited else {
      link.release()
      return
    }
    self.qp = nil
    credited = false
    let record = RetiringQueuePair(
      qp: qp, finPending: finPending,
      receivesOutstanding: stack.srq == nil ? receivesPosted : 0, regions: regions, keep: keep,
      link: link)
    retired = record
    stack.retire(record, from: self)
  }

  /// Completions the polling thread had queued for this stream and not yet handed over.
  func takeInbox() -> [WorkCompletion] {
    inboxLock.withLock {
      defer { inbox.removeAll() }
      return inbox
    }
  }
}
