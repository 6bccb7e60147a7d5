import Foundation
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoWire
import NIOConcurrencyHelpers
import NIOCore

/// Talks to the monitors for a client or a daemon: finds a monitor from the map (hunting), moves
/// to another when one fails or answers "not in quorum", sends commands and waits for their
/// replies (which for changes means their commit), and keeps map subscriptions alive across
/// those moves.
public final class MonClient: Dispatcher, @unchecked Sendable {  // mutable state under `lock`
  public let messenger: Messenger
  public let monmap: MonMap
  public let fsid: UUID
  /// How long one monitor may take to answer before the client tries the next.
  public let huntTimeout: TimeAmount

  private let lock = NIOLock()
  private var current: Connection?
  private var currentRank = -1
  private var nextTid: UInt64 = 0
  private var pending: [UInt64: Pending] = [:]
  private var subscriptions: [String: MonSubscribe.Item] = [:]
  private var mapHandlers: [UInt16: @Sendable (Message) -> Void] = [:]
  private var closed = false
  /// The leader a reply named: the next command opens a session to it when nothing is in flight.
  private var leaderRank: Int?

  struct Pending {
    let command: MonCommand
    let promise: EventLoopPromise<MonCommandReply>
    var attempts: Int
    var deadline: NIODeadline
    var sentTo: Connection?
  }

  /// Errno values a monitor uses to say "ask again" (not in quorum, electing).
  static let retryCodes: Set<Int32> = [-11, -116]  // EAGAIN, ESTALE
  /// Monitors tried per command before giving up.
  public let maxAttempts: Int

  /// - Parameter messenger: a client messenger whose dispatcher this MonClient becomes, or
  ///   which forwards monitor messages to `handle(_:)`.
  public init(
    messenger: Messenger, monmap: MonMap, huntTimeout: TimeAmount = .seconds(3),
    maxAttempts: Int = 10
  ) {
    self.messenger = messenger
    self.monmap = monmap
    self.fsid = monmap.fsid
    self.huntTimeout = huntTimeout
    self.maxAttempts = maxAttempts
    currentRank = Int.random(in: 0..<max(monmap.count, 1))
  }

  /// A client with its own messenger (`client.<random>`), configured from `config`.
  public static func connect(config: Config) throws -> MonClient {
    guard let fsid = UUID(uuidString: config.string(.fsid)) else {
      throw MonClientError.config("fsid is not set or not a UUID (is the cluster file right?)")
    }
    let monmap: MonMap
    do {
      monmap = try MonMap(fsid: fsid, monHost: config.string(.monHost))
    } catch {
      throw MonClientError.config("\(error)")
    }
    let messenger = try Messenger(
      name: EntityName(.client, Int64.random(in: 1..<Int64.max)), config: config,
      policy: .lossyClient)
    let client = MonClient(messenger: messenger, monmap: monmap)
    messenger.setDispatcher(client)
    return client
  }

  public func shutdown() {
    let waiting: [Pending] = lock.withLock {
      closed = true
      defer { pending.removeAll() }
      return Array(pending.values)
    }
    for p in waiting { p.promise.fail(MonClientError.closed) }
    messenger.shutdown()
  }

  /// Called when an OSD map or monitor map update arrives (on an event loop).
  public func onMap(_ type: UInt16, _ handler: @escaping @Sendable (Message) -> Void) {
    lock.withLock { mapHandlers[type] = handler }
  }

  /// Subscribes to `name` (`osdmap`, `monmap`) from epoch `start`; renewed on every reconnect.
  public func subscribe(_ name: String, from start: UInt32, onetime: Bool = false) {
    let connection: Connection = lock.withLock {
      subscriptions[name] = MonSubscribe.Item(start: start, onetime: onetime)
      return session()
    }
    connection.send(
      MonSubscribe([name: MonSubscribe.Item(start: start, onetime: onetime)]).message())
  }

  /// Sends a command; the future completes with the monitor's reply (after the commit for a
  /// change) or fails after `timeout` or when no monitor answers.
  public func command(
    _ fields: [String: Any], input: ByteBuffer = ByteBuffer(), timeout: TimeAmount = .seconds(30)
  ) -> EventLoopFuture<MonCommandReply> {
    let command = MonCommand(fsid: fsid, fields, input: input)
    let loop = messenger.group.next()
    let promise = loop.makePromise(of: MonCommandReply.self)
    let (tid, connection): (UInt64, Connection?) = lock.withLock {
      if closed { return (0, nil) }
      nextTid += 1
      if let leader = leaderRank, leader != currentRank, pending.isEmpty {
        // Changes go through the leader anyway: talk to it directly.
        current?.close()
        current = nil
        currentRank = leader
      }
      let connection = session()
      pending[nextTid] = Pending(
        command: command, promise: promise, attempts: 1, deadline: .now() + hunt(timeout),
        sentTo: connection)
      return (nextTid, connection)
    }
    guard let connection else {
      promise.fail(MonClientError.closed)
      return promise.futureResult
    }
    connection.send(command.message(tid: tid))
    let overall = loop.scheduleTask(in: timeout) { [weak self] in
      self?.expire(tid, reason: "no reply within \(timeout.nanoseconds / 1_000_000_000) s")
    }
    scheduleHuntCheck(tid, on: loop)
    promise.futureResult.whenComplete { _ in overall.cancel() }
    return promise.futureResult
  }

  /// Blocking form for tools (never call it on an event loop).
  public func commandSync(
    _ fields: [String: Any], input: ByteBuffer = ByteBuffer(), timeout: TimeAmount = .seconds(30)
  )
    throws -> MonCommandReply
  {
    try command(fields, input: input, timeout: timeout).wait()
  }

  private func hunt(_ timeout: TimeAmount) -> TimeAmount { min(timeout, huntTimeout) }

  /// If a command is still unanswered after `huntTimeout`, its monitor is presumed gone: move on.
  private func scheduleHuntCheck(_ tid: UInt64, on loop: any EventLoop) {
    loop.scheduleTask(in: huntTimeout) { [weak self] in
      guard let self else { return }
      let stalled: Connection? = self.lock.withLock {
        guard let p = self.pending[tid], p.deadline <= .now() else { return nil }
        return p.sentTo
      }
      guard let stalled else {
        if self.lock.withLock({ self.pending[tid] != nil }) {
          self.scheduleHuntCheck(tid, on: loop)
        }
        return
      }
      self.abandon(stalled, reason: "monitor did not answer within the hunt timeout")
      if self.lock.withLock({ self.pending[tid] != nil }) { self.scheduleHuntCheck(tid, on: loop) }
    }
  }

  private func expire(_ tid: UInt64, reason: String) {
    let p: Pending? = lock.withLock { pending.removeValue(forKey: tid) }
    p?.promise.fail(MonClientError.timedOut(reason))
  }

  /// The session to the current monitor, opening one when needed. Called under `lock`.
  private func session() -> Connection {
    if let current, !current.isClosed { return current }
    let entry = monmap.monitors[currentRank % monmap.count]
    let connection = messenger.connect(to: entry.addr, policy: .lossyClient)
    current = connection
    // Renew subscriptions on the new session.
    if !subscriptions.isEmpty {
      connection.send(MonSubscribe(subscriptions).message())
    }
    return connection
  }

  /// Drops `connection` (if still current), picks the next monitor (`next`, else the one after
  /// it) and resends what waited on it.
  private func abandon(_ connection: Connection, reason: String, next: Int? = nil) {
    let plan: (next: Connection, resend: [(UInt64, MonCommand)], giveUp: [Pending])? = lock.withLock
    {
      guard !closed else { return nil }
      if current === connection {
        current = nil
        currentRank = next ?? (currentRank + 1) % max(monmap.count, 1)
        leaderRank = nil
      }
      let replacement = session()
      var resend: [(UInt64, MonCommand)] = []
      var giveUp: [Pending] = []
      for (tid, var p) in pending where p.sentTo === connection || p.sentTo?.isClosed == true {
        p.attempts += 1
        if p.attempts > maxAttempts {
          pending[tid] = nil
          giveUp.append(p)
          continue
        }
        p.sentTo = replacement
        p.deadline = .now() + huntTimeout
        pending[tid] = p
        resend.append((tid, p.command))
      }
      return (replacement, resend, giveUp)
    }
    connection.close()
    guard let plan else { return }
    for p in plan.giveUp { p.promise.fail(MonClientError.noMonitor(reason)) }
    msLog(2) { "monclient: \(reason); trying \(plan.next.peerAddr)" }
    for (tid, command) in plan.resend { plan.next.send(command.message(tid: tid)) }
  }

  // MARK: Dispatcher

  public func dispatch(_ message: Message) {
    switch message.type {
    case MessageType.monCommandReply:
      guard let reply = try? MonCommandReply(message) else { return }
      if MonClient.retryCodes.contains(reply.result), let connection = message.connection {
        // Not in quorum, or electing: ask another monitor shortly. A monitor that names the
        // leader (a command only the leader answers) sends us straight there.
        let leader: Int? = lock.withLock {
          let named = Int(reply.leader)
          guard current === connection, named >= 0, named < monmap.count,
            named != currentRank % max(monmap.count, 1)
          else { return nil }
          return named
        }
        let loop = connection.loop
        loop.scheduleTask(in: leader == nil ? .milliseconds(100) : .zero) { [weak self] in
          self?.abandon(connection, reason: "monitor says: \(reply.status)", next: leader)
        }
        return
      }
      let p: Pending? = lock.withLock {
        if reply.leader >= 0 && Int(reply.leader) < monmap.count { leaderRank = Int(reply.leader) }
        return pending.removeValue(forKey: message.tid)
      }
      p?.promise.succeed(reply)
    default:
      let handler = lock.withLock { mapHandlers[message.type] }
      handler?(message)
    }
  }

  public func connectionReset(_ connection: Connection, reason: String) {
    abandon(connection, reason: reason)
  }
}

public enum MonClientError: Error, CustomStringConvertible, Equatable {
  case config(String)
  case timedOut(String)
  case noMonitor(String)
  case closed

  public var description: String {
    switch self {
    case .config(let why): return why
    case .timedOut(let why): return "monitor command timed out: \(why)"
    case .noMonitor(let why): return "no monitor reachable: \(why)"
    case .closed: return "monitor client closed"
    }
  }
}
