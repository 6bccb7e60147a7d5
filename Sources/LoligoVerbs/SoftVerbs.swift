import Atomics
import CLoligoVerbs
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Soft-verbs: the verbs semantics in user space, between processes on one machine, so the RDMA
/// transport's own logic (credits, chunk pools, one-sided transfers, drain, error handling) runs
/// where there is no RDMA hardware.
///
/// Design. Each `SoftVerbs` instance is one emulated port. Its GID names an abstract Unix
/// socket (`\0loligo-soft-verbs/<gid>`) that peers connect to; the LID is 0 (addressing is by
/// GID, as on RoCE). When a queue pair moves to RTR/RTS knowing its peer's GID and QP number,
/// the side with the smaller (GID, QPN) opens one stream socket to the other and says HELLO;
/// that socket is the pair's wire. Requests (SEND, RDMA WRITE, RDMA READ) travel as a 32-byte
/// header plus payload; the responder answers in order with cumulative ACKs, READ responses or
/// a NAK carrying the completion status. One thread per device (`soft-verbs-wire`) polls every
/// socket and plays the responder's NIC: it takes receive requests from the RQ or SRQ, checks
/// remote keys and bounds against its table of memory regions, and moves payload straight
/// between the socket and registered memory. A requester's completion is generated when the
/// responder acknowledged, as on a reliable connection.
///
/// One-sided operations really are one-sided for the consumer: no receive is consumed and no
/// completion appears at the responder; only the emulated NIC (the wire thread) touches its
/// memory. Memory is not shared between processes: payload crosses the socket, which is the
/// emulation's cost (a copy into and out of the kernel) and what its benchmarks measure.
///
/// Errors appear where hardware reports them: a bad local key or range completes the request
/// with `localProtectionError`; a wrong remote key, missing access right or out-of-bounds range
/// completes it with `remoteAccessError`; a SEND larger than the receive buffer with
/// `remoteInvalidRequest`; a peer that went away (socket closed) with `retryExceeded`; a SEND
/// that found no receive for `receiverNotReadyTimeout` with `receiverNotReadyRetryExceeded`. Each
/// moves the queue pair to the error state, where every outstanding and later request completes
/// as `workRequestFlushed` without being executed. Posting a send before RTS is refused.
/// Every header from a peer is checked (opcode, sequence, lengths) before anything is done with
/// it; payload only ever lands in registered memory that passed the checks, or is discarded.
// mutable state under `lock`; sockets and thread set in init
public final class SoftVerbs: VerbsDevice, @unchecked Sendable {
  public let name = "soft"
  public let lid: UInt16 = 0
  public let gid: VerbsGID
  public let limits = VerbsLimits(
    maxQueuePairWorkRequests: 32768, maxSharedReceiveQueueWorkRequests: 65536,
    maxCompletionQueueEntries: 1 << 20, maxMemoryRegionBytes: 1 << 40)
  /// How long a SEND may wait for a receive before its sender fails with
  /// `receiverNotReadyRetryExceeded`; nil waits forever (hardware with rnr_retry = 7, which is
  /// what the transport configures: its credits keep it from ever needing the wait).
  public let receiverNotReadyTimeout: Double?
  /// How long a queue pair in RTS waits for its peer's wire before failing with retryExceeded.
  public let connectTimeout: Double

  let lock = NSLock()
  var regions: [UInt32: SoftRegion] = [:]
  var queuePairs: [UInt32: SoftQueuePair] = [:]
  var links: [SoftLink] = []
  var nextQPN: UInt32
  var stopped = false
  private let listenFD: Int32
  let wakeFD: Int32
  private var thread: Thread?
  /// The wire thread's id, to skip waking it from itself.
  private var wireThread = pthread_t(bitPattern: 0)
  /// SENDs that found no receive posted and had to wait (receiver-not-ready).
  public var receiverNotReadyEvents: Int { lock.withLock { rnrEvents } }
  var rnrEvents = 0
  /// Completions dropped because a completion queue was full.
  public var completionQueueOverruns: Int { lock.withLock { overruns } }
  var overruns = 0

  private static let sharedLock = NSLock()
  nonisolated(unsafe) private static var sharedDevice: SoftVerbs?
  private static let instances = ManagedAtomic<UInt32>(0)

  /// The process's soft device (created on first use, lives as long as the process).
  public static func shared() throws(VerbsError) -> SoftVerbs {
    sharedLock.lock()
    defer { sharedLock.unlock() }
    if let device = sharedDevice { return device }
    let device = try SoftVerbs()
    sharedDevice = device
    return device
  }

  public init(receiverNotReadyTimeout: Double? = nil, connectTimeout: Double = 10)
    throws(VerbsError)
  {
    self.receiverNotReadyTimeout = receiverNotReadyTimeout
    self.connectTimeout = connectTimeout
    var bytes: [UInt8] = [0x4c, 0x53, 0x56, 0x01]  // "LSV" v1
    let pid = UInt32(truncatingIfNeeded: getpid())
    let instance = SoftVerbs.instances.wrappingIncrementThenLoad(ordering: .relaxed)
    for value in [pid, instance, UInt32.random(in: 0...UInt32.max)] {
      bytes += withUnsafeBytes(of: value.bigEndian, Array.init)
    }
    gid = VerbsGID(bytes)
    nextQPN = UInt32.random(in: 0x100...0xFFFF)
    wakeFD = lv_eventfd_nonblocking()
    listenFD = socket(
      AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
    guard wakeFD >= 0, listenFD >= 0 else {
      throw .resources("soft-verbs: cannot create sockets: \(String(cString: strerror(errno)))")
    }
    var address = SoftVerbs.socketAddress(gid)
    let bound = withUnsafePointer(to: &address.0) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, address.1) }
    }
    guard bound == 0, listen(listenFD, 1024) == 0 else {
      let why = String(cString: strerror(errno))
      Glibc.close(listenFD)
      Glibc.close(wakeFD)
      throw .resources("soft-verbs: cannot listen on its socket: \(why)")
    }
    // The thread holds the device until `shutdown` ends it.
    let thread = Thread { [self] in self.run() }
    thread.name = "soft-verbs-wire"
    self.thread = thread
    thread.start()
  }

  /// Stops the wire thread and closes every socket (for tests that make their own devices).
  public func shutdown() {
    lock.withLock { stopped = true }
    wake()
  }

  /// The abstract Unix socket address of the port with `gid`.
  static func socketAddress(_ gid: VerbsGID) -> (sockaddr_un, socklen_t) {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let name = Array(
      "loligo-soft-verbs/\(gid.bytes.map { String(format: "%02x", $0) }.joined())".utf8)
    withUnsafeMutableBytes(of: &address.sun_path) { path in
      path[0] = 0  // abstract namespace: nothing on disk to clean up after a crash
      for (i, byte) in name.enumerated() { path[i + 1] = byte }
    }
    let length = MemoryLayout<sa_family_t>.size + 1 + name.count
    return (address, socklen_t(length))
  }

  // MARK: VerbsDevice

  /// Soft-verbs reports every failure through completions: no asynchronous events.
  public var asyncEventDescriptor: Int32? { nil }
  public func takeAsyncEvents() -> [AsyncEvent] { [] }

  public func registerMemory(
    _ base: UnsafeMutableRawPointer, length: Int, access: MemoryAccess
  ) throws(VerbsError) -> any MemoryRegion {
    guard length > 0, UInt64(length) <= limits.maxMemoryRegionBytes else {
      throw .invalidArgument("memory region of \(length) bytes")
    }
    // As ibv_reg_mr: remote write without local write is invalid.
    if access.contains(.remoteWrite) && !access.contains(.localWrite) {
      throw .invalidArgument("remote write access needs local write access")
    }
    return lock.withLock {
      var key = UInt32.random(in: 1...UInt32.max)
      while regions[key] != nil { key = UInt32.random(in: 1...UInt32.max) }
      let region = SoftRegion(device: self, base: base, length: length, key: key, access: access)
      regions[key] = region
      return region
    }
  }

  public func makeCompletionChannel() throws(VerbsError) -> any CompletionChannel {
    let fd = lv_eventfd_nonblocking()
    guard fd >= 0 else {
      throw .resources("soft-verbs: eventfd: \(String(cString: strerror(errno)))")
    }
    return SoftChannel(fd: fd)
  }

  public func makeCompletionQueue(
    depth: Int, channel: (any CompletionChannel)?
  ) throws(VerbsError) -> any CompletionQueue {
    guard depth > 0, depth <= limits.maxCompletionQueueEntries else {
      throw .invalidArgument("completion queue depth \(depth)")
    }
    var soft: SoftChannel?
    if let channel {
      guard let c = channel as? SoftChannel else {
        throw .invalidArgument("completion channel of another device")
      }
      soft = c
    }
    return SoftCompletionQueue(device: self, depth: depth, channel: soft)
  }

  public func makeSharedReceiveQueue(depth: Int) throws(VerbsError) -> any SharedReceiveQueue {
    guard depth > 0, depth <= limits.maxSharedReceiveQueueWorkRequests else {
      throw .invalidArgument("shared receive queue depth \(depth)")
    }
    return SoftSharedReceiveQueue(device: self, depth: depth)
  }

  public func makeQueuePair(
    sendCQ: any CompletionQueue, receiveCQ: any CompletionQueue, srq: (any SharedReceiveQueue)?,
    maxSend: Int, maxReceive: Int
  ) throws(VerbsError) -> any QueuePair {
    guard let send = sendCQ as? SoftCompletionQueue,
      let receive = receiveCQ as? SoftCompletionQueue,
      send.device === self, receive.device === self
    else { throw .invalidArgument("completion queue of another device") }
    var shared: SoftSharedReceiveQueue?
    if let srq {
      guard let s = srq as? SoftSharedReceiveQueue, s.device === self else {
        throw .invalidArgument("shared receive queue of another device")
      }
      shared = s
    }
    guard maxSend > 0, maxSend <= limits.maxQueuePairWorkRequests,
      shared != nil || (maxReceive > 0 && maxReceive <= limits.maxQueuePairWorkRequests)
    else { throw .invalidArgument("queue pair sizes \(maxSend)/\(maxReceive)") }
    return lock.withLock {
      var number = nextQPN & 0xFF_FFFF
      while number == 0 || queuePairs[number] != nil { number = (number + 1) & 0xFF_FFFF }
      nextQPN = number + 1
      let qp = SoftQueuePair(
        device: self, number: number, sendCQ: send, receiveCQ: receive, srq: shared,
        maxSend: maxSend, maxReceive: maxReceive)
      queuePairs[number] = qp
      return qp
    }
  }

  // MARK: internals (under `lock`)

  func wake() {
    var one: UInt64 = 1
    _ = Glibc.write(wakeFD, &one, 8)
  }

  /// Whether `[address, address + length)` lies in region `key` with `access`.
  func check(key: UInt32, address: UInt64, length: UInt64, access: MemoryAccess) -> Bool {
    guard let region = regions[key], region.access.contains(access) else { return false }
    let base = UInt64(UInt(bitPattern: region.base))
    let (end, overflow) = address.addingReportingOverflow(length)
    return !overflow && address >= base && end <= base + UInt64(region.length)
  }

  /// Adds a completion; a full queue is an overrun (the completion is lost and the queue pair
  /// fails, as on hardware where the CQ overrun is a fatal event).
  func complete(_ cq: SoftCompletionQueue, _ completion: WorkCompletion, qp: SoftQueuePair) {
    guard cq.entries.count - cq.head < cq.depth else {
      overruns += 1
      if qp.stateValue != .error { qp.fail(first: .fatal) }
      return
    }
    cq.entries.append(completion)
    cq.count.wrappingIncrement(ordering: .releasing)
    if cq.armed {
      cq.armed = false
      cq.channel?.signal()
    }
  }

  /// Opens the wire to `qp`'s peer (we are the smaller end) or adopts a waiting one.
  func attachLink(_ qp: SoftQueuePair) {
    guard let remote = qp.remote else { return }
    if let parked = links.first(where: {
      $0.qp == nil && $0.helloDone && $0.localQPN == qp.number && $0.peerGID == remote.gid
        && $0.peerQPN == remote.queuePairNumber
    }) {
      guard qp.stateValue != .error else {
        closeLink(parked)
        return
      }
      parked.qp = qp
      qp.link = parked
      qp.transmitPending()
      // Requests may already sit in its input buffer, where poll() cannot see them.
      readInput(parked)
      return
    }
    let smaller =
      gid.bytes.lexicographicallyPrecedes(remote.gid.bytes)
      || (gid == remote.gid && qp.number < remote.queuePairNumber)
    guard smaller else {
      qp.linkDeadline = now() + connectTimeout
      return
    }
    let fd = socket(
      AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
    var address = SoftVerbs.socketAddress(remote.gid)
    let connected =
      fd >= 0
      && withUnsafePointer(to: &address.0) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, address.1) }
      } == 0
    guard connected else {
      if fd >= 0 { Glibc.close(fd) }
      qp.fail(first: .retryExceeded)
      return
    }
    let link = SoftLink(fd: fd)
    link.helloDone = true
    link.qp = qp
    link.localQPN = qp.number
    link.peerGID = remote.gid
    link.peerQPN = remote.queuePairNumber
    links.append(link)
    qp.link = link
    // HELLO: our GID as payload, our QPN in the rkey word, the peer's QPN as immediate.
    var hello = SoftPacket(opcode: .hello, length: 16)
    hello.rkey = qp.number
    hello.immediate = remote.queuePairNumber
    link.helloBytes.copyMemory(from: gid.bytes, byteCount: 16)
    link.enqueue(
      SoftOut(
        header: hello, payload: UnsafeRawPointer(link.helloBytes), length: 16, isRequest: false))
    qp.transmitPending()
    flush(link)
    wake()
  }

  /// Writes what `link` has queued, as far as the socket takes it.
  func flush(_ link: SoftLink) {
    guard !link.closed else { return }
    let result = link.writeOut()
    switch result {
    case .done:
      if link.wantWrite {
        link.wantWrite = false
      }
      if link.closeWhenFlushed { closeLink(link) }
    case .blocked:
      if !link.wantWrite {
        link.wantWrite = true
        wakeUnlessOnWireThread()
      }
    case .failed:
      linkFailed(link)
    }
  }

  /// The wire broke: the peer is gone. Its queue pair fails with retryExceeded.
  func linkFailed(_ link: SoftLink) {
    if let qp = link.qp, qp.link === link, qp.stateValue != .error {
      qp.fail(first: .retryExceeded)
    }
    closeLink(link)
  }

  func closeLink(_ link: SoftLink) {
    guard !link.closed else { return }
    link.closed = true
    if let qp = link.qp, qp.link === link { qp.link = nil }
    link.qp = nil
    // The fd is closed by the wire thread, which may be polling it right now.
    wakeUnlessOnWireThread()
  }

  /// A posting thread changed what the wire thread must poll for (a write that blocked, a
  /// wire to close): wake it. The wire thread itself rebuilds its poll set anyway.
  private func wakeUnlessOnWireThread() {
    if pthread_equal(wireThread, pthread_self()) == 0 { wake() }
  }

  func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  // MARK: the wire thread

  private func run() {
    lock.withLock { wireThread = pthread_self() }
    var fds: [pollfd] = []
    var polled: [SoftLink] = []
    while true {
      fds.removeAll(keepingCapacity: true)
      polled.removeAll(keepingCapacity: true)
      fds.append(pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0))
      fds.append(pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0))
      let exit: Bool = lock.withLock {
        if stopped {
          for link in links { Glibc.close(link.fd) }
          links.removeAll()
          return true
        }
        housekeeping()
        for link in links {
          var events: Int16 = 0
          if link.rnrWaiting == nil && (link.qp != nil || !link.helloDone) {
            events |= Int16(POLLIN)
          }
          if link.wantWrite { events |= Int16(POLLOUT) }
          fds.append(pollfd(fd: link.fd, events: events, revents: 0))
          polled.append(link)
        }
        return false
      }
      if exit { break }
      let ready = poll(&fds, nfds_t(fds.count), 100)
      if ready <= 0 { continue }
      if fds[0].revents != 0 {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
      }
      lock.lock()
      if fds[1].revents != 0 { acceptLinks() }
      for (index, link) in polled.enumerated() where !link.closed {
        let revents = fds[index + 2].revents
        if revents & Int16(POLLOUT) != 0 { flush(link) }
        if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 && !link.closed {
          readInput(link)
        }
      }
      lock.unlock()
    }
    Glibc.close(listenFD)
    Glibc.close(wakeFD)
  }

  /// Timers and cleanup: closed links, HELLO timeouts, receiver-not-ready waits, wires that
  /// never came.
  private func housekeeping() {
    let t = now()
    links.removeAll { link in
      if link.closed {
        Glibc.close(link.fd)
        return true
      }
      return false
    }
    for link in links where link.qp == nil && t - link.createdAt > connectTimeout {
      closeLink(link)  // never said HELLO, or its queue pair never reached RTR
    }
    for link in links {
      guard let since = link.rnrWaiting, let limit = receiverNotReadyTimeout, t - since > limit
      else {
        // A receive may have been posted since: try again.
        if link.rnrWaiting != nil { readInput(link) }
        continue
      }
      link.rnrWaiting = nil
      guard let qp = link.qp, let header = link.pending else { continue }
      link.pending = nil
      nak(link, seq: header.seq, status: .receiverNotReadyRetryExceeded)
      qp.fail(first: .workRequestFlushed)
    }
    for qp in queuePairs.values where qp.link == nil && qp.stateValue == .readyToSend {
      if let deadline = qp.linkDeadline, t > deadline { qp.fail(first: .retryExceeded) }
    }
  }

  private func acceptLinks() {
    while true {
      let fd = lv_accept_nonblocking(listenFD)
      if fd < 0 { return }
      guard links.count < 65536 else {
        Glibc.close(fd)
        continue
      }
      let link = SoftLink(fd: fd)
      link.createdAt = now()
      links.append(link)
    }
  }

  /// Reads and handles everything available on `link`.
  func readInput(_ link: SoftLink) {
    // A parked wire is not read until its queue pair is ready to receive.
    while !link.closed && (link.qp != nil || !link.helloDone) {
      if link.payloadRemaining > 0 {
        switch link.readPayload() {
        case .progress: continue
        case .wouldBlock:
          acknowledge(link)
          return
        case .failed:
          linkFailed(link)
          return
        }
      }
      if let finish = link.onPayloadDone {
        link.onPayloadDone = nil
        finish()
        continue
      }
      if let header = link.pending {
        // A SEND waiting for a receive (receiver not ready).
        guard handleSend(link, header) else { return }
        continue
      }
      guard let header = link.readHeader() else {
        if link.readFailed {
          linkFailed(link)
        } else {
          acknowledge(link)
        }
        return
      }
      guard handle(link, header) else {
        protocolError(link)
        return
      }
    }
  }

  private func protocolError(_ link: SoftLink) {
    if let qp = link.qp, qp.stateValue != .error { qp.fail(first: .badResponse) }
    closeLink(link)
  }

  /// Sends the cumulative ACK for what was processed since the last one.
  private func acknowledge(_ link: SoftLink) {
    guard link.lastProcessed > link.lastAcked else { return }
    link.lastAcked = link.lastProcessed
    var ack = SoftPacket(opcode: .ack, length: 0)
    ack.seq = link.lastProcessed
    link.enqueue(SoftOut(header: ack, payload: nil, length: 0, isRequest: false))
    flush(link)
  }

  private func nak(_ link: SoftLink, seq: UInt64, status: CompletionStatus) {
    var nak = SoftPacket(opcode: .nak, length: 0)
    nak.seq = seq
    nak.status = UInt16(status.rawValue)
    link.lastProcessed = seq
    link.lastAcked = seq
    link.enqueue(SoftOut(header: nak, payload: nil, length: 0, isRequest: false))
    flush(link)
  }

  /// One packet header; false on a protocol violation.
  private func handle(_ link: SoftLink, _ header: SoftPacket) -> Bool {
    guard let opcode = header.opcodeValue, header.length <= SoftPacket.maxPayload else {
      return false
    }
    if opcode == .hello {
      guard link.qp == nil, !link.helloDone, header.length == 16 else { return false }
      link.startPayload(into: nil, count: 16, keepSmall: true)
      link.onPayloadDone = { [unowned self, unowned link] in self.hello(link, header) }
      return true
    }
    guard let qp = link.qp else { return false }
    if qp.stateValue == .error {
      // A failed queue pair answers nothing: drop what arrives and let the wire go, so the
      // requester fails (retry exceeded, as on hardware) instead of waiting forever.
      link.startPayload(into: nil, count: Int(header.length))
      link.closeWhenFlushed = true
      flush(link)
      return true
    }
    switch opcode {
    case .send, .write, .readRequest:
      guard header.seq == link.lastProcessed + 1 else { return false }
      if opcode == .send {
        // Without a receive it waits (`pending`); the read loop retries it.
        _ = handleSend(link, header)
        return true
      }
      let need: MemoryAccess = opcode == .write ? .remoteWrite : .remoteRead
      let length = opcode == .write ? UInt64(header.length) : UInt64(header.immediate)
      guard opcode == .write || header.length == 0 else { return false }
      guard check(key: header.rkey, address: header.remoteAddress, length: length, access: need)
      else {
        link.startPayload(into: nil, count: Int(header.length))
        nak(link, seq: header.seq, status: .remoteAccessError)
        qp.fail(first: .workRequestFlushed)
        return true
      }
      let target = UnsafeMutableRawPointer(bitPattern: UInt(header.remoteAddress))
      if opcode == .write {
        link.startPayload(into: target, count: Int(header.length))
        link.onPayloadDone = { [unowned link] in link.lastProcessed = header.seq }
      } else {
        var response = SoftPacket(opcode: .readResponse, length: UInt32(length))
        response.seq = header.seq
        link.lastProcessed = header.seq
        link.lastAcked = header.seq
        link.enqueue(
          SoftOut(
            header: response, payload: target.map { UnsafeRawPointer($0) }, length: Int(length),
            isRequest: false))
        flush(link)
      }
      return true
    case .readResponse:
      guard qp.completeBefore(seq: header.seq), let front = qp.front,
        front.seq == header.seq, front.request.opcode == .rdmaRead,
        header.length == (front.request.local?.length ?? 0)
      else { return false }
      let target = front.request.local.flatMap {
        UnsafeMutableRawPointer(bitPattern: UInt($0.address))
      }
      link.startPayload(into: target, count: Int(header.length))
      link.onPayloadDone = { [unowned qp] in qp.completeFront(status: .success) }
      return true
    case .ack:
      guard header.length == 0 else { return false }
      return qp.completeThrough(seq: header.seq)
    case .nak:
      guard header.length == 0, qp.completeBefore(seq: header.seq), let front = qp.front,
        front.seq == header.seq
      else { return false }
      qp.fail(first: CompletionStatus(code: Int32(header.status)))
      return true
    case .hello:
      return false
    }
  }

  /// Handles a SEND once a receive is available; false (and the link waits) while none is.
  private func handleSend(_ link: SoftLink, _ header: SoftPacket) -> Bool {
    guard let qp = link.qp else { return false }
    guard let receive = qp.takeReceive() else {
      if link.pending == nil {
        rnrEvents += 1
        link.pending = header
        link.rnrWaiting = now()
        acknowledge(link)
      }
      return false
    }
    link.pending = nil
    link.rnrWaiting = nil
    let immediate: UInt32? = header.flags & SoftPacket.hasImmediate != 0 ? header.immediate : nil
    let buffer = receive.buffer
    var status = CompletionStatus.success
    if !check(
      key: buffer.lkey, address: buffer.address, length: UInt64(buffer.length), access: .localWrite)
    {
      status = .localProtectionError
    } else if header.length > buffer.length {
      status = .localLengthError
    }
    guard status == .success else {
      link.startPayload(into: nil, count: Int(header.length))
      complete(
        qp.receiveCQ,
        WorkCompletion(
          id: receive.id, status: status, opcode: .receive, queuePairNumber: qp.number),
        qp: qp)
      nak(
        link, seq: header.seq,
        status: status == .localLengthError ? .remoteInvalidRequest : .remoteOperationError)
      qp.fail(first: .workRequestFlushed)
      return true
    }
    link.startPayload(
      into: UnsafeMutableRawPointer(bitPattern: UInt(buffer.address)), count: Int(header.length))
    link.onPayloadDone = { [unowned self, unowned link, unowned qp] in
      link.lastProcessed = header.seq
      self.complete(
        qp.receiveCQ,
        WorkCompletion(
          id: receive.id, status: .success, opcode: .receive, byteLength: header.length,
          immediate: immediate, queuePairNumber: qp.number), qp: qp)
    }
    return true
  }

  private func hello(_ link: SoftLink, _ header: SoftPacket) {
    let gidBytes = Array(link.smallPayload.prefix(16))
    guard gidBytes.count == 16 else {
      closeLink(link)
      return
    }
    link.helloDone = true
    link.peerGID = VerbsGID(gidBytes)
    link.peerQPN = header.rkey
    link.localQPN = header.immediate
    guard let qp = queuePairs[header.immediate] else {
      closeLink(link)  // no such queue pair: the peer's requests will fail
      return
    }
    if qp.stateValue == .error || qp.destroyed {
      closeLink(link)  // it failed before its wire came: the peer's requests fail
      return
    }
    if let remote = qp.remote, qp.link == nil, remote.gid == link.peerGID,
      remote.queuePairNumber == link.peerQPN
    {
      link.qp = qp
      qp.link = link
      qp.linkDeadline = nil
      qp.transmitPending()
    }
    // Otherwise it waits, parked, until the queue pair is connected to this peer.
  }
}

/// A registered memory region of the soft device.
// immutable; deregistering takes the device's `lock`
final class SoftRegion: MemoryRegion, @unchecked Sendable {
  unowned let device: SoftVerbs
  let base: UnsafeMutableRawPointer
  let length: Int
  let key: UInt32
  let access: MemoryAccess
  var lkey: UInt32 { key }
  var rkey: UInt32 { key }

  init(
    device: SoftVerbs, base: UnsafeMutableRawPointer, length: Int, key: UInt32, access: MemoryAccess
  ) {
    self.device = device
    self.base = base
    self.length = length
    self.key = key
    self.access = access
  }

  func deregister() {
    device.lock.withLock {
      if device.regions[key] === self { device.regions[key] = nil }
    }
  }
}

// an immutable eventfd; read(2) and write(2) on it are thread-safe
final class SoftChannel: CompletionChannel, @unchecked Sendable {
  let fileDescriptor: Int32

  init(fd: Int32) { fileDescriptor = fd }

  func signal() {
    var one: UInt64 = 1
    _ = Glibc.write(fileDescriptor, &one, 8)
  }

  func takeEvents() {
    var value: UInt64 = 0
    _ = Glibc.read(fileDescriptor, &value, 8)
  }

  deinit { Glibc.close(fileDescriptor) }
}

// entries under the device's `lock`; `count` is atomic
final class SoftCompletionQueue: CompletionQueue, @unchecked Sendable {
  unowned let device: SoftVerbs
  let depth: Int
  let channel: SoftChannel?
  var entries: [WorkCompletion] = []
  var head = 0
  var armed = false
  /// Entries waiting, readable without the device lock so an idle poll costs one load.
  let count = ManagedAtomic<Int>(0)

  init(device: SoftVerbs, depth: Int, channel: SoftChannel?) {
    self.device = device
    self.depth = depth
    self.channel = channel
  }

  func poll(into out: UnsafeMutableBufferPointer<WorkCompletion>) -> Int {
    guard count.load(ordering: .acquiring) > 0 else { return 0 }
    return device.lock.withLock {
      let n = min(out.count, entries.count - head)
      for i in 0..<n { out[i] = entries[head + i] }
      head += n
      if head == entries.count {
        entries.removeAll(keepingCapacity: true)
        head = 0
      } else if head > 4096 {
        entries.removeFirst(head)
        head = 0
      }
      count.wrappingDecrement(by: n, ordering: .releasing)
      return n
    }
  }

  func requestNotification() {
    device.lock.withLock { armed = true }
  }
}

struct SoftReceive {
  let id: UInt64
  let buffer: ScatterGather
}

// `queue` under the device's `lock`
final class SoftSharedReceiveQueue: SharedReceiveQueue, @unchecked Sendable {
  unowned let device: SoftVerbs
  let depth: Int
  var queue = SoftFIFO<SoftReceive>()

  init(device: SoftVerbs, depth: Int) {
    self.device = device
    self.depth = depth
  }

  func postReceive(id: UInt64, _ buffer: ScatterGather) throws(VerbsError) {
    device.lock.lock()
    guard queue.count < depth else {
      device.lock.unlock()
      throw .resources("shared receive queue is full")
    }
    queue.append(SoftReceive(id: id, buffer: buffer))
    let wakeNeeded = device.links.contains { $0.rnrWaiting != nil }
    device.lock.unlock()
    if wakeNeeded { device.wake() }
  }
}

/// A first-in first-out queue without per-element allocation.
struct SoftFIFO<Element> {
  private var items: [Element] = []
  private var head = 0

  var count: Int { items.count - head }
  var isEmpty: Bool { count == 0 }
  var first: Element? { head < items.count ? items[head] : nil }

  mutating func append(_ item: Element) { items.append(item) }

  mutating func popFirst() -> Element? {
    guard head < items.count else { return nil }
    let item = items[head]
    head += 1
    if head == items.count {
      items.removeAll(keepingCapacity: true)
      head = 0
    } else if head >= 1024 && head * 2 >= items.count {
      items.removeFirst(head)
      head = 0
    }
    return item
  }

  mutating func removeAll() {
    items.removeAll()
    head = 0
  }

  subscript(offset: Int) -> Element {
    get { items[head + offset] }
    set { items[head + offset] = newValue }
  }
}
