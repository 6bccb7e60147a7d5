import LoligoCore
import LoligoWire
import NIOCore
import XCTest

final class FrameCodecTests: XCTestCase {
  let limits = FrameDecoder.Limits(maxMessageBytes: 4 << 20, maxControlBytes: 64 << 10)

  func encodeMessage(front: [UInt8], data: [UInt8], seq: UInt64 = 1, crcData: Bool = true)
    -> [UInt8]
  {
    var encoder = FrameEncoder(crcData: crcData)
    var out = ByteBuffer()
    var pieces: [UInt8] = []
    encoder.writeMessage(
      header: MessageHeader2(seq: seq, tid: seq * 10, type: 42), front: ByteBuffer(bytes: front),
      middle: ByteBuffer(), data: ByteBuffer(bytes: data), into: &out
    ) { head, bulk in
      pieces += head.readableBytesView
      pieces += bulk.readableBytesView
      head.clear()
    }
    return pieces + out.readableBytesView
  }

  func testMessageRoundTripSmallAndLarge() throws {
    for size in [0, 1, 4096, FrameEncoder.inlineDataLimit + 1, 1 << 20] {
      let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
      let bytes = encodeMessage(front: Array("front".utf8), data: data)
      var decoder = FrameDecoder(limits: limits)
      decoder.append(ByteBuffer(bytes: bytes))
      let frame = try XCTUnwrap(try decoder.nextFrame(), "size \(size)")
      XCTAssertEqual(frame.tag, .message)
      var header = frame.segments.0
      let decoded = try MessageHeader2.decode(&header)
      XCTAssertEqual(decoded.seq, 1)
      XCTAssertEqual(decoded.tid, 10)
      XCTAssertEqual(decoded.type, 42)
      XCTAssertEqual(Array(frame.segments.1.readableBytesView), Array("front".utf8))
      XCTAssertEqual(Array(frame.segments.3.readableBytesView), data)
      XCTAssertNil(try decoder.nextFrame())
      XCTAssertEqual(decoder.bufferedBytes, 0)
    }
  }

  /// Bytes may arrive in any split; frames come out whole and in order.
  func testByteAtATimeAndRandomSplits() throws {
    var stream: [UInt8] = []
    for seq in 1...20 {
      stream += encodeMessage(
        front: [UInt8(seq)], data: [UInt8](repeating: UInt8(seq), count: seq * 100),
        seq: UInt64(seq))
    }
    var generator = SystemRandomNumberGenerator()
    for chunking in 0..<3 {
      var decoder = FrameDecoder(limits: limits)
      var seqs: [UInt64] = []
      var offset = 0
      while offset < stream.count {
        let step = chunking == 0 ? 1 : Int.random(in: 1...700, using: &generator)
        let end = min(stream.count, offset + step)
        decoder.append(ByteBuffer(bytes: stream[offset..<end]))
        offset = end
        while let frame = try decoder.nextFrame() {
          var header = frame.segments.0
          seqs.append(try MessageHeader2.decode(&header).seq)
        }
      }
      XCTAssertEqual(seqs, Array(1...20))
    }
  }

  /// Large frames (own body buffer) between small ones, in random splits, including splits
  /// that end exactly at a frame boundary and chunks spanning several frames.
  func testLargeAndSmallFramesInRandomSplits() throws {
    let sizes = [100, 300_000, 10, 70_000, FrameDecoder.ownBufferThreshold, 5, 1 << 20, 0, 200]
    var stream: [UInt8] = []
    var datas: [[UInt8]] = []
    for (i, size) in sizes.enumerated() {
      let data = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i) }
      datas.append(data)
      stream += encodeMessage(front: [UInt8(i)], data: data, seq: UInt64(i + 1))
    }
    var generator = SystemRandomNumberGenerator()
    for round in 0..<12 {
      var decoder = FrameDecoder(limits: limits)
      var received: [[UInt8]] = []
      var offset = 0
      while offset < stream.count {
        let step =
          round == 0
          ? 65_536
          : Int.random(in: 1...(round.isMultiple(of: 2) ? 2_000 : 400_000), using: &generator)
        let end = min(stream.count, offset + step)
        decoder.append(ByteBuffer(bytes: stream[offset..<end]))
        offset = end
        while let frame = try decoder.nextFrame() {
          let data = frame.segments.3
          if data.readableBytes > 400_000 {
            // Larger than any chunk, so assembled: the data slice keeps alive its own frame
            // (allocations round up to a power of two), not a buffer shared with its neighbours.
            XCTAssertLessThan(data.storageCapacity, 2 * (data.readableBytes + 4096))
          }
          received.append(Array(data.readableBytesView))
        }
      }
      XCTAssertEqual(received.count, datas.count, "round \(round)")
      XCTAssertTrue(received == datas, "round \(round)")
      XCTAssertEqual(decoder.bufferedBytes, 0)
    }
  }

  func testControlFrameRoundTrip() throws {
    var encoder = FrameEncoder()
    var out = ByteBuffer()
    let ident = IdentFrame(
      addrs: EntityAddrVec([try EntityAddr(parsing: "10.0.0.1:6800", nonce: 7)]),
      target: try EntityAddr(parsing: "[::1]:3300"), gid: 4121, globalSeq: 9,
      supportedFeatures: Features.supported, requiredFeatures: Features.required, flags: 1,
      cookie: 0xABCD)
    encoder.writeControl(.clientIdent, into: &out) { ident.encode(to: &$0) }
    var decoder = FrameDecoder(limits: limits)
    decoder.append(out)
    let frame = try XCTUnwrap(try decoder.nextFrame())
    XCTAssertEqual(frame.tag, .clientIdent)
    var payload = frame.payload
    XCTAssertEqual(try IdentFrame(from: &payload, client: true), ident)
    XCTAssertEqual(payload.readableBytes, 0)
  }

  func testHandshakePayloadRoundTrips() throws {
    func roundTrip<T: Equatable>(
      _ value: T, _ encode: (T, inout ByteBuffer) -> Void, _ decode: (inout ByteBuffer) throws -> T
    ) throws {
      var b = ByteBuffer()
      encode(value, &b)
      XCTAssertEqual(try decode(&b), value)
      XCTAssertEqual(b.readableBytes, 0)
    }
    let addr = try EntityAddr(parsing: "192.168.1.2:1234", nonce: 5)
    try roundTrip(
      HelloFrame(entityType: .osd, peerAddr: addr), { $0.encode(to: &$1) },
      { try HelloFrame(from: &$0) })
    try roundTrip(
      AuthRequestFrame(method: 1, preferredModes: [1, 2], payload: ByteBuffer(bytes: [1, 2, 3])),
      { $0.encode(to: &$1) }, { try AuthRequestFrame(from: &$0) })
    try roundTrip(
      AuthBadMethodFrame(method: 2, result: -95, allowedMethods: [1], allowedModes: [1]),
      { $0.encode(to: &$1) }, { try AuthBadMethodFrame(from: &$0) })
    try roundTrip(
      AuthDoneFrame(globalID: 77, connectionMode: 1, payload: ByteBuffer()), { $0.encode(to: &$1) },
      { try AuthDoneFrame(from: &$0) })
    try roundTrip(
      AuthSignatureFrame(), { $0.encode(to: &$1) }, { try AuthSignatureFrame(from: &$0) })
    try roundTrip(
      ReconnectFrame(
        addrs: EntityAddrVec([addr]), clientCookie: 1, serverCookie: 2, globalSeq: 3, connectSeq: 4,
        msgSeq: 5), { $0.encode(to: &$1) }, { try ReconnectFrame(from: &$0) })
    try roundTrip(ResetFrame(full: true), { $0.encode(to: &$1) }, { try ResetFrame(from: &$0) })
    try roundTrip(
      KeepaliveFrame(seconds: 1, nanoseconds: 2), { $0.encode(to: &$1) },
      { try KeepaliveFrame(from: &$0) })
    try roundTrip(
      EntityAddr.blank, { $0.encode(to: &$1) }, { try EntityAddr(from: &$0) })
  }

  func testAddressParsing() throws {
    XCTAssertEqual(try EntityAddr(parsing: "127.0.0.1:80").port, 80)
    XCTAssertEqual(try EntityAddr(parsing: "v2:127.0.0.1:80").hostPort, "127.0.0.1:80")
    XCTAssertEqual(try EntityAddr(parsing: "[::1]:80").family, EntityAddr.familyIPv6)
    for bad in ["not-an-address", "127.0.0.1", "127.0.0.1:99999", "1.2.3:4", ":80", "[::1]80", ""] {
      XCTAssertThrowsError(try EntityAddr(parsing: bad), bad)
    }
  }

  func testCrcDataOffSkipsDataCheck() throws {
    var bytes = encodeMessage(front: [1], data: [1, 2, 3], crcData: false)
    bytes[bytes.count - 5] ^= 0xFF  // flip a data byte: only the data crc would catch it
    var decoder = FrameDecoder(limits: limits, crcData: false)
    decoder.append(ByteBuffer(bytes: bytes))
    XCTAssertNotNil(try decoder.nextFrame())
  }

  /// A data crc handed to the encoder is sent as is: the right one decodes (and the frame
  /// reports it), a wrong one is refused by the receiver.
  func testGivenDataCRCIsSentAndChecked() throws {
    let data = ByteBuffer(bytes: (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 13) })
    let right = CRC32C.checksum(data, seed: CRC32C.segmentSeed)
    for (given, accepted) in [(right, true), (right ^ 1, false)] {
      var encoder = FrameEncoder()
      var out = ByteBuffer()
      var wire = ByteBuffer()
      encoder.writeMessage(
        header: MessageHeader2(seq: 1, tid: 1, type: 42), front: ByteBuffer(bytes: [1]),
        middle: ByteBuffer(), data: data, dataCRC: given, into: &out
      ) { head, bulk in
        wire.writeImmutableBuffer(head)
        wire.writeImmutableBuffer(bulk)
        head.clear()
      }
      wire.writeImmutableBuffer(out)
      var decoder = FrameDecoder(limits: limits)
      decoder.append(wire)
      if accepted {
        let frame = try XCTUnwrap(try decoder.nextFrame())
        XCTAssertEqual(frame.dataCRC, right)
        XCTAssertEqual(frame.segments.3, data)
      } else {
        XCTAssertThrowsError(try decoder.nextFrame())
      }
    }
  }
}
