import LoligoCore
import LoligoVerbs
import LoligoWire
import XCTest

@testable import LoligoMessenger

/// Connection set-up through rdma_cm (`ms_async_rdma_cm`): the private data each end sends,
/// the event-to-action rules, and the clear error on a machine without RDMA. The set-up itself
/// needs an RDMA device with an IP address, which this machine does not have.
final class RDMACMTests: XCTestCase {
  let ours = RDMAConnectionParameters(credits: 16, bufferSize: 131072, readLimit: 8)

  // MARK: private data

  func testPrivateDataRoundTrips() throws {
    let connect = RDMAPrivateData.encode(.connect, ours)
    XCTAssertEqual(connect.count, RDMAPrivateData.size)
    XCTAssertLessThanOrEqual(connect.count, 56, "fits an InfiniBand connect request")
    XCTAssertEqual(try RDMAPrivateData.decode(connect, expecting: .connect), ours)
    let accept = RDMAPrivateData.encode(.accept, ours)
    XCTAssertEqual(try RDMAPrivateData.decode(accept, expecting: .accept), ours)
    // The CM pads private data to its message size: trailing bytes are not ours to read.
    XCTAssertEqual(
      try RDMAPrivateData.decode(accept + [UInt8](repeating: 0xAB, count: 164), expecting: .accept),
      ours)
    let reject = RDMAPrivateData.encodeReject(.noResources)
    XCTAssertEqual(RDMAPrivateData.rejectReason(reject), .noResources)
    XCTAssertNil(RDMAPrivateData.rejectReason(connect), "a connect is not a reject")
    XCTAssertNil(RDMAPrivateData.rejectReason([]))
  }

  func testHostilePrivateDataIsRejected() {
    let good = RDMAPrivateData.encode(.connect, ours)
    func expectRejected(_ bytes: [UInt8], _ fragment: String, line: UInt = #line) {
      XCTAssertThrowsError(try RDMAPrivateData.decode(bytes, expecting: .connect), line: line) {
        let text = "\($0)"
        XCTAssertTrue(text.contains(fragment), text, line: line)
        XCTAssertFalse(text.contains("\n"), line: line)
      }
    }
    expectRejected([], "0 bytes")
    expectRejected(Array(good.prefix(31)), "31 bytes")
    var bytes = good
    bytes[0] = UInt8(ascii: "X")
    expectRejected(bytes, "not a Loligo")
    bytes = good
    bytes[4] = 2
    expectRejected(bytes, "version 2")
    bytes = good
    bytes[4] = 0
    expectRejected(bytes, "version 0")
    expectRejected(RDMAPrivateData.encode(.accept, ours), "kind 2")
    expectRejected(RDMAPrivateData.encodeReject(.malformed), "kind 3")
    // Absurd values, each on its own: a peer must not size our queues or buffers.
    func with(_ offset: Int, _ value: UInt32) -> [UInt8] {
      var out = good
      withUnsafeBytes(of: value.littleEndian) { out.replaceSubrange(offset..<offset + 4, with: $0) }
      return out
    }
    expectRejected(with(8, 0), "out of range")
    expectRejected(with(8, 3), "out of range")
    expectRejected(with(8, 65537), "out of range")
    expectRejected(with(8, UInt32.max), "out of range")
    expectRejected(with(12, 0), "out of range")
    expectRejected(with(12, 4095), "out of range")
    expectRejected(with(12, (64 << 20) + 1), "out of range")
    expectRejected(with(16, 4097), "out of range")
    expectRejected(with(16, UInt32.max), "out of range")
    XCTAssertNoThrow(try RDMAPrivateData.decode(with(16, 0), expecting: .connect))
    // Random bytes never decode (the magic alone makes that near certain) and never crash.
    var generator = SystemRandomNumberGenerator()
    for length in [0, 1, 8, 31, 32, 56, 64] {
      for _ in 0..<200 {
        let noise = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        _ = try? RDMAPrivateData.decode(noise, expecting: .connect)
        _ = RDMAPrivateData.rejectReason(noise)
      }
    }
  }

  // MARK: event handling

  func event(
    _ type: CMEventType, status: Int32 = 0, data: [UInt8] = [], reads: UInt8 = 4
  ) -> CMEvent {
    CMEvent(
      rawType: type.rawValue, status: status, responderResources: reads, initiatorDepth: reads,
      privateData: data)
  }

  func testClientSetUpInOrder() {
    var handshake = RDMACMHandshake(role: .client, peer: "192.0.2.10:6800")
    XCTAssertEqual(handshake.state, .resolvingAddress)
    XCTAssertEqual(handshake.handle(event(.addressResolved)), .resolveRoute)
    XCTAssertEqual(handshake.handle(event(.routeResolved)), .connect)
    XCTAssertEqual(handshake.state, .connecting)
    let reply = RDMAPrivateData.encode(.accept, ours)
    XCTAssertEqual(handshake.handle(event(.established, data: reply)), .established(ours))
    XCTAssertEqual(handshake.state, .established)
    // Repeated or stray set-up events after that change nothing; TIMEWAIT_EXIT never does.
    XCTAssertEqual(handshake.handle(event(.routeResolved)), .ignore)
    XCTAssertEqual(handshake.handle(event(.timewaitExit)), .ignore)
    XCTAssertEqual(handshake.handle(event(.disconnected)), .peerDisconnected)
    XCTAssertEqual(handshake.state, .closed)
    XCTAssertEqual(handshake.handle(event(.established, data: reply)), .ignore)
    XCTAssertEqual(handshake.handle(CMEvent(rawType: 99)), .ignore, "unknown event numbers")
  }

  func testClientWithoutReadResourcesTurnsZeroCopyOff() {
    var handshake = RDMACMHandshake(role: .client, peer: "p")
    _ = handshake.handle(event(.addressResolved))
    _ = handshake.handle(event(.routeResolved))
    var expected = ours
    expected.readLimit = 0
    XCTAssertEqual(
      handshake.handle(event(.established, data: RDMAPrivateData.encode(.accept, ours), reads: 0)),
      .established(expected))
  }

  func testClientRefusesAHostileAccept() {
    var handshake = RDMACMHandshake(role: .client, peer: "p")
    _ = handshake.handle(event(.addressResolved))
    _ = handshake.handle(event(.routeResolved))
    var bad = RDMAPrivateData.encode(.accept, ours)
    bad[8...11] = [0xFF, 0xFF, 0xFF, 0xFF]
    guard case .fail(let why) = handshake.handle(event(.established, data: bad)) else {
      return XCTFail("accepted out-of-range parameters")
    }
    XCTAssertTrue(why.contains("out of range"), why)
    XCTAssertEqual(handshake.state, .closed)
    XCTAssertEqual(handshake.handle(event(.disconnected)), .ignore)
  }

  func testClientSetUpFailuresSayWhy() {
    func failure(_ events: [CMEvent]) -> String? {
      var handshake = RDMACMHandshake(role: .client, peer: "192.0.2.10:6800")
      for event in events {
        if case .fail(let why) = handshake.handle(event) {
          XCTAssertEqual(handshake.state, .closed)
          return why
        }
      }
      return nil
    }
    let resolved = [event(.addressResolved), event(.routeResolved)]
    XCTAssertTrue(failure([event(.addressError, status: -110)])?.contains("rdma link") ?? false)
    XCTAssertTrue(
      failure([event(.addressResolved), event(.routeError)])?.contains("no route") ?? false)
    XCTAssertTrue(
      failure(resolved + [event(.unreachable, status: -110)])?.contains("unreachable") ?? false)
    XCTAssertTrue(failure(resolved + [event(.connectError)])?.contains("CONNECT_ERROR") ?? false)
    let refused = failure(
      resolved + [event(.rejected, status: 28, data: RDMAPrivateData.encodeReject(.noResources))])
    XCTAssertTrue(refused?.contains("no receive buffers") ?? false, refused ?? "nil")
    let nobody = failure(resolved + [event(.rejected, status: 8)])
    XCTAssertTrue(nobody?.contains("listening") ?? false, nobody ?? "nil")
    XCTAssertTrue(
      failure(resolved + [event(.disconnected)])?.contains("during RDMA connection set-up")
        ?? false)
    // Out of order: a peer or stack that skips steps fails the set-up, never half-connects.
    XCTAssertNotNil(failure([event(.established, data: RDMAPrivateData.encode(.accept, ours))]))
    XCTAssertNotNil(failure([event(.routeResolved)]))
    XCTAssertNotNil(failure([event(.addressResolved), event(.addressResolved)]))
    XCTAssertNotNil(failure([event(.connectRequest)]))
    XCTAssertTrue(failure([event(.deviceRemoval)])?.contains("removed") ?? false)
  }

  func testServerSide() throws {
    var handshake = RDMACMHandshake(role: .server, peer: "p")
    XCTAssertEqual(handshake.state, .accepting)
    XCTAssertEqual(handshake.handle(event(.established)), .established(nil))
    XCTAssertEqual(handshake.handle(event(.disconnected)), .peerDisconnected)

    var early = RDMACMHandshake(role: .server, peer: "p")
    guard case .fail = early.handle(event(.connectError)) else { return XCTFail() }

    let request = event(.connectRequest, data: RDMAPrivateData.encode(.connect, ours))
    let plan = try RDMACMHandshake.accept(request, ours: ours, readsServed: 2, readsIssued: 4)
    XCTAssertEqual(plan.peer, ours)
    XCTAssertEqual(plan.reply, ours)
    XCTAssertEqual(plan.responderResources, 2, "no more than this device serves")
    XCTAssertEqual(plan.initiatorDepth, 4)

    // A client that cannot serve or issue READs: no zero-copy either way.
    let noReads = CMEvent(
      rawType: CMEventType.connectRequest.rawValue, responderResources: 0, initiatorDepth: 4,
      privateData: RDMAPrivateData.encode(.connect, ours))
    let limited = try RDMACMHandshake.accept(noReads, ours: ours, readsServed: 4, readsIssued: 4)
    XCTAssertEqual(limited.initiatorDepth, 0)
    XCTAssertEqual(limited.peer.readLimit, 0)
    XCTAssertEqual(limited.reply.readLimit, 0)

    for hostile in [[], [UInt8](repeating: 0, count: 56), RDMAPrivateData.encode(.accept, ours)] {
      XCTAssertThrowsError(
        try RDMACMHandshake.accept(
          event(.connectRequest, data: hostile), ours: ours, readsServed: 4, readsIssued: 4)
      ) { error in
        XCTAssertEqual((error as? RDMACMHandshake.Refusal)?.reason, .malformed)
      }
    }
  }

  // MARK: no RDMA here

  /// ms_async_rdma_cm = true on this machine (no RDMA in the kernel) fails at once, in one line
  /// that names what failed and what to check.
  func testConnectionManagerUnavailableIsAClearError() throws {
    TransportUnderTest.current = .tcp
    let config = makeConfig([
      "ms_type": "rdma", "ms_async_rdma_device_name": "mlx5_0", "ms_async_rdma_cm": "true",
    ])
    XCTAssertThrowsError(
      try Messenger(name: EntityName(.client, 0), config: config, policy: .losslessClient)
    ) { error in
      let text = "\(error)"
      for fragment in [
        "rdma_cm is unavailable", "rdma_create_event_channel", "rdma-core", "ibv_devices",
        "rdma link", "RLIMIT_MEMLOCK",
      ] {
        XCTAssertTrue(text.contains(fragment), "\(fragment): \(text)")
      }
      XCTAssertFalse(text.contains("\n"), text)
      XCTAssertFalse(text.contains("not implemented"), text)
    }
  }

  func testConnectionManagerNeedsHardware() {
    TransportUnderTest.current = .tcp
    let config = makeConfig([
      "ms_type": "rdma", "ms_async_rdma_device_name": "soft", "ms_async_rdma_cm": "true",
    ])
    XCTAssertThrowsError(
      try Messenger(name: EntityName(.client, 0), config: config, policy: .losslessClient)
    ) { error in
      XCTAssertTrue("\(error)".contains("needs a hardware RDMA device"), "\(error)")
    }
  }
}
