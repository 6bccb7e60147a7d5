import Foundation
import LoligoCore
import LoligoVerbs
import NIOConcurrencyHelpers

/// Something that owns rdma_cm ids and takes their events: a listener or one connection.
protocol RDMACMEventOwner: AnyObject, Sendable {
  /// Called on the `rdma-cm` thread: hop to an event loop for anything more than a lookup.
  func handle(_ event: CMEvent)
}

/// The stack's rdma_cm side (`ms_async_rdma_cm`): one event channel for every listener and
/// connection on the process's device, and the `rdma-cm` thread that takes its events and hands
/// each to its owner by token (a number each id carries, so an event that raced with its id's
/// destruction finds nobody instead of a reused pointer).
// owners and tokens under `lock`; the rest immutable
final class RDMAConnectionManager: @unchecked Sendable {
  let events: CMEventChannel
  let device: HardwareVerbs
  private let lock = NIOLock()
  private var owners: [UInt64: any RDMACMEventOwner] = [:]
  private var lastToken: UInt64 = 0

  init(events: CMEventChannel, device: HardwareVerbs) {
    self.events = events
    self.device = device
    let thread = Thread { [unowned self] in self.run() }
    thread.name = "rdma-cm"
    thread.start()
  }

  /// A new id and the token its events carry. Register its owner with `register` before
  /// asking the id for anything: until then its events (there are none yet) find nobody.
  func makeID() throws -> (CMID, UInt64) {
    let token = lock.withLock {
      lastToken += 1
      return lastToken
    }
    return (try CMID.create(on: events, token: token), token)
  }

  func register(_ owner: any RDMACMEventOwner, token: UInt64) {
    lock.withLock { owners[token] = owner }
  }

  /// Takes over a connection request's id for `owner`. Its only events come after it is
  /// accepted or rejected, so none can be missed between the request and this.
  func adopt(_ id: CMID, for owner: any RDMACMEventOwner) -> UInt64 {
    let token = lock.withLock {
      lastToken += 1
      owners[lastToken] = owner
      return lastToken
    }
    id.setToken(token)
    return token
  }

  func forget(_ token: UInt64) {
    lock.withLock { owners[token] = nil }
  }

  private func run() {
    var descriptor = [pollfd(fd: events.fileDescriptor, events: Int16(POLLIN), revents: 0)]
    while true {
      _ = poll(&descriptor, 1, 1000)
      while let event = events.nextEvent() { dispatch(event) }
      if events.lastError != 0 {
        Log.shared.error(
          "ms", "rdma_cm: rdma_get_cm_event failed: \(String(cString: strerror(events.lastError)))")
        // Not a busy loop if the channel broke for good.
        usleep(100_000)
      }
    }
  }

  private func dispatch(_ event: CMEvent) {
    if event.type == .connectRequest {
      guard let request = event.request else { return }
      if let listener = lock.withLock({ owners[event.listenToken] }) {
        listener.handle(event)
      } else {
        // Its listener closed meanwhile: refuse, and the id is ours to destroy.
        try? request.reject(privateData: RDMAPrivateData.encodeReject(.shuttingDown))
        request.destroy()
      }
      return
    }
    lock.withLock { owners[event.token] }?.handle(event)
  }
}
