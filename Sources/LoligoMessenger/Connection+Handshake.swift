import LoligoCore
import LoligoWire
import NIOCore

/// The msgr2 handshake with auth method none, both roles:
///
///     banner <-> banner
///     HELLO <-> HELLO
///     C: AUTH_REQUEST           S: AUTH_DONE, AUTH_SIGNATURE
///     C: AUTH_SIGNATURE
///     C: CLIENT_IDENT | SESSION_RECONNECT
///     S: SERVER_IDENT | SESSION_RECONNECT_OK | SESSION_RETRY(_GLOBAL) | SESSION_RESET | WAIT
extension Connection {
  func writeBanner() {
    guard let stream else { return }
    var out = stream.allocator.buffer(capacity: Banner.size)
    Banner.loligo.encode(to: &out)
    stream.write(out)
    stream.flush()
  }

  func writeControl(_ tag: FrameTag, _ payload: (inout ByteBuffer) -> Void) {
    guard let stream else { return }
    var out = stream.allocator.buffer(capacity: 128)
    encoder.writeControl(tag, into: &out, payload: payload)
    stream.write(out)
    needsFlush = true
    if !inReadBatch { flushNow() }
  }

  func receivedBanner(_ banner: Banner) throws {
    try Banner.loligo.negotiate(with: banner)
    state = .hello
    let seen = stream?.remoteAddress.map { EntityAddr($0) } ?? .blank
    let hello = HelloFrame(entityType: messenger.name.type, peerAddr: isInitiator ? peerAddr : seen)
    writeControl(.hello) { hello.encode(to: &$0) }
  }

  /// Handles a frame received before the session is ready.
  func handleHandshakeFrame(_ frame: Frame) throws {
    var payload = frame.payload
    switch (state, frame.tag) {
    case (.hello, .hello):
      let hello = try HelloFrame(from: &payload)
      peerType = hello.entityType
      if isInitiator {
        messenger.learnAddress(hello.peerAddr)
        let request = AuthRequestFrame(
          method: AuthMethod.none, preferredModes: [AuthMethod.modeCRC], payload: authPayload())
        writeControl(.authRequest) { request.encode(to: &$0) }
      } else if let remote = stream?.remoteAddress {
        setPeer(addr: EntityAddr(remote))
      }
      state = .auth

    case (.auth, .authRequest) where !isInitiator:
      let request = try AuthRequestFrame(from: &payload)
      guard request.method == AuthMethod.none else {
        let refusal = AuthBadMethodFrame(
          method: request.method, result: -95, allowedMethods: [AuthMethod.none],
          allowedModes: [AuthMethod.modeCRC])
        writeControl(.authBadMethod) { refusal.encode(to: &$0) }
        return
      }
      let done = AuthDoneFrame(
        globalID: messenger.nextGlobalID(), connectionMode: AuthMethod.modeCRC,
        payload: emptyBuffer)
      writeControl(.authDone) { done.encode(to: &$0) }
      writeControl(.authSignature) { AuthSignatureFrame().encode(to: &$0) }
      state = .authSignature

    case (.auth, .authDone) where isInitiator:
      let done = try AuthDoneFrame(from: &payload)
      guard done.connectionMode == AuthMethod.modeCRC else {
        throw FrameError.badPayload(.authDone, "connection mode \(done.connectionMode), want crc")
      }
      writeControl(.authSignature) { AuthSignatureFrame().encode(to: &$0) }
      state = .authSignature

    case (.auth, .authBadMethod) where isInitiator:
      let refusal = try AuthBadMethodFrame(from: &payload)
      throw FrameError.badPayload(
        .authBadMethod, "peer refuses auth method \(refusal.method) (error \(refusal.result))")

    case (.authSignature, .authSignature):
      let signature = try AuthSignatureFrame(from: &payload)
      // Auth none has no session key: the signature is all zeros.
      guard signature.signature.allSatisfy({ $0 == 0 }) else {
        throw FrameError.badPayload(.authSignature, "signature mismatch")
      }
      state = .ident
      if isInitiator { sendIdentOrReconnect() }

    case (.ident, .clientIdent) where !isInitiator:
      try handleClientIdent(try IdentFrame(from: &payload, client: true))

    case (.ident, .sessionReconnect) where !isInitiator:
      handleReconnect(try ReconnectFrame(from: &payload))

    case (.ident, .serverIdent) where isInitiator:
      let ident = try IdentFrame(from: &payload, client: false)
      let missing = Features.required & ~ident.supportedFeatures
      if missing != 0 {
        shutdown(
          reason: "server lacks required features 0x\(String(missing, radix: 16))", notify: true)
        return
      }
      peerGID = ident.gid
      serverCookie = ident.cookie
      if ident.isLossy { policy.lossy = true }
      if let addr = ident.addrs.addrs.first, !addr.isBlank { setPeer(addr: addr) }
      becomeReady()

    case (.ident, .sessionReconnectOk) where isInitiator:
      let ok = try U64Frame(from: &payload)
      dropAcknowledged(upTo: ok.value)
      writtenCount = 0
      msLog(5) { "\(self) reconnected, peer had up to seq \(ok.value)" }
      becomeReady()

    case (.ident, .sessionRetry) where isInitiator:
      connectSeq = try Connection.retrySeq(.sessionRetry, &payload) + 1
      sendIdentOrReconnect()

    case (.ident, .sessionRetryGlobal) where isInitiator:
      globalSeq = messenger.nextGlobalSeq(
        above: try Connection.retrySeq(.sessionRetryGlobal, &payload))
      sendIdentOrReconnect()

    case (.ident, .sessionReset) where isInitiator:
      let reset = try ResetFrame(from: &payload)
      resetSession(full: reset.full, reason: "peer reset the session")
      sendIdentOrReconnect()

    case (.ident, .wait) where isInitiator:
      fault("peer asked to wait")

    case (.ident, .identMissingFeatures) where isInitiator:
      let missing = try U64Frame(from: &payload).value
      shutdown(reason: "peer requires features 0x\(String(missing, radix: 16))", notify: true)

    default:
      throw FrameError.unexpectedFrame(frame.tag, state: state.rawValue)
    }
  }

  /// Auth none's payload: who we are (entity type and number).
  private func authPayload() -> ByteBuffer {
    var b = ByteBufferAllocator().buffer(capacity: 16)
    b.writeInteger(UInt8(1))
    messenger.name.encode(to: &b)
    return b
  }

  func sendIdentOrReconnect() {
    let addrs = EntityAddrVec([messenger.myAddr])
    if serverCookie != 0 && !policy.lossy {
      let frame = ReconnectFrame(
        addrs: addrs, clientCookie: clientCookie, serverCookie: serverCookie,
        globalSeq: globalSeq, connectSeq: connectSeq, msgSeq: inSeq)
      writeControl(.sessionReconnect) { frame.encode(to: &$0) }
    } else {
      let ident = IdentFrame(
        addrs: addrs, target: peerAddr, gid: messenger.name.num, globalSeq: globalSeq,
        supportedFeatures: Features.supported, requiredFeatures: Features.required,
        flags: policy.lossy ? identFlagLossy : 0, cookie: clientCookie)
      writeControl(.clientIdent) { ident.encode(to: &$0) }
    }
  }

  /// The peer forgot our session: start a new one. A full reset drops what we queued.
  func resetSession(full: Bool, reason: String) {
    serverCookie = 0
    inSeq = 0
    ackedInSeq = 0
    if !policy.lossy { clientCookie = UInt64.random(in: 1...UInt64.max) }
    var dropped = 0
    if full {
      while let entry = sent.popFirst() { dropped += entry.message.payloadBytes }
      outSeq = 0
    } else {
      // Renumber what is queued so the new session starts at 1.
      let kept = Array(sent)
      sent.removeAll(keepingCapacity: true)
      outSeq = 0
      for entry in kept {
        outSeq += 1
        sent.append(Outgoing(seq: outSeq, message: entry.message))
      }
    }
    writtenCount = 0
    released(dropped)
    if everReady {
      msLog(1) { "\(self) \(reason)\(full ? ", dropped queued messages" : "")" }
      messenger.dispatcher?.connectionReset(self, reason: reason)
    }
  }

  // MARK: server side

  private func handleClientIdent(_ ident: IdentFrame) throws {
    let missing = Features.required & ~ident.supportedFeatures
    if missing != 0 {
      writeControl(.identMissingFeatures) { U64Frame(missing).encode(to: &$0) }
      throw FrameError.badPayload(
        .clientIdent, "client lacks features 0x\(String(missing, radix: 16))")
    }
    peerGID = ident.gid
    peerGlobalSeq = ident.globalSeq
    clientCookie = ident.cookie
    policy = messenger.policy(for: peerType)
    if ident.isLossy { policy.lossy = true }
    if let addr = ident.addrs.addrs.first, !addr.isBlank, let remote = stream?.remoteAddress {
      // Keep where it really connected from, with the nonce it announced.
      setPeer(addr: EntityAddr(remote, nonce: addr.nonce))
    }
    if !policy.lossy {
      serverCookie = UInt64.random(in: 1...UInt64.max)
      messenger.register(self, clientCookie: clientCookie)
    }
    let reply = IdentFrame(
      addrs: EntityAddrVec([messenger.myAddr]), target: nil, gid: messenger.name.num,
      globalSeq: messenger.nextGlobalSeq(), supportedFeatures: Features.supported,
      requiredFeatures: Features.required, flags: policy.lossy ? identFlagLossy : 0,
      cookie: serverCookie)
    writeControl(.serverIdent) { reply.encode(to: &$0) }
    becomeReady()
  }

  /// A client reconnects to a session we keep. The stream moves into that session (and to its
  /// new loop); this accepting connection object is then discarded.
  private func handleReconnect(_ frame: ReconnectFrame) {
    guard let existing = messenger.session(clientCookie: frame.clientCookie),
      existing.serverCookie == frame.serverCookie || existing === self
    else {
      msLog(2) { "\(self) reconnect for unknown session: reset" }
      writeControl(.sessionReset) { ResetFrame(full: true).encode(to: &$0) }
      return
    }
    if existing === self {
      evaluateReconnect(frame)
      return
    }
    guard let stream else { return }
    // Hand the stream and its undecoded bytes to the session, on the session's loop.
    self.stream = nil
    stream.setDelegate(nil)
    let leftover = decoder
    state = .closed
    readyTimeout?.cancel()
    _ = markClosed()
    resolveReady(.failure(MessengerError.closed("stream handed to the resumed session")))
    messenger.forget(self)
    let newLoop = stream.eventLoop
    existing.onLoop {
      guard existing.state != .closed else {
        stream.close()
        return
      }
      existing.dropStream()
      existing.readyTimeout?.cancel()
      existing.delayedAck?.cancel()
      existing.delayedAck = nil
      existing.keepaliveTask?.cancel()
      existing.keepaliveTask = nil
      existing.moveToLoop(newLoop)
      newLoop.execute {
        existing.stream = stream
        existing.decoder = leftover
        existing.writtenCount = 0
        existing.readPaused = false
        existing.inReadBatch = false
        existing.state = .ident
        existing.armReadyTimeout()
        stream.setDelegate(existing)
        existing.evaluateReconnect(frame)
      }
    }
  }

  func evaluateReconnect(_ frame: ReconnectFrame) {
    if frame.globalSeq < peerGlobalSeq {
      writeControl(.sessionRetryGlobal) { U64Frame(peerGlobalSeq).encode(to: &$0) }
      return
    }
    if frame.connectSeq < connectSeq {
      writeControl(.sessionRetry) { U64Frame(connectSeq).encode(to: &$0) }
      return
    }
    connectSeq = frame.connectSeq
    peerGlobalSeq = frame.globalSeq
    dropAcknowledged(upTo: frame.msgSeq)
    writtenCount = 0
    writeControl(.sessionReconnectOk) { U64Frame(inSeq).encode(to: &$0) }
    msLog(5) { "\(self) session resumed, client had up to seq \(frame.msgSeq)" }
    becomeReady()
  }

  /// The seq a SESSION_RETRY(_GLOBAL) names; we count on from it, so one near 2^64 (which no
  /// real peer reaches) is a protocol error rather than an overflow.
  static func retrySeq(_ tag: FrameTag, _ payload: inout ByteBuffer) throws -> UInt64 {
    let seq = try U64Frame(from: &payload).value
    guard seq < .max / 2 else { throw FrameError.badPayload(tag, "seq \(seq) out of range") }
    return seq
  }
}
