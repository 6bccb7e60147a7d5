import Foundation

struct SoftOutstanding {
  let seq: UInt64
  let request: SendRequest
  /// Set when posting found a bad local buffer: the request fails when it reaches the front.
  var poison: CompletionStatus?
}

/// A reliable connected queue pair of the soft device. All state is under the device's lock.
final class SoftQueuePair: QueuePair, @unchecked Sendable {  // all state under the device's `lock`
  unowned let device: SoftVerbs
  let number: UInt32
  let initialPSN = UInt32.random(in: 0...0xFF_FFFF)
  let sendCQ: SoftCompletionQueue
  let receiveCQ: SoftCompletionQueue
  let srq: SoftSharedReceiveQueue?
  let maxSend: Int
  let maxReceive: Int

  var stateValue: QueuePairState = .reset
  var receives = SoftFIFO<SoftReceive>()
  /// Posted send requests in order, oldest first, until their response arrives.
  var outstanding = SoftFIFO<SoftOutstanding>()
  /// How many of `outstanding` (from the front) went onto the wire.
  var transmitted = 0
  var nextSeq: UInt64 = 1
  var remote: QueuePairEndpoint?
  var link: SoftLink?
  var linkDeadline: Double?
  var destroyed = false

  init(
    device: SoftVerbs, number: UInt32, sendCQ: SoftCompletionQueue,
    receiveCQ: SoftCompletionQueue, srq: SoftSharedReceiveQueue?, maxSend: Int, maxReceive: Int
  ) {
    self.device = device
    self.number = number
    self.sendCQ = sendCQ
    self.receiveCQ = receiveCQ
    self.srq = srq
    self.maxSend = maxSend
    self.maxReceive = maxReceive
  }

  var state: QueuePairState { device.lock.withLock { stateValue } }

  func connect(to remote: QueuePairEndpoint) throws(VerbsError) {
    device.lock.lock()
    defer { device.lock.unlock() }
    guard stateValue == .reset, !destroyed else {
      throw .invalidState("connect a queue pair in \(stateValue)")
    }
    self.remote = remote
    stateValue = .readyToSend
    device.attachLink(self)
  }

  func moveToError() {
    device.lock.withLock {
      if stateValue != .error && !destroyed { fail(first: .workRequestFlushed) }
    }
  }

  func postSend(_ request: SendRequest) throws(VerbsError) {
    device.lock.lock()
    defer { device.lock.unlock() }
    switch stateValue {
    case .readyToSend:
      break
    case .error:
      // Accepted but never executed: it completes as flushed (the beacon relies on this).
      device.complete(
        sendCQ,
        WorkCompletion(
          id: request.id, status: .workRequestFlushed, opcode: request.opcode.completionOpcode,
          queuePairNumber: number), qp: self)
      return
    default:
      throw .invalidState("post send on a queue pair in \(stateValue)")
    }
    guard outstanding.count < maxSend else {
      throw .resources("send queue full (\(maxSend) requests)")
    }
    guard request.opcode != .rdmaWriteWithImmediate else {
      throw .invalidArgument("soft-verbs does not emulate RDMA WRITE with immediate")
    }
    var poison: CompletionStatus?
    if let local = request.local, local.length > 0 {
      let access: MemoryAccess = request.opcode == .rdmaRead ? .localWrite : []
      if !device.check(
        key: local.lkey, address: local.address, length: UInt64(local.length), access: access)
      {
        poison = .localProtectionError
      }
    }
    outstanding.append(SoftOutstanding(seq: nextSeq, request: request, poison: poison))
    nextSeq += 1
    transmitPending()
  }

  func postReceive(id: UInt64, _ buffer: ScatterGather) throws(VerbsError) {
    device.lock.lock()
    guard srq == nil else {
      device.lock.unlock()
      throw .invalidArgument("the queue pair receives from a shared receive queue")
    }
    switch stateValue {
    case .reset:
      device.lock.unlock()
      throw .invalidState("post receive on a queue pair in RESET")
    case .error:
      device.complete(
        receiveCQ,
        WorkCompletion(
          id: id, status: .workRequestFlushed, opcode: .receive, queuePairNumber: number), qp: self)
      device.lock.unlock()
      return
    default:
      break
    }
    guard receives.count < maxReceive else {
      device.lock.unlock()
      throw .resources("receive queue full (\(maxReceive) requests)")
    }
    receives.append(SoftReceive(id: id, buffer: buffer))
    let waiting = link?.rnrWaiting != nil
    device.lock.unlock()
    if waiting { device.wake() }
  }

  func destroy() {
    device.lock.withLock {
      guard !destroyed else { return }
      destroyed = true
      if device.queuePairs[number] === self { device.queuePairs[number] = nil }
      if let link { device.closeLink(link) }
      outstanding.removeAll()
      receives.removeAll()
      transmitted = 0
    }
  }

  // MARK: under the device lock

  func takeReceive() -> SoftReceive? {
    if let srq { return srq.queue.popFirst() }
    return receives.popFirst()
  }

  /// Puts every posted request that is not yet on the wire onto it, in order.
  func transmitPending() {
    guard let link, !link.closed, stateValue == .readyToSend else { return }
    while transmitted < outstanding.count {
      let entry = outstanding[transmitted]
      if entry.poison != nil { break }
      let request = entry.request
      let length = request.local?.length ?? 0
      let local = request.local.flatMap { UnsafeRawPointer(bitPattern: UInt($0.address)) }
      var packet: SoftPacket
      var payload: UnsafeRawPointer?
      switch request.opcode {
      case .send, .sendWithImmediate:
        packet = SoftPacket(opcode: .send, length: length)
        if request.opcode == .sendWithImmediate {
          packet.flags = SoftPacket.hasImmediate
          packet.immediate = request.immediate
        }
        payload = local
      case .rdmaWrite, .rdmaWriteWithImmediate:
        packet = SoftPacket(opcode: .write, length: length)
        payload = local
      case .rdmaRead:
        packet = SoftPacket(opcode: .readRequest, length: 0)
        packet.immediate = length
      }
      packet.seq = entry.seq
      packet.remoteAddress = request.remoteAddress
      if request.opcode != .send && request.opcode != .sendWithImmediate {
        packet.rkey = request.rkey
      }
      link.enqueue(
        SoftOut(
          header: packet, payload: payload, length: payload == nil ? 0 : Int(packet.length),
          isRequest: true))
      transmitted += 1
    }
    failIfPoisonAtFront()
    if stateValue == .readyToSend { device.flush(link) }
  }

  private func failIfPoisonAtFront() {
    if let front = outstanding.first, let status = front.poison { fail(first: status) }
  }

  var front: SoftOutstanding? { outstanding.first }

  /// Completes every request up to and including `seq` (a cumulative ACK). False if the peer
  /// acknowledged something we never sent, or a READ without its data.
  func completeThrough(seq: UInt64) -> Bool {
    guard seq < nextSeq else { return false }
    while let first = outstanding.first, first.seq <= seq {
      guard transmitted > 0, first.request.opcode != .rdmaRead else { return false }
      _ = outstanding.popFirst()
      transmitted -= 1
      if first.request.signaled {
        device.complete(
          sendCQ,
          WorkCompletion(
            id: first.request.id, status: .success, opcode: first.request.opcode.completionOpcode,
            byteLength: first.request.local?.length ?? 0, queuePairNumber: number), qp: self)
      }
    }
    failIfPoisonAtFront()
    return true
  }

  func completeBefore(seq: UInt64) -> Bool { seq > 0 && completeThrough(seq: seq - 1) }

  func completeFront(status: CompletionStatus) {
    guard let first = outstanding.popFirst() else { return }
    transmitted = max(transmitted - 1, 0)
    if status != .success || first.request.signaled {
      device.complete(
        sendCQ,
        WorkCompletion(
          id: first.request.id, status: status, opcode: first.request.opcode.completionOpcode,
          byteLength: first.request.local?.length ?? 0, queuePairNumber: number), qp: self)
    }
    failIfPoisonAtFront()
  }

  /// Moves to the error state: the oldest outstanding request completes with `first`, every
  /// other one (and every posted receive) as flushed, and the wire closes once what is queued
  /// on it (a NAK, say) has gone out.
  func fail(first: CompletionStatus) {
    guard stateValue != .error else { return }
    stateValue = .error
    var status = first
    while let entry = outstanding.popFirst() {
      device.complete(
        sendCQ,
        WorkCompletion(
          id: entry.request.id, status: status, opcode: entry.request.opcode.completionOpcode,
          queuePairNumber: number), qp: self)
      status = .workRequestFlushed
    }
    transmitted = 0
    while let receive = receives.popFirst() {
      device.complete(
        receiveCQ,
        WorkCompletion(
          id: receive.id, status: .workRequestFlushed, opcode: .receive, queuePairNumber: number),
        qp: self)
    }
    linkDeadline = nil
    if let link {
      link.dropUnsentRequests()
      link.closeWhenFlushed = true
      device.flush(link)
    }
  }
}

extension SendOpcode {
  var completionOpcode: CompletionOpcode {
    switch self {
    case .send, .sendWithImmediate: return .send
    case .rdmaWrite, .rdmaWriteWithImmediate: return .rdmaWrite
    case .rdmaRead: return .rdmaRead
    }
  }
}
