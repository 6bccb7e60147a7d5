/// How a session behaves when its transport fails, after Ceph's `Messenger::Policy`.
public struct Policy: Sendable, Equatable {
  /// A lossy session is dropped on the first fault: queued messages are discarded and the
  /// dispatcher is told. A lossless one keeps unacknowledged messages and replays them after a
  /// reconnect, so nothing is lost, duplicated or reordered.
  public var lossy: Bool
  /// A server never initiates a reconnect; it keeps a lossless session's state and waits for
  /// the client to come back.
  public var server: Bool

  public init(lossy: Bool, server: Bool) {
    self.lossy = lossy
    self.server = server
  }

  /// Clients of stateless services (perf server, OSD ops from a client's view of the server).
  public static let lossyClient = Policy(lossy: true, server: false)
  /// A client whose messages must all arrive (reconnects and replays).
  public static let losslessClient = Policy(lossy: false, server: false)
  /// A server that forgets a client on any fault (Ceph's `stateless_server`).
  public static let statelessServer = Policy(lossy: true, server: true)
  /// A server that keeps lossless sessions across reconnects (Ceph's `stateful_server`).
  public static let statefulServer = Policy(lossy: false, server: true)
  /// Peers that both connect and accept (OSD to OSD); each side replays its own sends.
  public static let losslessPeer = Policy(lossy: false, server: false)
}
