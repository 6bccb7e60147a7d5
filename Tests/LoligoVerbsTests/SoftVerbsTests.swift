import Foundation
import XCTest

@testable import LoligoVerbs

/// One end of a soft-verbs connection: a device's queues, a queue pair and 1 MiB of memory.
final class Side {
  let device: SoftVerbs
  let sendCQ: any CompletionQueue
  let receiveCQ: any CompletionQueue
  let srq: (any SharedReceiveQueue)?
  let qp: any QueuePair
  let memory: UnsafeMutableRawPointer
  let region: any MemoryRegion
  static let size = 1 << 20

  init(
    _ device: SoftVerbs, access: MemoryAccess = [.localWrite, .remoteWrite, .remoteRead],
    srq useSRQ: Bool = false, maxSend: Int = 64
  ) throws {
    self.device = device
    sendCQ = try device.makeCompletionQueue(depth: 1024, channel: nil)
    receiveCQ = try device.makeCompletionQueue(depth: 1024, channel: nil)
    srq = useSRQ ? try device.makeSharedReceiveQueue(depth: 64) : nil
    qp = try device.makeQueuePair(
      sendCQ: sendCQ, receiveCQ: receiveCQ, srq: srq, maxSend: maxSend, maxReceive: 64)
    memory = UnsafeMutableRawPointer.allocate(byteCount: Side.size, alignment: 4096)
    memory.initializeMemory(as: UInt8.self, repeating: 0, count: Side.size)
    region = try device.registerMemory(memory, length: Side.size, access: access)
  }

  deinit { memory.deallocate() }

  var endpoint: QueuePairEndpoint {
    QueuePairEndpoint(
      lid: device.lid, queuePairNumber: qp.number, packetSequenceNumber: qp.initialPSN,
      gid: device.gid)
  }

  var address: UInt64 { UInt64(UInt(bitPattern: memory)) }

  func sge(_ offset: Int, _ length: Int, lkey: UInt32? = nil) -> ScatterGather {
    ScatterGather(
      address: address + UInt64(offset), length: UInt32(length), lkey: lkey ?? region.lkey)
  }

  func fill(_ offset: Int, _ length: Int, with byte: UInt8) {
    (memory + offset).initializeMemory(as: UInt8.self, repeating: byte, count: length)
  }

  func bytes(_ offset: Int, _ length: Int) -> [UInt8] {
    Array(UnsafeRawBufferPointer(start: memory + offset, count: length))
  }

  func postReceive(id: UInt64, _ offset: Int, _ length: Int) throws {
    if let srq {
      try srq.postReceive(id: id, sge(offset, length))
    } else {
      try qp.postReceive(id: id, sge(offset, length))
    }
  }
}

/// Waits (bounded) for the next completion on `cq`.
func next(
  _ cq: any CompletionQueue, timeout: Double = 10, file: StaticString = #filePath,
  line: UInt = #line
) -> WorkCompletion? {
  let out = UnsafeMutableBufferPointer<WorkCompletion>.allocate(capacity: 1)
  defer { out.deallocate() }
  out.initialize(repeating: .empty)
  let deadline = Date().addingTimeInterval(timeout)
  while Date() < deadline {
    if cq.poll(into: out) == 1 { return out[0] }
    usleep(500)
  }
  XCTFail("no completion within \(timeout) s", file: file, line: line)
  return nil
}

/// Nothing on `cq` right now (after giving the wire a moment).
func nothing(_ cq: any CompletionQueue) -> Bool {
  usleep(50_000)
  let out = UnsafeMutableBufferPointer<WorkCompletion>.allocate(capacity: 1)
  defer { out.deallocate() }
  out.initialize(repeating: .empty)
  return cq.poll(into: out) == 0
}

final class SoftVerbsTests: XCTestCase {
  var devices: [SoftVerbs] = []

  override func tearDown() {
    for device in devices { device.shutdown() }
    devices.removeAll()
  }

  func makeDevice(receiverNotReadyTimeout: Double? = nil) throws -> SoftVerbs {
    let device = try SoftVerbs(receiverNotReadyTimeout: receiverNotReadyTimeout)
    devices.append(device)
    return device
  }

  func connected(
    a: SoftVerbs? = nil, b: SoftVerbs? = nil,
    bAccess: MemoryAccess = [
      .localWrite, .remoteWrite, .remoteRead,
    ], bSRQ: Bool = false
  ) throws -> (Side, Side) {
    let left = try Side(a ?? makeDevice())
    let right = try Side(b ?? makeDevice(), access: bAccess, srq: bSRQ)
    try right.qp.connect(to: left.endpoint)
    try left.qp.connect(to: right.endpoint)
    return (left, right)
  }

  func testSendWithImmediateLandsInThePostedReceive() throws {
    let (a, b) = try connected()
    try b.postReceive(id: 7, 4096, 8192)
    a.fill(0, 5000, with: 0xAB)
    try a.qp.postSend(
      SendRequest(id: 1, opcode: .sendWithImmediate, local: a.sge(0, 5000), immediate: 0x1234_5678))
    let received = try XCTUnwrap(next(b.receiveCQ))
    XCTAssertEqual(received.status, .success)
    XCTAssertEqual(received.id, 7)
    XCTAssertEqual(received.opcode, .receive)
    XCTAssertEqual(received.byteLength, 5000)
    XCTAssertEqual(received.immediate, 0x1234_5678)
    XCTAssertEqual(received.queuePairNumber, b.qp.number)
    XCTAssertEqual(b.bytes(4096, 5000), [UInt8](repeating: 0xAB, count: 5000))
    XCTAssertEqual(b.bytes(4096 + 5000, 16), [UInt8](repeating: 0, count: 16), "nothing past it")
    let sent = try XCTUnwrap(next(a.sendCQ))
    XCTAssertEqual(sent.status, .success)
    XCTAssertEqual(sent.id, 1)
    XCTAssertEqual(sent.opcode, .send)
  }

  func testRDMAWriteAndReadMoveBytesWithoutReceives() throws {
    let (a, b) = try connected()
    let length = 300_000  // several wire reads
    for i in 0..<length {
      a.memory.storeBytes(of: UInt8(truncatingIfNeeded: i * 7), toByteOffset: i, as: UInt8.self)
    }
    try a.qp.postSend(
      SendRequest(
        id: 2, opcode: .rdmaWrite, local: a.sge(0, length), remoteAddress: b.address + 1000,
        rkey: b.region.rkey))
    XCTAssertEqual(try XCTUnwrap(next(a.sendCQ)).status, .success)
    XCTAssertEqual(b.bytes(1000, length), a.bytes(0, length))
    XCTAssertTrue(nothing(b.receiveCQ), "a one-sided write completes nothing at the target")

    b.fill(600_000, 4096, with: 0x5C)
    try a.qp.postSend(
      SendRequest(
        id: 3, opcode: .rdmaRead, local: a.sge(500_000, 4096), remoteAddress: b.address + 600_000,
        rkey: b.region.rkey))
    let read = try XCTUnwrap(next(a.sendCQ))
    XCTAssertEqual(read.status, .success)
    XCTAssertEqual(read.opcode, .rdmaRead)
    XCTAssertEqual(a.bytes(500_000, 4096), [UInt8](repeating: 0x5C, count: 4096))
  }

  func testWrongRemoteKeyIsRejectedAndTheQueuePairFails() throws {
    let (a, b) = try connected()
    a.fill(0, 64, with: 1)
    try a.qp.postSend(
      SendRequest(
        id: 4, opcode: .rdmaWrite, local: a.sge(0, 64), remoteAddress: b.address,
        rkey: b.region.rkey &+ 1))
    let failed = try XCTUnwrap(next(a.sendCQ))
    XCTAssertEqual(failed.status, .remoteAccessError)
    XCTAssertEqual(b.bytes(0, 64), [UInt8](repeating: 0, count: 64), "nothing was written")
    XCTAssertEqual(a.qp.state, .error)
    // Posting to a queue pair in error is accepted but never executed: flushed.
    try a.qp.postSend(
      SendRequest(
        id: 5, opcode: .rdmaWrite, local: a.sge(0, 64), remoteAddress: b.address,
        rkey: b.region.rkey))
    XCTAssertEqual(try XCTUnwrap(next(a.sendCQ)).status, .workRequestFlushed)
    XCTAssertEqual(b.bytes(0, 64), [UInt8](repeating: 0, count: 64))
  }

  func testOutOfBoundsAndMissingAccessAreRejected() throws {
    let (a, b) = try connected(bAccess: [.localWrite, .remoteWrite])
    try a.qp.postSend(
      SendRequest(
        id: 6, opcode: .rdmaWrite, local: a.sge(0, 4096),
        remoteAddress: b.address + UInt64(Side.size) - 100, rkey: b.region.rkey))
    XCTAssertEqual(try XCTUnwrap(next(a.sendCQ)).status, .remoteAccessError)

    let (c, d) = try connected(bAccess: [.localWrite, .remoteWrite])
    try c.qp.postSend(
      SendRequest(
        id: 7, opcode: .rdmaRead, local: c.sge(0, 16), remoteAddress: d.address,
        rkey: d.region.rkey))
    XCTAssertEqual(
      try XCTUnwrap(next(c.sendCQ)).status, .remoteAccessError, "no remote read access")
  }

  func testDeregisteredRegionRejectsAccess() throws {
    let (a, b) = try connected()
    b.region.deregister()
    try a.qp.postSend(
      SendRequest(
        id: 8, opcode: .rdmaWrite, local: a.sge(0, 8), remoteAddress: b.address,
        rkey: b.region.rkey))
    XCTAssertEqual(try XCTUnwrap(next(a.sendCQ)).status, .remoteAccessError)
  }

  func testBadLocalKeyIsALocalProtectionError() throws {
    let (a, b) = try connected()
    try b.postReceive(id: 1, 0, 4096)
    try a.qp.postSend(
      SendRequest(id: 9, opcode: .send, local: a.sge(0, 64, lkey: a.region.lkey &+ 5)))
    XCTAssertEqual(try XCTUnwrap(next(a.sendCQ)).status, .localProtectionError)
    XCTAssertEqual(a.qp.state, .error)
  }

  func testSendLargerThanTheReceiveFails() throws {
    let (a, b) = try connected()
    try b.postReceive(id: 1, 0, 100)
    try a.qp.postSend(SendRequest(id: 10, opcode: .send, local: a.sge(0, 101)))
    XCTAssertEqual(try XCTUnwrap(next(b.receiveCQ)).status, .localLengthError)
    XCTAssertEqual(try XCTUnwrap(next(a.sendCQ)).status, .remoteInvalidRequest)
  }

  func testPostingBeforeReadyToSendIsRefused() throws {
    let device = try makeDevice()
    let side = try Side(device)
    XCTAssertEqual(side.qp.state, .reset)
    XCTAssertThrowsError(
      try side.qp.postSend(SendRequest(id: 1, opcode: .send, local: side.sge(0, 8)))
    ) { error in
      guard case VerbsError.invalidState = error else { return XCTFail("\(error)") }
    }
    XCTAssertThrowsError(try side.qp.postReceive(id: 1, side.sge(0, 8)))
  }

  func testReceiverNotReadyWaitsForAReceiveAndCounts() throws {
    let (a, b) = try connected()
    try a.qp.postSend(SendRequest(id: 11, opcode: .send, local: a.sge(0, 10)))
    XCTAssertTrue(nothing(a.sendCQ), "no receive posted: the SEND waits")
    XCTAssertGreaterThanOrEqual(b.device.receiverNotReadyEvents, 1)
    try b.postReceive(id: 2, 0, 64)
    XCTAssertEqual(try XCTUnwrap(next(b.receiveCQ)).byteLength, 10)
    XCTAssertEqual(try XCTUnwrap(next(a.sendCQ)).status, .success)
  }

  func testReceiverNotReadyRetriesRunOut() throws {
    let b = try makeDevice(receiverNotReadyTimeout: 0.2)
    let (a, _) = try connected(b: b)
    try a.qp.postSend(SendRequest(id: 12, opcode: .send, local: a.sge(0, 10)))
    XCTAssertEqual(try XCTUnwrap(next(a.sendCQ)).status, .receiverNotReadyRetryExceeded)
    XCTAssertEqual(a.qp.state, .error)
  }

  func testMoveToErrorFlushesReceivesAndTheBeaconCompletesLast() throws {
    let (a, b) = try connected()
    for id in 1...3 { try b.postReceive(id: UInt64(id), id * 100, 50) }
    b.qp.moveToError()
    for id in 1...3 {
      let flushed = try XCTUnwrap(next(b.receiveCQ))
      XCTAssertEqual(flushed.id, UInt64(id))
      XCTAssertEqual(flushed.status, .workRequestFlushed)
    }
    try b.qp.postSend(SendRequest(id: 0xDEAD_BEEF, opcode: .send, local: nil))
    let beacon = try XCTUnwrap(next(b.sendCQ))
    XCTAssertEqual(beacon.id, 0xDEAD_BEEF)
    XCTAssertEqual(beacon.status, .workRequestFlushed)
    // The peer's wire went away with it: its next request fails instead of hanging.
    try a.qp.postSend(SendRequest(id: 13, opcode: .send, local: a.sge(0, 8)))
    let status = try XCTUnwrap(next(a.sendCQ)).status
    XCTAssertTrue(status == .retryExceeded || status == .workRequestFlushed, "\(status)")
  }

  func testPeerDeviceGoneFailsOutstandingRequests() throws {
    let (a, b) = try connected()
    try a.qp.postSend(SendRequest(id: 14, opcode: .send, local: a.sge(0, 10)))  // waits: RNR
    XCTAssertTrue(nothing(a.sendCQ))
    b.device.shutdown()
    let failed = try XCTUnwrap(next(a.sendCQ))
    XCTAssertEqual(failed.status, .retryExceeded)
    XCTAssertEqual(a.qp.state, .error)
  }

  func testSharedReceiveQueueServesTwoQueuePairs() throws {
    let server = try makeDevice()
    let srqSide = try Side(server, srq: true)
    let other = try server.makeQueuePair(
      sendCQ: srqSide.sendCQ, receiveCQ: srqSide.receiveCQ, srq: srqSide.srq, maxSend: 8,
      maxReceive: 8)
    let a = try Side(makeDevice())
    let c = try Side(makeDevice())
    try srqSide.qp.connect(to: a.endpoint)
    try a.qp.connect(to: srqSide.endpoint)
    try other.connect(
      to: c.endpoint)
    try c.qp.connect(
      to: QueuePairEndpoint(
        lid: 0, queuePairNumber: other.number, packetSequenceNumber: other.initialPSN,
        gid: server.gid))
    XCTAssertThrowsError(try other.postReceive(id: 1, srqSide.sge(0, 8)), "receives go to the SRQ")
    try srqSide.postReceive(id: 21, 0, 100)
    try srqSide.postReceive(id: 22, 100, 100)
    try a.qp.postSend(SendRequest(id: 1, opcode: .send, local: a.sge(0, 5)))
    try c.qp.postSend(SendRequest(id: 1, opcode: .send, local: c.sge(0, 6)))
    let first = try XCTUnwrap(next(srqSide.receiveCQ))
    let second = try XCTUnwrap(next(srqSide.receiveCQ))
    XCTAssertEqual(Set([first.id, second.id]), [21, 22])
    XCTAssertEqual(
      Set([first.queuePairNumber, second.queuePairNumber]), [srqSide.qp.number, other.number])
  }

  func testCompletionChannelSignalsAnArmedQueue() throws {
    let device = try makeDevice()
    let channel = try device.makeCompletionChannel()
    let cq = try device.makeCompletionQueue(depth: 16, channel: channel)
    let a = try Side(makeDevice())
    let qp = try device.makeQueuePair(
      sendCQ: cq, receiveCQ: cq, srq: nil, maxSend: 8, maxReceive: 8)
    try qp.connect(to: a.endpoint)
    try a.qp.connect(
      to: QueuePairEndpoint(
        lid: 0, queuePairNumber: qp.number, packetSequenceNumber: qp.initialPSN, gid: device.gid))
    let memory = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
    defer { memory.deallocate() }
    let region = try device.registerMemory(memory, length: 64, access: [.localWrite])
    try qp.postReceive(id: 1, ScatterGather(memory, length: 64, lkey: region.lkey))
    cq.requestNotification()
    try a.qp.postSend(SendRequest(id: 1, opcode: .send, local: a.sge(0, 3)))
    var descriptor = pollfd(fd: channel.fileDescriptor, events: Int16(POLLIN), revents: 0)
    XCTAssertEqual(poll(&descriptor, 1, 10_000), 1, "the channel became readable")
    channel.takeEvents()
    XCTAssertEqual(try XCTUnwrap(next(cq)).byteLength, 3)
  }

  /// Garbage from another local process on the device's socket (no HELLO, a bogus HELLO, a
  /// header claiming a huge payload) closes that wire; the device keeps serving real pairs.
  func testHostileBytesOnTheWireAreRefused() throws {
    let device = try makeDevice()
    var random = SystemRandomNumberGenerator()
    var bogusHello = [UInt8](repeating: 0, count: 32)
    bogusHello[0] = 7  // HELLO
    bogusHello[4] = 200  // with a 200-byte payload instead of 16
    var huge = [UInt8](repeating: 0, count: 32)
    huge[0] = 1  // SEND before any HELLO
    huge[4...7] = [0xFF, 0xFF, 0xFF, 0x7F]
    let inputs: [[UInt8]] = [
      (0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) }, bogusHello, huge,
    ]
    for bytes in inputs {
      let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
      XCTAssertGreaterThanOrEqual(fd, 0)
      defer { close(fd) }
      var address = SoftVerbs.socketAddress(device.gid)
      let connected = withUnsafePointer(to: &address.0) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, address.1) }
      }
      XCTAssertEqual(connected, 0)
      _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
      var tv = timeval(tv_sec: 5, tv_usec: 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
      var buffer = [UInt8](repeating: 0, count: 64)
      XCTAssertEqual(recv(fd, &buffer, 64, 0), 0, "the device closed the wire")
    }
    let (a, b) = try connected(b: device)
    try b.postReceive(id: 1, 0, 64)
    try a.qp.postSend(SendRequest(id: 1, opcode: .send, local: a.sge(0, 8)))
    XCTAssertEqual(try XCTUnwrap(next(b.receiveCQ)).status, .success)
  }

  func testRemoteWriteNeedsLocalWrite() throws {
    let device = try makeDevice()
    let memory = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
    defer { memory.deallocate() }
    XCTAssertThrowsError(try device.registerMemory(memory, length: 64, access: [.remoteWrite]))
  }
}

final class HardwareVerbsTests: XCTestCase {
  /// This machine has no RDMA device: opening one fails with one clear line.
  func testNoDeviceIsReportedClearly() throws {
    XCTAssertThrowsError(try HardwareVerbs.open(name: "mlx5_0", port: 1, gidIndex: 0)) { error in
      guard case VerbsError.noDevice(let why) = error else { return XCTFail("\(error)") }
      XCTAssertTrue(why.contains("device"), why)
      XCTAssertTrue(why.contains("ibv_devices"), why)
      XCTAssertTrue(why.contains("RLIMIT_MEMLOCK"), why)
      XCTAssertFalse(why.contains("\n"), "one line")
    }
  }

  /// Neither can rdma_cm be used: its event channel fails with ENODEV, in one line that says
  /// what to check; opening the device the way librdmacm sees it fails like the plain open.
  func testConnectionManagerUnavailableIsReportedClearly() throws {
    XCTAssertThrowsError(try CMEventChannel.open()) { error in
      guard case VerbsError.noDevice(let why) = error else { return XCTFail("\(error)") }
      XCTAssertTrue(why.hasPrefix("rdma_cm is unavailable"), why)
      XCTAssertTrue(why.contains("rdma_create_event_channel failed with ENODEV"), why)
      for fragment in ["rdma-core", "`ibv_devices`", "`rdma link`", "rxe0", "RLIMIT_MEMLOCK"] {
        XCTAssertTrue(why.contains(fragment), "\(fragment): \(why)")
      }
      XCTAssertFalse(why.contains("\n"), "one line")
    }
    XCTAssertThrowsError(
      try HardwareVerbs.open(name: "rxe0", port: 1, gidIndex: 0, connectionManager: true)
    ) { error in
      guard case VerbsError.noDevice(let why) = error else { return XCTFail("\(error)") }
      XCTAssertTrue(why.contains("ibv_devices"), why)
    }
  }

  func testMemoryLockLimitIsCheckedUpFront() throws {
    XCTAssertThrowsError(try MemoryLockCheck.check(required: 160 << 20, limit: 8 << 20)) { error in
      guard case VerbsError.memoryLockLimit(let why) = error else { return XCTFail("\(error)") }
      XCTAssertTrue(why.contains("RLIMIT_MEMLOCK is 8192 KiB"), why)
      XCTAssertTrue(why.contains("163840 KiB"), why)
    }
    XCTAssertNoThrow(try MemoryLockCheck.check(required: 160 << 20, limit: UInt64.max))
    XCTAssertNoThrow(try MemoryLockCheck.check(required: 4 << 20, limit: 8 << 20))
  }
}
