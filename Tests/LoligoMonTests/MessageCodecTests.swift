import LoligoConsensus
import LoligoCore
import LoligoMon
import NIOCore
import XCTest

/// Every monitor message round-trips, and hostile bytes (truncated, mutated, random,
/// oversized) are refused with a `DecodeError`, never a trap.
final class MessageCodecTests: XCTestCase {
  static func bytes(_ values: [UInt8]) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: values.count)
    buffer.writeBytes(values)
    return buffer
  }

  static let value = bytes(Array(0..<200).map { UInt8($0 % 251) })

  /// One sample of every message, with every optional part filled.
  static let samples: [MonMessage] = [
    .electionPropose(ElectionPropose(epoch: 7)),
    .electionAck(ElectionAck(epoch: 9)),
    .electionVictory(ElectionVictory(epoch: 10, quorum: RankSet([0, 2, 4]))),
    .paxosCollect(PaxosCollect(epoch: 10, pn: 301, firstCommitted: 5, lastCommitted: 42)),
    .paxosLast(
      PaxosLast(
        epoch: 10, pn: 301, firstCommitted: 4, lastCommitted: 44,
        values: [
          VersionedValue(version: 43, value: value), VersionedValue(version: 44, value: bytes([1])),
        ], uncommittedPN: 200, uncommittedValue: bytes([9, 9, 9]))),
    .paxosLast(PaxosLast(epoch: 12, pn: 401, firstCommitted: 0, lastCommitted: 0)),
    .paxosBegin(PaxosBegin(epoch: 10, pn: 301, lastCommitted: 44, value: value)),
    .paxosAccept(PaxosAccept(epoch: 10, pn: 301, lastCommitted: 44)),
    .paxosCommit(
      PaxosCommit(
        epoch: 10, pn: 301, lastCommitted: 45, values: [VersionedValue(version: 45, value: value)],
        leaseDuration: 5_000_000_000)),
    .paxosLease(PaxosLease(epoch: 10, firstCommitted: 4, lastCommitted: 45, duration: 5)),
    .paxosLeaseAck(PaxosLeaseAck(epoch: 10, firstCommitted: 4, lastCommitted: 45)),
    .probe(MonProbe(firstCommitted: 3, lastCommitted: 30, hasEverJoined: true)),
    .probeReply(
      MonProbeReply(
        quorum: RankSet([0, 1]), epoch: 12, firstCommitted: 3, lastCommitted: 31,
        hasEverJoined: true, canProvideSync: false)),
    .syncStart(SyncStart(cookie: 0xDEAD_BEEF, full: true, lastCommitted: 17)),
    .syncGetChunk(SyncGetChunk(cookie: 0xDEAD_BEEF, seq: 3)),
    .syncChunk(
      SyncChunk(
        cookie: 0xDEAD_BEEF, seq: 3, isLast: true, snapshotDone: true,
        snapshotFirstCommitted: 10, snapshotLastCommitted: 60,
        entries: [
          SyncEntry(prefix: "paxos", key: MonStoreKeys.version(60), value: value),
          SyncEntry(prefix: "svc", key: "k", value: bytes([])),
        ], values: [VersionedValue(version: 61, value: value)])),
    .syncAbort(SyncAbort(cookie: 5, reason: .needFullSync)),
    .clientForward(ClientForward(epoch: 12, clientId: 77, tid: 3, payload: value)),
    .clientForwardReply(ClientForwardReply(clientId: 77, tid: 3, error: .busy)),
  ]

  func testEveryMessageRoundTrips() throws {
    XCTAssertEqual(
      Set(Self.samples.map(\.tag)), Set(MonMessage.Tag.allCases), "a sample of every message")
    for message in Self.samples {
      var buffer = message.encoded()
      let decoded = try MonMessage(from: &buffer)
      XCTAssertEqual(decoded, message, "\(message.name)")
      XCTAssertEqual(buffer.readableBytes, 0, "\(message.name) left bytes")
    }
  }

  func testProposalBatchRoundTrips() throws {
    let batch = ProposalBatch(proposals: [
      MonProposal(origin: 2, clientId: 1, tid: 9, payload: Self.value),
      MonProposal(origin: 0, clientId: 5, tid: 1, payload: Self.bytes([])),
    ])
    var buffer = batch.encoded()
    XCTAssertEqual(try ProposalBatch(from: &buffer, limits: .default), batch)
    var bad = ProposalBatch(proposals: [
      MonProposal(origin: 99, clientId: 1, tid: 1, payload: Self.value)
    ]).encoded()
    XCTAssertThrowsError(try ProposalBatch(from: &bad, limits: .default))
  }

  func testEveryTruncationThrows() {
    for message in Self.samples {
      let full = message.encoded()
      for length in 0..<full.readableBytes {
        var prefix = full.getSlice(at: full.readerIndex, length: length)!
        XCTAssertThrowsError(try MonMessage(from: &prefix), "\(message.name) cut at \(length)")
      }
    }
  }

  func testMutatedAndRandomBytesNeverTrap() {
    var rng = SimRandom(seed: 99)
    var decoded = 0
    for message in Self.samples {
      let full = message.encoded()
      for _ in 0..<300 {
        var bytes = Array(full.readableBytesView)
        for _ in 0..<Int(rng.uniform(1...4)) {
          bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
        }
        var buffer = Self.bytes(bytes)
        if (try? MonMessage(from: &buffer)) != nil { decoded += 1 }
      }
    }
    for _ in 0..<3000 {
      var bytes = (0..<Int(rng.uniform(0...80))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      if bytes.count >= 2 {
        let tag = rng.pick(MonMessage.Tag.allCases).rawValue
        bytes[0] = UInt8(tag & 0xff)
        bytes[1] = UInt8(tag >> 8)
      }
      var buffer = Self.bytes(bytes)
      if (try? MonMessage(from: &buffer)) != nil { decoded += 1 }
    }
    XCTAssertGreaterThan(decoded, 0, "some mutations still decode (e.g. a changed epoch)")
  }

  func testUnknownTagAndNewerCompatAreRefused() {
    var unknown = Self.bytes([0xff, 0x7f, 1, 1, 0, 0, 0, 0])
    XCTAssertThrowsError(try MonMessage(from: &unknown)) { error in
      guard case DecodeError.invalid = error else { return XCTFail("\(error)") }
    }
    var newer = ByteBufferAllocator().buffer(capacity: 16)
    newer.writeLE(MonMessage.Tag.electionAck.rawValue)
    newer.writeVersioned(version: 3, compat: 2) { $0.writeLE(UInt64(5)) }
    XCTAssertThrowsError(try MonMessage(from: &newer)) { error in
      guard case DecodeError.incompatible = error else { return XCTFail("\(error)") }
    }
  }

  /// A newer writer may append fields; this reader skips them.
  func testNewerVersionWithExtraFieldsDecodes() throws {
    var buffer = ByteBufferAllocator().buffer(capacity: 32)
    buffer.writeLE(MonMessage.Tag.paxosAccept.rawValue)
    buffer.writeVersioned(version: 2, compat: 1) {
      $0.writeLE(UInt64(10))
      $0.writeLE(UInt64(301))
      $0.writeLE(UInt64(44))
      $0.writeLE(UInt32(0xABCD))  // a field from the future
    }
    buffer.writeLE(UInt8(0x5A))  // the next message
    let decoded = try MonMessage(from: &buffer)
    XCTAssertEqual(decoded, .paxosAccept(PaxosAccept(epoch: 10, pn: 301, lastCommitted: 44)))
    XCTAssertEqual(buffer.readableBytes, 1)
  }

  func testSizesAreBounded() {
    var limits = MonDecodeLimits.default
    limits.maxValueBytes = 100
    var begin = MonMessage.paxosBegin(
      PaxosBegin(epoch: 1, pn: 100, lastCommitted: 0, value: Self.value)
    ).encoded()
    XCTAssertThrowsError(try MonMessage(from: &begin, limits: limits)) { error in
      guard case DecodeError.oversized = error else { return XCTFail("\(error)") }
    }
    limits = .default
    limits.maxEntries = 1
    var commit = MonMessage.paxosCommit(
      PaxosCommit(
        epoch: 1, pn: 100, lastCommitted: 2,
        values: [
          VersionedValue(version: 1, value: Self.value),
          VersionedValue(version: 2, value: Self.value),
        ])
    ).encoded()
    XCTAssertThrowsError(try MonMessage(from: &commit, limits: limits))
    // A count claiming more elements than bytes left is refused before allocating.
    var huge = ByteBufferAllocator().buffer(capacity: 64)
    huge.writeLE(MonMessage.Tag.paxosCommit.rawValue)
    huge.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(UInt64(1))
      $0.writeLE(UInt64(1))
      $0.writeLE(UInt64(1))
      $0.writeLE(UInt32(1000))
    }
    XCTAssertThrowsError(try MonMessage(from: &huge))
  }
}
