import Foundation
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoWire
import NIOCore
import XCTest

/// Records what a messenger receives; optionally answers each OSD op with a reply that echoes
/// the request's front (so both directions carry the sender's counter).
final class RecordingDispatcher: Dispatcher, @unchecked Sendable {
  private let lock = NSLock()
  private(set) var received: [UInt64] = []
  private(set) var messages = 0
  private(set) var readyCount = 0
  private(set) var resets: [String] = []
  private(set) var orderViolations: [String] = []
  private var nextExpected: UInt64 = 1
  let echo: Bool
  let checkOrder: Bool
  var hold = false
  private var held: [Message] = []
  var onMessage: (@Sendable (Message) -> Void)?

  init(echo: Bool = false, checkOrder: Bool = false) {
    self.echo = echo
    self.checkOrder = checkOrder
  }

  func dispatch(_ message: Message) {
    var front = message.front
    let counter = front.readInteger(endianness: .little, as: UInt64.self) ?? 0
    lock.withLock {
      messages += 1
      if checkOrder {
        if counter != nextExpected {
          orderViolations.append("expected \(nextExpected), got \(counter)")
        }
        nextExpected = counter + 1
      }
      if hold { held.append(message) }
    }
    if echo, let connection = message.connection {
      connection.send(Message(type: MessageType.osdOpReply, tid: message.tid, front: message.front))
    }
    onMessage?(message)
  }

  func releaseHeld() { lock.withLock { held.removeAll() } }

  func connectionReady(_ connection: Connection) { lock.withLock { readyCount += 1 } }

  func connectionReset(_ connection: Connection, reason: String) {
    lock.withLock { resets.append(reason) }
  }

  var count: Int { lock.withLock { messages } }
  var readies: Int { lock.withLock { readyCount } }
  var resetReasons: [String] { lock.withLock { resets } }
  var violations: [String] { lock.withLock { orderViolations } }
}

/// Captures log lines for assertions.
final class LogCapture: @unchecked Sendable {
  private let lock = NSLock()
  private var lines: [String] = []

  init() {
    Log.shared.setSink { [weak self] line in self?.append(line) }
  }

  private func append(_ line: String) { lock.withLock { lines.append(line) } }

  func contains(_ text: String) -> Bool { lock.withLock { lines.contains { $0.contains(text) } } }

  var all: [String] { lock.withLock { lines } }

  deinit { Log.shared.setSink(nil) }
}

/// Which transport the messenger under test uses; conformance checks set it for their run.
enum TransportUnderTest: Sendable {
  case tcp
  case softVerbs

  nonisolated(unsafe) static var current = TransportUnderTest.tcp

  /// Small pools keep each soft-verbs stack (one per distinct option set) cheap in the suite.
  var overrides: [(String, String)] {
    switch self {
    case .tcp: return []
    case .softVerbs:
      return [
        ("ms_type", "rdma"), ("ms_async_rdma_device_name", "soft"),
        ("ms_async_rdma_buffer_size", "64K"), ("ms_async_rdma_send_buffers", "128"),
        ("ms_async_rdma_receive_buffers", "1024"), ("ms_async_rdma_connection_credits", "16"),
        ("ms_async_rdma_polling_us", "50"),
      ]
    }
  }
}

func makeConfig(_ overrides: [String: String] = [:]) -> Config {
  var config = Config()
  try! config.set("ms_async_op_threads", "2")
  for (name, value) in TransportUnderTest.current.overrides { try! config.set(name, value) }
  for (name, value) in overrides { try! config.set(name, value) }
  return config
}

func counterMessage(_ counter: UInt64, data: Int = 0) -> Message {
  var front = ByteBuffer()
  front.writeInteger(counter, endianness: .little)
  var bulk = ByteBuffer()
  bulk.writeRepeatingByte(UInt8(truncatingIfNeeded: counter), count: data)
  return Message(type: MessageType.osdOp, tid: counter, front: front, data: bulk)
}

/// Polls `condition` until it holds or `timeout` passes.
func waitUntil(
  _ timeout: TimeInterval, file: StaticString = #filePath, line: UInt = #line,
  _ what: @autoclosure () -> String = "condition", _ condition: () -> Bool
) {
  let deadline = Date().addingTimeInterval(timeout)
  while !condition() {
    if Date() > deadline {
      XCTFail("timed out after \(timeout) s waiting for \(what())", file: file, line: line)
      return
    }
    usleep(2_000)
  }
}

/// A bound server messenger on 127.0.0.1 with an ephemeral port.
func startServer(
  _ dispatcher: any Dispatcher, policy: Policy = .statelessServer, config: Config = makeConfig()
) throws -> (Messenger, EntityAddr) {
  let messenger = try Messenger(name: EntityName(.osd, 0), config: config, policy: policy)
  messenger.setDispatcher(dispatcher)
  let addr = try messenger.bind(try EntityAddr(parsing: "127.0.0.1:0"))
  return (messenger, addr)
}

func startClient(
  _ dispatcher: any Dispatcher, id: Int64 = 0, policy: Policy = .losslessClient,
  config: Config = makeConfig()
) throws -> Messenger {
  let messenger = try Messenger(name: EntityName(.client, id), config: config, policy: policy)
  messenger.setDispatcher(dispatcher)
  return messenger
}
