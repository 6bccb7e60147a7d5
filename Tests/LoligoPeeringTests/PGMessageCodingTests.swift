import LoligoCore
import LoligoPlacement
import NIOCore
import XCTest

@testable import LoligoPeering

/// PG messages come from other OSDs: every kind round-trips, every truncation and random
/// corruption is refused or decodes to something well-formed, and absurd counts allocate
/// nothing.
final class PGMessageCodingTests: XCTestCase {
  static let pgid = PGID(pool: 3, seed: 0x2a)

  static func samples() -> [PGMessage] {
    let object = ObjectID("benchmark_data_host_1_object7", namespace: "ns")
    let entry = PGLogEntry(
      kind: .modify, object: object, version: EVersion(epoch: 9, version: 41),
      priorVersion: EVersion(epoch: 7, version: 30), reqid: RequestID(client: 4100, tid: 77))
    var info = PGInfo(pgid: pgid, epochCreated: 2)
    info.lastUpdate = entry.version
    info.lastComplete = entry.version
    info.logTail = EVersion(epoch: 3, version: 2)
    info.lastEpochStarted = 9
    info.lastEpochClean = 8
    info.lastBackfill = .upTo(object)
    var missing = MissingSet()
    missing.add(object, need: entry.version)
    missing.add(ObjectID("gone"), need: .zero)
    var data = ByteBuffer()
    data.writeString("payload bytes")
    let mutation = PGMutation(
      body: ByteBuffer(bytes: [1, 2, 3]), data: data, dataCRC: 0xdead_beef, deletes: false)
    let snapshot = ObjectSnapshot(version: entry.version, body: data)
    let bodies: [PGMessage.Body] = [
      .query,
      .notify(PGNotify(info: info, log: [entry], missing: missing)),
      .notify(PGNotify(info: nil, log: [], missing: MissingSet())),
      .ordered(seq: 1, .activate(PGActivate(info: info, log: [entry], missing: missing))),
      .ordered(seq: 2, .repOp(entry: entry, mutation: mutation, trimTo: info.logTail)),
      .ordered(seq: 3, .repOp(entry: entry, mutation: nil, trimTo: info.logTail)),
      .ordered(seq: 4, .push(object, snapshot, backfill: true)),
      .ordered(seq: 5, .push(object, nil, backfill: false)),
      .ordered(seq: 6, .backfillProgress(.complete)),
      .ordered(seq: 7, .backfillProgress(.none)),
      .ordered(seq: 8, .clean(11)),
      .applied(seq: 8, .clean(11)),
      .applied(seq: 2, .activated),
      .applied(seq: 3, .repOp(entry.version, result: -5)),
      .applied(seq: 4, .pushed(object)),
      .applied(seq: 5, .backfillProgress(.upTo(object))),
      .pull(object),
      .pulled(object, .present(snapshot)),
      .pulled(object, .unreadable),
      .pulled(object, .absent),
      .reserve, .reserveGranted, .reserveRejected, .reserveRelease, .purge,
    ]
    return bodies.map { PGMessage(pgid: pgid, epoch: 12, interval: 9, body: $0) }
  }

  func encode(_ message: PGMessage) -> (front: ByteBuffer, data: ByteBuffer) {
    var front = ByteBuffer()
    let data = message.encode(into: &front)
    return (front, data)
  }

  func testEveryKindRoundTrips() throws {
    for message in Self.samples() {
      var (front, data) = encode(message)
      XCTAssertEqual(try PGMessage(front: &front, data: data), message, "\(message.body)")
    }
  }

  func testEveryTruncationOfTheFrontThrows() {
    for message in Self.samples() {
      let (front, data) = encode(message)
      for length in 0..<front.readableBytes {
        var cut = front.getSlice(at: front.readerIndex, length: length)!
        XCTAssertThrowsError(try PGMessage(front: &cut, data: data), "\(message.body) at \(length)")
      }
    }
  }

  func testATruncatedDataSegmentThrows() {
    for message in Self.samples() {
      let (front, data) = encode(message)
      guard data.readableBytes > 0 else { continue }
      var copy = front
      let cut = data.getSlice(at: data.readerIndex, length: data.readableBytes - 1)!
      XCTAssertThrowsError(try PGMessage(front: &copy, data: cut), "\(message.body)")
    }
  }

  /// Random byte flips, random bytes and huge counts: never a trap, never a large allocation
  /// (counts are checked against the bytes left before anything is reserved).
  func testMutatedAndRandomFrontsDoNotTrap() {
    var random = SimRandom(seed: 42)
    for message in Self.samples() {
      let (front, data) = encode(message)
      for _ in 0..<300 {
        var bytes = Array(front.readableBytesView)
        for _ in 0..<random.int(1..<4) {
          let at = random.int(0..<bytes.count)
          bytes[at] = random.chance(0.3) ? 0xff : UInt8(truncatingIfNeeded: random.next())
        }
        var mutated = ByteBuffer(bytes: bytes)
        _ = try? PGMessage(front: &mutated, data: data)
      }
    }
    for _ in 0..<2000 {
      let count = random.int(0..<200)
      var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      if count > 6 {
        bytes[0] = 1
        bytes[1] = 1
      }  // a plausible header, to get further in
      var buffer = ByteBuffer(bytes: bytes)
      _ = try? PGMessage(front: &buffer, data: ByteBuffer())
    }
  }

  func testAbsurdCountsAndIntervalsAreRefused() throws {
    // A notify claiming 2^32-1 log entries in a few bytes.
    var front = ByteBuffer()
    front.writeVersioned(version: 1, compat: 1) { b in
      b.writeLE(Int64(1))
      b.writeLE(UInt32(0))
      b.writeLE(UInt32(5))
      b.writeLE(UInt32(5))
      b.writeLE(UInt8(2))
      b.writeBool(false)
      b.writeLE(UInt32.max)
    }
    XCTAssertThrowsError(try PGMessage(front: &front, data: ByteBuffer()))
    // An interval after the sender's epoch.
    var later = ByteBuffer()
    _ = PGMessage(pgid: Self.pgid, epoch: 4, interval: 9, body: .query).encode(into: &later)
    XCTAssertThrowsError(try PGMessage(front: &later, data: ByteBuffer()))
    // A log out of order.
    let object = ObjectID("o")
    let a = PGLogEntry(
      kind: .modify, object: object, version: EVersion(epoch: 5, version: 2), priorVersion: .zero,
      reqid: RequestID(client: 1, tid: 1))
    var b = a
    b.version = EVersion(epoch: 5, version: 1)
    var disordered = ByteBuffer()
    _ = PGMessage(
      pgid: Self.pgid, epoch: 9, interval: 9,
      body: .notify(PGNotify(info: nil, log: [a, b], missing: MissingSet()))
    ).encode(into: &disordered)
    XCTAssertThrowsError(try PGMessage(front: &disordered, data: ByteBuffer()))
  }
}

/// The log's bookkeeping: appends, trims, rewinds and the request index.
final class PGLogTests: XCTestCase {
  func entry(_ version: UInt64, _ object: String = "o", epoch: UInt32 = 5) -> PGLogEntry {
    PGLogEntry(
      kind: .modify, object: ObjectID(object), version: EVersion(epoch: epoch, version: version),
      priorVersion: .zero, reqid: RequestID(client: 1, tid: version))
  }

  func testSortKeysSortAsVersionsDo() {
    XCTAssertEqual(EVersion(epoch: 12, version: 345).sortKey, "0000000012.00000000000000000345")
    XCTAssertEqual(
      EVersion(epoch: .max, version: .max).sortKey, "4294967295.18446744073709551615")
    var random = SimRandom(seed: 7)
    for _ in 0..<2000 {
      let a = EVersion(
        epoch: UInt32(truncatingIfNeeded: random.next() % 1000), version: random.next() % 100_000)
      let b = EVersion(
        epoch: UInt32(truncatingIfNeeded: random.next() % 1000), version: random.next() % 100_000)
      XCTAssertEqual(a < b, a.sortKey < b.sortKey, "\(a) \(b)")
    }
  }

  func testTrimRewindAndRequests() {
    var log = PGLog()
    for v in 1...200 { log.append(entry(UInt64(v))) }
    XCTAssertEqual(log.count, 200)
    XCTAssertEqual(log.head, EVersion(epoch: 5, version: 200))
    let trimmed = log.trim(keeping: 50)
    XCTAssertEqual(trimmed.count, 150)
    XCTAssertEqual(log.tail, EVersion(epoch: 5, version: 150))
    XCTAssertNil(log.version(of: RequestID(client: 1, tid: 100)), "trimmed requests are gone")
    XCTAssertEqual(
      log.version(of: RequestID(client: 1, tid: 180)), EVersion(epoch: 5, version: 180))
    XCTAssertTrue(log.contains(EVersion(epoch: 5, version: 151)))
    XCTAssertFalse(log.contains(EVersion(epoch: 5, version: 150)))
    XCTAssertEqual(
      log.entries(after: EVersion(epoch: 5, version: 195)).map(\.version.version),
      [196, 197, 198, 199, 200])
    let rewound = log.rewind(to: EVersion(epoch: 5, version: 190))
    XCTAssertEqual(rewound.count, 10)
    XCTAssertEqual(log.head, EVersion(epoch: 5, version: 190))
    XCTAssertNil(log.version(of: RequestID(client: 1, tid: 195)))
    log.append(entry(191, epoch: 7))
    XCTAssertEqual(log.head, EVersion(epoch: 7, version: 191))
    XCTAssertEqual(log, PGLog(tail: log.tail, entries: Array(log.entries)))
  }

  /// The divergent part of a log (entries the authority lacks) is found and undone: the object
  /// goes back to its version before the oldest divergent change, or away if it was created.
  func testClassifyFindsDivergenceAndMissing() {
    let shared = (1...5).map { entry(UInt64($0), "o\($0)") }
    var authority = PGLog(entries: shared)
    authority.append(entry(6, "a", epoch: 8))
    var divergentCreate = entry(6, "new", epoch: 6)
    divergentCreate.priorVersion = .zero
    var divergentWrite = entry(7, "o2", epoch: 6)
    divergentWrite.priorVersion = EVersion(epoch: 5, version: 2)
    var info = PGInfo(pgid: PGID(pool: 1, seed: 0))
    info.lastUpdate = divergentWrite.version
    info.lastEpochStarted = 6
    var report = PeerReport(
      notify: PGNotify(
        info: info, log: shared + [divergentCreate, divergentWrite], missing: MissingSet()))
    PGState.classify(&report, against: authority)
    XCTAssertTrue(report.logRecoverable)
    XCTAssertEqual(report.missing.need(ObjectID("new")), .zero, "a divergent create is undone")
    XCTAssertEqual(report.missing.need(ObjectID("o2")), EVersion(epoch: 5, version: 2))
    XCTAssertEqual(report.missing.need(ObjectID("a")), EVersion(epoch: 8, version: 6))
    XCTAssertNil(report.missing.need(ObjectID("o1")))
    // A copy older than the authority's tail needs a backfill.
    var trimmed = authority
    trimmed.trim(to: EVersion(epoch: 5, version: 3))
    var old = PGInfo(pgid: PGID(pool: 1, seed: 0))
    old.lastUpdate = EVersion(epoch: 5, version: 2)
    var stale = PeerReport(
      notify: PGNotify(info: old, log: Array(shared.prefix(2)), missing: MissingSet()))
    PGState.classify(&stale, against: trimmed)
    XCTAssertFalse(stale.logRecoverable)
  }
}
