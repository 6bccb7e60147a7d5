/// Receives what arrives on a messenger's connections.
///
/// Every call runs on the connection's event loop ("fast dispatch"): it must not block. Work
/// that takes time goes to the dispatcher's own threads; replies can be sent from any thread.
public protocol Dispatcher: AnyObject, Sendable {
  /// One call per message, in the order the peer sent them, never twice for one message.
  func dispatch(_ message: Message)
  /// The session is established (first time, or again after a reconnect).
  func connectionReady(_ connection: Connection)
  /// The session ended: a lossy fault, a close, a peer that reset its side, or a lossless
  /// session that gave up reconnecting. Messages queued on it are gone.
  func connectionReset(_ connection: Connection, reason: String)
}

extension Dispatcher {
  public func connectionReady(_ connection: Connection) {}
  public func connectionReset(_ connection: Connection, reason: String) {}
}
