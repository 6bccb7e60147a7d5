import LoligoVerbs

/// What the rdma_cm events of one connection mean, with no I/O: `RDMACMConnection` feeds it
/// each event and does what the returned action says. Kept apart so the event-to-state rules
/// (and what a hostile or confused peer can make them do) are testable without a device.
///
/// Client: resolving the address -> resolving the route -> connecting -> established.
/// Server: the connect request was accepted (see `accept`) -> accepting -> established.
/// Any error event during set-up fails it; DISCONNECTED after it is the peer going away.
struct RDMACMHandshake {
  enum Role { case client, server }

  enum State: Equatable {
    case resolvingAddress, resolvingRoute, connecting, accepting, established, closed
  }

  enum Action: Equatable {
    /// The address resolved to a device: check it is ours, then resolve the route.
    case resolveRoute
    /// The route is known: create the queue pair, post receives, send the connect request.
    case connect
    /// The queue pair is in RTS at both ends. The client gets the server's parameters here;
    /// the server had the client's from its request (nil).
    case established(RDMAConnectionParameters?)
    case fail(String)
    /// The peer's end is gone after set-up.
    case peerDisconnected
    case ignore
  }

  private(set) var state: State
  /// The peer's address, for messages.
  let peer: String

  init(role: Role, peer: String) {
    state = role == .client ? .resolvingAddress : .accepting
    self.peer = peer
  }

  mutating func handle(_ event: CMEvent) -> Action {
    guard state != .closed else { return .ignore }
    guard let type = event.type else {
      return .ignore
    }
    switch (state, type) {
    case (_, .timewaitExit), (_, .addressChange), (_, .multicastJoin), (_, .multicastError):
      return .ignore
    case (.resolvingAddress, .addressResolved):
      state = .resolvingRoute
      return .resolveRoute
    case (.resolvingRoute, .routeResolved):
      state = .connecting
      return .connect
    case (.connecting, .established):
      do {
        var parameters = try RDMAPrivateData.decode(event.privateData, expecting: .accept)
        // Without READ resources on either side the payloads cannot be pulled.
        if event.responderResources == 0 || event.initiatorDepth == 0 { parameters.readLimit = 0 }
        state = .established
        return .established(parameters)
      } catch {
        return fail("\(error)")
      }
    case (.accepting, .established):
      state = .established
      return .established(nil)
    case (.established, .disconnected):
      state = .closed
      return .peerDisconnected
    case (_, .deviceRemoval):
      return fail("the RDMA device was removed")
    case (.established, _):
      // Late or repeated set-up events change nothing once connected.
      return .ignore
    default:
      return fail(describe(event, type))
    }
  }

  private mutating func fail(_ why: String) -> Action {
    state = .closed
    return .fail(why)
  }

  private func describe(_ event: CMEvent, _ type: CMEventType) -> String {
    let status = event.status == 0 ? "" : ", status \(event.status)"
    switch type {
    case .addressError:
      return "rdma_cm cannot resolve \(peer) to an RDMA device (ADDR_ERROR\(status)); is it an"
        + " address of an interface with an RDMA device (see `rdma link`)?"
    case .routeError:
      return "rdma_cm found no route to \(peer) (ROUTE_ERROR\(status))"
    case .unreachable:
      return "\(peer) is unreachable over RDMA (UNREACHABLE\(status))"
    case .connectError:
      return "RDMA connection to \(peer) failed (CONNECT_ERROR\(status))"
    case .rejected:
      if let reason = RDMAPrivateData.rejectReason(event.privateData) {
        return "\(peer) rejected the RDMA connection: \(reason)"
      }
      return "\(peer) rejected the RDMA connection (REJECTED\(status)); is a Loligo messenger"
        + " with ms_async_rdma_cm = true listening there?"
    case .disconnected:
      return "\(peer) disconnected during RDMA connection set-up"
    default:
      return "unexpected rdma_cm event \(type) from \(peer) while \(state)"
    }
  }

  /// The server's answer to a connect request: the client's parameters, ours for the reply
  /// and the RDMA READ limits to accept with. Throws the reason to reject with.
  struct Acceptance: Equatable {
    var peer: RDMAConnectionParameters
    var reply: RDMAConnectionParameters
    var responderResources: UInt8
    var initiatorDepth: UInt8
  }

  struct Refusal: Error, CustomStringConvertible {
    let reason: RDMAPrivateData.RejectReason
    let description: String
  }

  /// `ours` are this side's parameters; `readsServed`/`readsIssued` this device's READ limits.
  static func accept(
    _ request: CMEvent, ours: RDMAConnectionParameters, readsServed: UInt8, readsIssued: UInt8
  ) throws(Refusal) -> Acceptance {
    var peer: RDMAConnectionParameters
    do {
      peer = try RDMAPrivateData.decode(request.privateData, expecting: .connect)
    } catch {
      throw Refusal(reason: .malformed, description: error.description)
    }
    // We serve the READs the client issues and issue at most what it serves.
    let responderResources = min(readsServed, request.initiatorDepth)
    let initiatorDepth = min(readsIssued, request.responderResources)
    var reply = ours
    if responderResources == 0 || initiatorDepth == 0 {
      peer.readLimit = 0
      reply.readLimit = 0
    }
    return Acceptance(
      peer: peer, reply: reply, responderResources: responderResources,
      initiatorDepth: initiatorDepth)
  }
}
