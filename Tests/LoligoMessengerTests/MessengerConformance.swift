import Foundation
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoWire
import NIOCore
import XCTest

/// The messenger's behaviour, checked over each transport (MessengerTests: TCP;
/// SoftVerbsMessengerTests: RDMA over soft-verbs).
enum MessengerConformance {
  static func requestReply(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let serverSide = RecordingDispatcher(echo: true, checkOrder: true)
    let (server, addr) = try startServer(serverSide)
    defer { server.shutdown() }
    let clientSide = RecordingDispatcher(checkOrder: true)
    let client = try startClient(clientSide)
    defer { client.shutdown() }
    let connection = client.connect(to: addr)
    try connection.ready.wait()
    XCTAssertEqual(connection.peerName, EntityName(.osd, 0))
    for i in 1...1000 { XCTAssertTrue(connection.send(counterMessage(UInt64(i), data: i % 5000))) }
    waitUntil(20, "1000 replies") { clientSide.count == 1000 }
    XCTAssertEqual(serverSide.count, 1000)
    XCTAssertEqual(serverSide.violations, [])
    XCTAssertEqual(clientSide.violations, [])
    XCTAssertTrue(connection.isLossy, "a stateless server makes the session lossy")
  }

  static func severalClientsConcurrently(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let serverSide = RecordingDispatcher(echo: true)
    let (server, addr) = try startServer(serverSide)
    defer { server.shutdown() }
    var clients: [(Messenger, RecordingDispatcher)] = []
    for id in 0..<4 {
      let recorder = RecordingDispatcher(checkOrder: true)
      clients.append((try startClient(recorder, id: Int64(id)), recorder))
    }
    let all = clients
    defer { for (client, _) in all { client.shutdown() } }
    DispatchQueue.concurrentPerform(iterations: all.count) { index in
      let connection = all[index].0.connect(to: addr)
      for i in 1...500 { connection.send(counterMessage(UInt64(i), data: 100)) }
    }
    waitUntil(30, "all replies") { clients.allSatisfy { $0.1.count == 500 } }
    XCTAssertEqual(serverSide.count, 2000)
    for (_, recorder) in clients { XCTAssertEqual(recorder.violations, []) }
  }

  /// 100 000 messages over a lossless session whose sockets fail at random on both ends
  /// arrive exactly once and in order, and so do the 100 000 echoes coming back.
  static func losslessDeliveryUnderInjectedSocketFailures(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let config = makeConfig([
      "ms_inject_socket_failures": "30", "ms_initial_backoff": "0.01",
    ])
    let serverSide = RecordingDispatcher(echo: true, checkOrder: true)
    let (server, addr) = try startServer(serverSide, policy: .statefulServer, config: config)
    defer { server.shutdown() }
    // Every injected failure is a reconnect; over RDMA each sets up and drains a queue pair.
    // (RDMA delivers fewer, larger reads, so fewer of them fail.)
    let total: UInt64 = transport == .tcp ? 100_000 : 50_000
    let window: UInt64 = 200
    let clientSide = RecordingDispatcher(checkOrder: true)
    let client = try startClient(clientSide, policy: .losslessClient, config: config)
    defer { client.shutdown() }
    let connection = client.connect(to: addr)
    // Keep a window of messages in flight: each echo releases the next send.
    let sentBox = SentCounter()
    clientSide.onMessage = { _ in
      if let next = sentBox.next(limit: total) { connection.send(counterMessage(next)) }
    }
    for _ in 0..<window {
      if let next = sentBox.next(limit: total) { connection.send(counterMessage(next)) }
    }
    waitUntil(240, "\(total) echoes (got \(clientSide.count))") { clientSide.count == Int(total) }
    XCTAssertEqual(serverSide.count, Int(total), "server saw each message exactly once")
    XCTAssertEqual(serverSide.violations, [], "server order")
    XCTAssertEqual(clientSide.violations, [], "client order")
    XCTAssertGreaterThan(
      clientSide.readies, transport == .tcp ? 10 : 5, "failures were injected and survived")
    print("lossless test: \(clientSide.readies) sessions readied")
    XCTAssertEqual(clientSide.resetReasons, [], "a lossless session never resets")
  }

  static func unreachableServerFailsFast(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let client = try startClient(RecordingDispatcher())
    defer { client.shutdown() }
    let port = try closedPort()
    let started = Date()
    let connection = client.connect(to: try EntityAddr(parsing: "127.0.0.1:\(port)"))
    XCTAssertThrowsError(try connection.ready.wait()) { error in
      XCTAssertTrue("\(error)".contains("connect"), "\(error)")
    }
    XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    connection.close()
  }

  /// The server forgets the session (restart): the client is told and starts a new session.
  static func serverRestartResetsLosslessSession(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let first = RecordingDispatcher(echo: true)
    let (server, addr) = try startServer(first, policy: .statefulServer)
    let clientSide = RecordingDispatcher()
    let client = try startClient(clientSide, config: makeConfig(["ms_initial_backoff": "0.05"]))
    defer { client.shutdown() }
    let connection = client.connect(to: addr)
    for i in 1...10 { connection.send(counterMessage(UInt64(i))) }
    waitUntil(10, "first replies") { clientSide.count == 10 }
    server.shutdown()

    let second = RecordingDispatcher(echo: true)
    let restarted = try Messenger(
      name: EntityName(.osd, 0), config: makeConfig(), policy: .statefulServer)
    restarted.setDispatcher(second)
    defer { restarted.shutdown() }
    var bound = false
    for _ in 0..<50 where !bound {
      bound = (try? restarted.bind(addr)) != nil
      if !bound { usleep(100_000) }
    }
    XCTAssertTrue(bound)
    waitUntil(20, "session reset") { !clientSide.resetReasons.isEmpty }
    XCTAssertTrue(clientSide.resetReasons.contains { $0.contains("reset") })
    for i in 11...20 { connection.send(counterMessage(UInt64(i))) }
    waitUntil(20, "replies on the new session") { second.count == 10 && clientSide.count == 20 }
  }

  static func lossySessionReportsResetWhenServerGoes(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let (server, addr) = try startServer(RecordingDispatcher(echo: true))
    let clientSide = RecordingDispatcher()
    let client = try startClient(clientSide)
    defer { client.shutdown() }
    let connection = client.connect(to: addr)
    try connection.ready.wait()
    server.shutdown()
    waitUntil(10, "reset") { !clientSide.resetReasons.isEmpty }
    XCTAssertTrue(connection.isClosed)
    XCTAssertFalse(connection.send(counterMessage(1)), "a closed session refuses sends")
  }

  /// Messages held by the dispatcher past `ms_dispatch_throttle_bytes` stop the reading; letting
  /// them go resumes it.
  static func dispatchThrottlePausesReading(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let serverSide = RecordingDispatcher()
    serverSide.hold = true
    let config = makeConfig(["ms_dispatch_throttle_bytes": "65536"])
    let (server, addr) = try startServer(serverSide, config: config)
    defer { server.shutdown() }
    let client = try startClient(RecordingDispatcher())
    defer { client.shutdown() }
    let connection = client.connect(to: addr)
    for i in 1...200 { connection.send(counterMessage(UInt64(i), data: 8192)) }
    waitUntil(10, "some messages") { serverSide.count > 0 }
    usleep(300_000)
    let whileHeld = serverSide.count
    XCTAssertLessThan(whileHeld, 200, "reading paused at the throttle")
    serverSide.hold = false
    serverSide.releaseHeld()
    waitUntil(20, "the rest after release") { serverSide.count == 200 }
  }

  static func queuedBytesLimitRefusesSends(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let config = makeConfig(["ms_max_queued_bytes": "1M", "ms_initial_backoff": "5"])
    let client = try startClient(RecordingDispatcher(), config: config)
    defer { client.shutdown() }
    let connection = client.connect(to: try EntityAddr(parsing: "127.0.0.1:\(try closedPort())"))
    var accepted = 0
    for i in 1...40 where connection.send(counterMessage(UInt64(i), data: 64 << 10)) {
      accepted += 1
    }
    XCTAssertGreaterThan(accepted, 0)
    XCTAssertLessThan(accepted, 40)
  }

  static func keepalivesAreAnswered(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let (server, addr) = try startServer(RecordingDispatcher())
    defer { server.shutdown() }
    let client = try startClient(
      RecordingDispatcher(), config: makeConfig(["ms_keepalive_interval": "0.05"]))
    defer { client.shutdown() }
    let connection = client.connect(to: addr)
    try connection.ready.wait()
    waitUntil(5, "periodic keepalive acks") { connection.keepaliveAcks >= 2 }
    let before = connection.keepaliveAcks
    connection.sendKeepalive()
    waitUntil(5, "an explicit keepalive ack") { connection.keepaliveAcks > before }
  }

  /// A lossless server session whose client never returns is forgotten after
  /// `ms_standby_timeout`, and the dispatcher is told.
  static func standbySessionExpires(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let serverSide = RecordingDispatcher()
    let (server, addr) = try startServer(
      serverSide, policy: .statefulServer, config: makeConfig(["ms_standby_timeout": "0.3"]))
    defer { server.shutdown() }
    let client = try startClient(RecordingDispatcher())
    let connection = client.connect(to: addr)
    connection.send(counterMessage(1))
    waitUntil(5, "first message") { serverSide.count == 1 }
    XCTAssertEqual(server.connectionCount, 1)
    client.shutdown()
    waitUntil(5, "standby expiry") {
      serverSide.resetReasons.contains { $0.contains("did not reconnect") }
    }
    XCTAssertEqual(server.connectionCount, 0)
  }

  static func messageDecodingRoundTrip(_ transport: TransportUnderTest) throws {
    TransportUnderTest.current = transport
    defer { TransportUnderTest.current = .tcp }
    let op = OSDOp.write(object: "benchmark_data_host_1_object7", offset: 4096, length: 3)
    let message = op.message(tid: 9, data: ByteBuffer(bytes: [1, 2, 3]))
    XCTAssertEqual(try OSDOp(message), op)
    let short = op.message(tid: 9, data: ByteBuffer(bytes: [1]))
    XCTAssertThrowsError(try OSDOp(short))
    let reply = OSDOpReply(result: -2, epoch: 7, operations: [.init(result: 0, outLength: 4)])
    XCTAssertEqual(try OSDOpReply(reply.message(tid: 9)), reply)
  }
}
