import Foundation
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoVerbs
import LoligoWire
import NIOCore
import XCTest

/// The messenger over the RDMA transport on soft-verbs: the same conformance checks as TCP,
/// then what only RDMA has (credits, zero-copy pulls, queue pair errors).
final class SoftVerbsMessengerTests: XCTestCase {
  func testRequestReply() throws { try MessengerConformance.requestReply(.softVerbs) }
  func testSeveralClientsConcurrently() throws {
    try MessengerConformance.severalClientsConcurrently(.softVerbs)
  }
  func testLosslessDeliveryUnderInjectedSocketFailures() throws {
    try MessengerConformance.losslessDeliveryUnderInjectedSocketFailures(.softVerbs)
  }
  func testUnreachableServerFailsFast() throws {
    try MessengerConformance.unreachableServerFailsFast(.softVerbs)
  }
  func testServerRestartResetsLosslessSession() throws {
    try MessengerConformance.serverRestartResetsLosslessSession(.softVerbs)
  }
  func testLossySessionReportsResetWhenServerGoes() throws {
    try MessengerConformance.lossySessionReportsResetWhenServerGoes(.softVerbs)
  }
  func testDispatchThrottlePausesReading() throws {
    try MessengerConformance.dispatchThrottlePausesReading(.softVerbs)
  }
  func testQueuedBytesLimitRefusesSends() throws {
    try MessengerConformance.queuedBytesLimitRefusesSends(.softVerbs)
  }
  func testKeepalivesAreAnswered() throws {
    try MessengerConformance.keepalivesAreAnswered(.softVerbs)
  }
  func testStandbySessionExpires() throws {
    try MessengerConformance.standbySessionExpires(.softVerbs)
  }

  override func setUp() { TransportUnderTest.current = .softVerbs }
  override func tearDown() { TransportUnderTest.current = .tcp }

  /// Hostile bytes inside the RDMA stream close that connection with the same logged reasons
  /// as over TCP; the server keeps serving a healthy client.
  func testMalformedFramesCloseOnlyTheirConnection() throws {
    let log = LogCapture()
    let config = makeConfig(["ms_connection_ready_timeout": "1"])
    let serverSide = RecordingDispatcher(echo: true)  // the messenger holds it weakly
    let (server, addr) = try startServer(serverSide, config: config)
    defer { server.shutdown() }
    let clientSide = RecordingDispatcher()
    let client = try startClient(clientSide, config: config)
    defer { client.shutdown() }
    let healthy = client.connect(to: addr)
    try healthy.ready.wait()
    healthy.send(counterMessage(0, data: 512))
    waitUntil(10, "healthy client served first") { clientSide.count == 1 }

    var banner = ByteBuffer()
    Banner.loligo.encode(to: &banner)
    var hello = ByteBuffer()
    var encoder = FrameEncoder()
    encoder.writeControl(.hello, into: &hello) {
      HelloFrame(entityType: .client, peerAddr: addr).encode(to: &$0)
    }
    var corrupt = Array(hello.readableBytesView)
    corrupt[29] ^= 1
    let cases: [(String, [UInt8], String)] = [
      ("random bytes", (0..<4096).map { _ in UInt8.random(in: 0...255) }, "bad banner"),
      ("bad preamble crc", Array(banner.readableBytesView) + corrupt, "bad preamble crc"),
    ]
    let transport = try RDMATransport(config: config)
    let loop = client.group.next()
    for (name, bytes, reason) in cases {
      let stream = try transport.connect(
        to: try addr.socketAddress(), on: loop, timeout: .seconds(5), options: TransportOptions()
      ).wait()
      let watcher = StreamWatcher()
      try loop.submit {
        stream.setDelegate(watcher)
        stream.write(ByteBuffer(bytes: bytes))
        stream.flush()
      }.wait()
      waitUntil(10, "server closes the stream after \(name)") { watcher.closed }
      waitUntil(5, "log line for \(name)") { log.contains(reason) }
      try loop.submit { stream.close() }.wait()
    }
    // Garbage on the TCP side channel instead of a connection record.
    let junk = (0..<64).map { _ in UInt8.random(in: 0...255) }
    XCTAssertTrue(
      try sendAndAwaitClose(port: Int(addr.port), bytes: junk, timeout: 5),
      "server did not close a side channel with a bad record")
    waitUntil(5, "log line for the bad record") {
      log.contains("not a Loligo RDMA connection record")
    }
    for i in 1...100 { healthy.send(counterMessage(UInt64(i), data: 512)) }
    waitUntil(10, "healthy client still served") { clientSide.count == 101 }
  }

  /// Four credits, a receive queue per connection holding exactly those (and one for credit
  /// returns), 4 KiB chunks: hundreds of messages each way must wait for credits, and no SEND
  /// ever finds the receive queue empty.
  func testCreditExhaustionNeverOverrunsTheReceiver() throws {
    let config = makeConfig([
      "ms_async_rdma_connection_credits": "4", "ms_async_rdma_buffer_size": "4K",
      "ms_rdma_zero_copy_threshold": "0", "ms_async_rdma_support_srq": "false",
    ])
    let device = try SoftVerbs.shared()
    let before = device.receiverNotReadyEvents
    let serverSide = RecordingDispatcher(echo: true, checkOrder: true)
    let (server, addr) = try startServer(serverSide, config: config)
    defer { server.shutdown() }
    let clientSide = RecordingDispatcher(checkOrder: true)
    let client = try startClient(clientSide, config: config)
    defer { client.shutdown() }
    let connection = client.connect(to: addr)
    for i in 1...600 { connection.send(counterMessage(UInt64(i), data: 10_000)) }
    waitUntil(60, "600 replies") { clientSide.count == 600 }
    XCTAssertEqual(serverSide.count, 600)
    XCTAssertEqual(serverSide.violations, [])
    XCTAssertEqual(clientSide.violations, [])
    XCTAssertEqual(
      device.receiverNotReadyEvents, before, "a SEND arrived with no receive posted for it")
  }

  /// A receiver that takes its time: the sender is held back by credits, nothing is lost or
  /// reordered, and the shared receive queue (exactly the two connections' credits, both ends
  /// being in this process) is never overrun.
  func testSlowReceiverHoldsTheSenderBack() throws {
    let config = makeConfig([
      "ms_async_rdma_connection_credits": "4", "ms_async_rdma_receive_buffers": "10",
      "ms_rdma_zero_copy_threshold": "0",
    ])
    let device = try SoftVerbs.shared()
    let before = device.receiverNotReadyEvents
    let serverSide = RecordingDispatcher(checkOrder: true)
    serverSide.onMessage = { message in
      if message.tid <= 100 { usleep(2_000) }
    }
    let (server, addr) = try startServer(serverSide, policy: .statefulServer, config: config)
    defer { server.shutdown() }
    let client = try startClient(RecordingDispatcher(), config: config)
    defer { client.shutdown() }
    let connection = client.connect(to: addr)
    for i in 1...400 { connection.send(counterMessage(UInt64(i), data: 3000)) }
    waitUntil(60, "400 messages") { serverSide.count == 400 }
    XCTAssertEqual(serverSide.violations, [])
    XCTAssertEqual(device.receiverNotReadyEvents, before, "a SEND found no receive posted")
  }

  /// Payloads below, at and above the zero-copy threshold (up to 4 MiB) arrive intact in both
  /// directions; those at or above it went by RDMA READ, not through send chunks.
  func testLargeMessagesAcrossTheZeroCopyThreshold() throws {
    let threshold = 64 << 10
    let config = makeConfig([
      "ms_rdma_zero_copy_threshold": "\(threshold)", "ms_max_message_size": "16M",
    ])
    let transport = try RDMATransport(config: config)
    let serverSide = PatternDispatcher(echo: true)
    let server = try Messenger(
      name: EntityName(.osd, 0), config: config, policy: .statelessServer, transport: transport)
    server.setDispatcher(serverSide)
    let addr = try server.bind(try EntityAddr(parsing: "127.0.0.1:0"))
    defer { server.shutdown() }
    let clientSide = PatternDispatcher(echo: false)
    let client = try Messenger(
      name: EntityName(.client, 0), config: config, policy: .losslessClient, transport: transport)
    client.setDispatcher(clientSide)
    defer { client.shutdown() }
    let sizes = [
      100, threshold - 1, threshold, threshold + 1, 300_001, 1 << 20, (4 << 20) + 3, 17, 5 << 20,
    ]
    let pulledBefore = transport.zeroCopyPayloads
    let connection = client.connect(to: addr)
    for (i, size) in sizes.enumerated() {
      connection.send(PatternDispatcher.message(UInt64(i + 1), size: size))
    }
    waitUntil(60, "all echoes") { clientSide.count == sizes.count }
    XCTAssertEqual(serverSide.errors, [])
    XCTAssertEqual(clientSide.errors, [])
    XCTAssertEqual(serverSide.sizes, sizes)
    XCTAssertEqual(clientSide.sizes, sizes)
    let large = sizes.filter { $0 >= threshold }.count
    XCTAssertEqual(
      transport.zeroCopyPayloads - pulledBefore, 2 * large,
      "each large payload, each way, went by RDMA READ")
  }

  /// Queue pairs forced into the error state mid-stream are connection faults: the lossless
  /// session reconnects and delivers every message once, in order.
  func testQueuePairForcedToErrorIsAFault() throws {
    let config = makeConfig(["ms_initial_backoff": "0.01"])
    let transport = try RDMATransport(config: config)
    let serverSide = RecordingDispatcher(echo: true, checkOrder: true)
    let server = try Messenger(
      name: EntityName(.osd, 0), config: config, policy: .statefulServer, transport: transport)
    server.setDispatcher(serverSide)
    let addr = try server.bind(try EntityAddr(parsing: "127.0.0.1:0"))
    defer { server.shutdown() }
    let clientSide = RecordingDispatcher(checkOrder: true)
    let client = try Messenger(
      name: EntityName(.client, 0), config: config, policy: .losslessClient, transport: transport)
    client.setDispatcher(clientSide)
    defer { client.shutdown() }
    let connection = client.connect(to: addr)
    try connection.ready.wait()
    let total = 3000
    for i in 1...total {
      connection.send(counterMessage(UInt64(i), data: 2000))
      if i % 1000 == 0 {
        // Right after the previous fault the session may still be reconnecting, with no queue
        // pair to break yet.
        waitUntil(10, "a queue pair to force into error") {
          transport.injectQueuePairErrors() > 0
        }
      }
    }
    waitUntil(60, "every echo (got \(clientSide.count))") { clientSide.count == total }
    XCTAssertEqual(serverSide.count, total, "each message exactly once")
    XCTAssertEqual(serverSide.violations, [])
    XCTAssertEqual(clientSide.violations, [])
    XCTAssertGreaterThan(clientSide.readies, 1, "the faults forced reconnects")
    XCTAssertEqual(clientSide.resetReasons, [])
  }

  /// Without a shared receive queue (a receive queue per connection): sessions that fail and
  /// reconnect over and over deliver everything, and once they are gone every queue pair was
  /// drained and destroyed and every chunk and credit came back.
  func testPerConnectionReceiveQueuesDrainWithoutLeaks() throws {
    let config = makeConfig([
      "ms_async_rdma_support_srq": "false", "ms_inject_socket_failures": "40",
      "ms_initial_backoff": "0.01", "ms_async_rdma_receive_buffers": "200",
    ])
    let transport = try RDMATransport(config: config)
    let idle = transport.usage
    let serverSide = RecordingDispatcher(echo: true, checkOrder: true)
    let server = try Messenger(
      name: EntityName(.osd, 0), config: config, policy: .statefulServer, transport: transport)
    server.setDispatcher(serverSide)
    let addr = try server.bind(try EntityAddr(parsing: "127.0.0.1:0"))
    let clientSide = RecordingDispatcher(checkOrder: true)
    let client = try Messenger(
      name: EntityName(.client, 0), config: config, policy: .losslessClient, transport: transport)
    client.setDispatcher(clientSide)
    let connection = client.connect(to: addr)
    // A window of messages in flight, every third one above the zero-copy threshold.
    let total: UInt64 = 5000
    let sentBox = SentCounter()
    let sendNext: @Sendable () -> Void = {
      if let next = sentBox.next(limit: total) {
        connection.send(counterMessage(next, data: next % 3 == 0 ? 70_000 : 300))
      }
    }
    clientSide.onMessage = { _ in sendNext() }
    for _ in 0..<50 { sendNext() }
    waitUntil(60, "\(total) echoes (got \(clientSide.count))") { clientSide.count == Int(total) }
    XCTAssertEqual(serverSide.count, Int(total))
    XCTAssertEqual(serverSide.violations, [])
    XCTAssertEqual(clientSide.violations, [])
    XCTAssertGreaterThan(clientSide.readies, 1, "failures were injected")
    client.shutdown()
    server.shutdown()
    waitUntil(15, "every queue pair drained (usage \(transport.usage))") {
      transport.usage == idle
    }
  }

  /// Asking for hardware here (no RDMA in this kernel) fails at once with one clear line.
  func testHardwareDeviceUnavailableIsAClearError() throws {
    TransportUnderTest.current = .tcp
    let config = makeConfig(["ms_type": "rdma", "ms_async_rdma_device_name": "mlx5_0"])
    XCTAssertThrowsError(
      try Messenger(name: EntityName(.client, 0), config: config, policy: .losslessClient)
    ) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("device"), text)
      XCTAssertTrue(text.contains("ibv_devices"), text)
      XCTAssertFalse(text.contains("\n"), text)
    }
  }
}

/// Records closes of a raw transport stream.
final class StreamWatcher: TransportStreamDelegate, @unchecked Sendable {
  private let lock = NSLock()
  private var isClosed = false
  var closed: Bool { lock.withLock { isClosed } }
  func streamDidReceive(_ buffer: ByteBuffer) {}
  func streamDidFinishReadBatch() {}
  func streamDidClose(error: (any Error)?) { lock.withLock { isClosed = true } }
}

/// Checks that each message's data is its patterned bytes; optionally echoes the data back.
final class PatternDispatcher: Dispatcher, @unchecked Sendable {
  private let lock = NSLock()
  private var received: [Int] = []
  private var problems: [String] = []
  let echo: Bool

  init(echo: Bool) { self.echo = echo }

  /// Byte i of message `tid` is (31 tid + i) mod 251: a period that no power-of-two chunk or
  /// page size divides, so a misplaced block shows.
  static let period: [UInt8] = (0..<502).map { UInt8($0 % 251) }

  static func message(_ tid: UInt64, size: Int, type: UInt16 = MessageType.osdOp) -> Message {
    var data = ByteBuffer()
    data.reserveCapacity(size)
    var offset = Int(tid * 31 % 251)
    var left = size
    while left > 0 {
      let n = min(left, 251)
      data.writeBytes(period[offset..<offset + n])
      offset = (offset + n) % 251
      left -= n
    }
    return Message(type: type, tid: tid, front: ByteBuffer(bytes: [1]), data: data)
  }

  func dispatch(_ message: Message) {
    let data = message.data
    var bad: String?
    data.withUnsafeReadableBytes { bytes in
      PatternDispatcher.period.withUnsafeBytes { pattern in
        var offset = Int(message.tid * 31 % 251)
        var at = 0
        while at < bytes.count {
          let n = min(bytes.count - at, 251)
          if memcmp(bytes.baseAddress! + at, pattern.baseAddress! + offset, n) != 0 {
            bad = "tid \(message.tid): bytes \(at)..<\(at + n) of \(bytes.count) are wrong"
            break
          }
          offset = (offset + n) % 251
          at += n
        }
      }
    }
    lock.withLock {
      received.append(data.readableBytes)
      if let bad { problems.append(bad) }
    }
    if echo, let connection = message.connection {
      connection.send(
        Message(type: MessageType.osdOpReply, tid: message.tid, front: message.front, data: data))
    }
  }

  var count: Int { lock.withLock { received.count } }
  var sizes: [Int] { lock.withLock { received } }
  var errors: [String] { lock.withLock { problems } }
}
