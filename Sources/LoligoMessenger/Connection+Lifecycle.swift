import LoligoCore
import LoligoTrace
import LoligoWire
import NIOCore

/// Opening, faulting, reconnecting and closing a session. All on the session's loop.
extension Connection {
  /// Starts (or restarts) the outgoing connection attempt.
  func startConnect() {
    guard state != .closed else { return }
    state = .connecting
    globalSeq = messenger.nextGlobalSeq()
    if everReady { connectSeq += 1 }
    armReadyTimeout()
    let address: SocketAddress
    do {
      address = try peerAddr.socketAddress()
    } catch {
      fault("cannot connect: \(error)")
      return
    }
    let loop = self.loop
    messenger.transport.connect(
      to: address, on: loop, timeout: .milliseconds(Int64(messenger.readyTimeout * 1000)),
      options: messenger.transportOptions
    ).whenComplete { result in
      switch result {
      case .success(let stream):
        self.onLoop {
          guard self.state == .connecting else {
            stream.close()
            return
          }
          self.attach(stream)
          self.state = .banner
          self.writeBanner()
        }
      case .failure(let error):
        self.onLoop {
          guard self.state == .connecting else { return }
          self.fault("connect to \(self.peerAddr.hostPort) failed: \(describe(error))")
        }
      }
    }
  }

  /// Starts the handshake on a stream the listener accepted.
  func startAccepted(_ stream: any TransportStream) {
    armReadyTimeout()
    attach(stream)
    state = .banner
    writeBanner()
  }

  func attach(_ stream: any TransportStream) {
    self.stream = stream
    decoder = FrameDecoder(limits: messenger.frameLimits, crcData: messenger.crcData)
    writtenCount = 0
    readPaused = false
    inReadBatch = false
    stream.setDelegate(self)
  }

  /// Detaches and closes the current stream without callbacks.
  func dropStream() {
    guard let old = stream else { return }
    stream = nil
    inReadBatch = false
    old.setDelegate(nil)
    old.close()
  }

  func armReadyTimeout() {
    readyTimeout?.cancel()
    let seconds = messenger.readyTimeout
    readyTimeout = loop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) { [self] in
      if self.state != .ready && self.state != .closed && self.state != .standby {
        self.fault("no ready session after \(seconds) s (ms_connection_ready_timeout)")
      }
    }
  }

  /// The transport failed or the peer broke the protocol. Lossy sessions end; a lossless client
  /// reconnects with backoff; a lossless server waits for its client to come back.
  /// `expected` marks an orderly end (a lossy client hanging up): logged only at level 5.
  /// `protocolError` marks bytes the peer got wrong: always logged.
  func fault(_ reason: String, expected: Bool = false, protocolError: Bool = false) {
    guard state != .closed else { return }
    let wasReady = state == .ready
    if protocolError {
      Log.shared.error("ms", "\(self) closing in state \(state): \(reason)")
    } else if wasReady {
      msLog(expected ? 5 : 1) { "\(self) fault: \(reason)" }
    } else {
      // Accepted connections that fail the handshake are worth a line; our own connect
      // retries are not.
      msLog(isInitiator ? 2 : 1) { "\(self) fault in \(self.state): \(reason)" }
    }
    dropStream()
    readyTimeout?.cancel()
    delayedAck?.cancel()
    delayedAck = nil
    keepaliveTask?.cancel()
    keepaliveTask = nil
    if !everReady && !isInitiator {
      // An accepted connection that never became a session: nothing to keep or report.
      shutdown(reason: reason, notify: false)
      return
    }
    if policy.lossy {
      shutdown(reason: reason, notify: true, expected: expected)
      return
    }
    state = .standby
    writtenCount = 0
    standbyGeneration &+= 1
    if policy.server || !isInitiator {
      // The client reconnects to us; forget the session if it does not come back in time.
      let generation = standbyGeneration
      let timeout = messenger.config.double(.msStandbyTimeout)
      _ = loop.scheduleTask(in: .nanoseconds(Int64(timeout * 1e9))) { [self] in
        self.onLoop {
          guard self.state == .standby, self.standbyGeneration == generation else { return }
          self.shutdown(reason: "client did not reconnect within \(timeout) s", notify: true)
        }
      }
      return
    }
    failedAttempts += 1
    if !everReady {
      resolveReady(.failure(MessengerError.connectFailed(reason)))
    }
    let limit = messenger.config.int(.msMaxReconnectAttempts)
    if failedAttempts > limit {
      shutdown(reason: "gave up after \(limit) reconnect attempts: \(reason)", notify: true)
      return
    }
    let delay = backoff(attempt: failedAttempts, afterReady: wasReady)
    messenger.counters.add(messenger.counters.reconnects, 1)
    reconnectTask = loop.scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) { [self] in
      if self.state == .standby { self.startConnect() }
    }
  }

  /// Immediate retry after a session that was working; otherwise exponential from
  /// `ms_initial_backoff` up to `ms_max_backoff`.
  func backoff(attempt: Int, afterReady: Bool) -> Double {
    if afterReady { return 0 }
    let initial = messenger.config.double(.msInitialBackoff)
    let maximum = messenger.config.double(.msMaxBackoff)
    return min(maximum, initial * Double(1 << min(attempt - 1, 30)))
  }

  /// Ends the session for good.
  func shutdown(reason: String, notify: Bool, expected: Bool = false) {
    guard state != .closed else { return }
    state = .closed
    _ = markClosed()
    dropStream()
    readyTimeout?.cancel()
    reconnectTask?.cancel()
    delayedAck?.cancel()
    keepaliveTask?.cancel()
    var dropped = 0
    while let entry = sent.popFirst() { dropped += entry.message.payloadBytes }
    writtenCount = 0
    resolveReady(.failure(MessengerError.closed(reason)))
    messenger.forget(self)
    if notify {
      // A session that never came up was a failed connect: the caller hears of it anyway.
      msLog(expected ? 5 : everReady ? 1 : 2) { "\(self) reset: \(reason)" }
      messenger.dispatcher?.connectionReset(self, reason: reason)
    }
  }

  /// Completes the `ready` future once; later outcomes are ignored.
  func resolveReady(_ result: Result<Void, any Error>) {
    guard !readyResolved else { return }
    readyResolved = true
    readyPromise.completeWith(result)
  }

  func becomeReady() {
    state = .ready
    standbyGeneration &+= 1
    readyTimeout?.cancel()
    failedAttempts = 0
    let first = !everReady
    everReady = true
    setPeer(name: peerType.map { EntityName($0, peerGID) }, lossy: policy.lossy)
    MsgrTrace.sessionReady(
      conn: id, initiator: isInitiator, myType: messenger.name.type.rawValue,
      myNum: messenger.name.num, peerType: peerType?.rawValue ?? 0, peerNum: peerGID,
      lossy: policy.lossy, peerAddress: self.peerAddr.description)
    if first { resolveReady(.success(())) }
    msLog(5) {
      "\(self) ready (in_seq \(self.inSeq), out_seq \(self.outSeq), lossy \(self.policy.lossy))"
    }
    let interval = messenger.config.double(.msKeepaliveInterval)
    if interval > 0 && keepaliveTask == nil {
      let amount = TimeAmount.nanoseconds(Int64(interval * 1e9))
      keepaliveTask = loop.scheduleRepeatedTask(initialDelay: amount, delay: amount) {
        [self] _ in
        if self.state == .ready { self.writeKeepalive() }
      }
    }
    messenger.dispatcher?.connectionReady(self)
    writeQueued()
  }
}

public enum MessengerError: Error, CustomStringConvertible, Equatable {
  case connectFailed(String)
  case closed(String)
  case bindFailed(String)
  /// The configured transport cannot be used here (no RDMA device, memory-lock limit).
  case transportUnavailable(String)

  public var description: String {
    switch self {
    case .transportUnavailable(let why): return why
    case .connectFailed(let why): return why
    case .closed(let why): return "connection closed: \(why)"
    case .bindFailed(let why): return why
    }
  }
}

/// A one-line description of a NIO or system error for users.
func describe(_ error: any Error) -> String {
  if let io = error as? IOError {
    return io.description
  }
  if error is ChannelError {
    switch error as! ChannelError {
    case .connectTimeout(let t): return "connect timed out after \(t.nanoseconds / 1_000_000) ms"
    default: return "\(error)"
    }
  }
  return "\(error)"
}
