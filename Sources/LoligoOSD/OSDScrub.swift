import Foundation
import LoligoCore
import LoligoMessenger
import LoligoPeering
import LoligoPlacement
import LoligoWire
import NIOCore

/// One copy of one object as a deep scrub sees it.
struct ScrubEntry: Equatable {
  var version: EVersion
  var size: UInt64
  var crc: UInt32
}

/// Primary ↔ member: "send me your scrub map of this PG" and the answer (Ceph's MOSDRepScrub
/// and MOSDRepScrubMap). Not the peering core's: reading every byte is the daemon's work.
struct ScrubMessage: Equatable {
  var id: UInt64
  var pgid: PGID
  /// nil: a request; else the answer (nil entries: the member does not hold the PG).
  var entries: [ObjectID: ScrubEntry]?
  var isRequest: Bool

  static let maxEntries = 1 << 20

  func message() -> Message {
    var front = ByteBuffer()
    front.writeVersioned(version: 1, compat: 1) { b in
      b.writeLE(id)
      b.writeLE(pgid.pool)
      b.writeLE(pgid.seed)
      b.writeBool(isRequest)
      b.writeBool(entries != nil)
      let sorted = (entries ?? [:]).sorted { $0.key < $1.key }
      b.writeArray(sorted) { b, item in
        b.writeCephString(item.key.name)
        b.writeCephString(item.key.namespace)
        item.value.version.encode(to: &b)
        b.writeLE(item.value.size)
        b.writeLE(item.value.crc)
      }
    }
    return Message(type: MessageType.osdScrub, front: front)
  }

  init(id: UInt64, pgid: PGID, entries: [ObjectID: ScrubEntry]?, isRequest: Bool) {
    self.id = id
    self.pgid = pgid
    self.entries = entries
    self.isRequest = isRequest
  }

  init(_ message: Message) throws {
    var front = message.front
    self = try front.readVersioned("scrub", supported: 1, limit: 256 << 20) { b, _ in
      let id: UInt64 = try b.readLE(UInt64.self, "scrub id")
      let pool: Int64 = try b.readLE(Int64.self, "pool")
      let seed: UInt32 = try b.readLE(UInt32.self, "seed")
      let isRequest = try b.readBool("is request")
      let has = try b.readBool("has entries")
      let items = try b.readArray(
        limit: Self.maxEntries, minimumElementSize: 8 + EVersion.encodedSize + 12, "entries"
      ) { b -> (ObjectID, ScrubEntry) in
        let name = try b.readCephString(limit: 4096, "name")
        let namespace = try b.readCephString(limit: 4096, "namespace")
        let version = try EVersion(from: &b)
        let size: UInt64 = try b.readLE(UInt64.self, "size")
        let crc: UInt32 = try b.readLE(UInt32.self, "crc")
        return (
          ObjectID(name, namespace: namespace), ScrubEntry(version: version, size: size, crc: crc)
        )
      }
      return ScrubMessage(
        id: id, pgid: PGID(pool: pool, seed: seed),
        entries: has ? Dictionary(items, uniquingKeysWith: { first, _ in first }) : nil,
        isRequest: isRequest)
    }
  }
}

/// A scrub the primary runs: the maps asked for and those that came back.
final class ScrubJob: @unchecked Sendable {  // confined to the OSD loop
  let id: UInt64
  let pgid: PGID
  let acting: [Int32]
  var maps: [Int32: [ObjectID: ScrubEntry]?] = [:]
  let promise: EventLoopPromise<OSDStatusBox>
  let repair: Bool

  init(
    id: UInt64, pgid: PGID, acting: [Int32], promise: EventLoopPromise<OSDStatusBox>,
    repair: Bool
  ) {
    self.id = id
    self.pgid = pgid
    self.acting = acting
    self.promise = promise
    self.repair = repair
  }
}

/// Deep scrub and repair (Ceph's `pg deep-scrub` and `pg repair`): the primary holds new
/// writes to the PG until nothing is in flight, reads every object of every acting copy
/// (version, size, crc32c of the data), compares, and for a repair has the peering core
/// recover each wrong copy from the version most copies agree on.
extension OSDDaemon {
  /// Runs on the loop; the answer is the scrub report.
  func deepScrub(_ pgid: PGID, repair: Bool) -> EventLoopFuture<OSDStatusBox> {
    let promise = loop.makePromise(of: OSDStatusBox.self)
    guard core.activeActing(pgid) != nil else {
      promise.succeed(
        OSDStatusBox(["pgid": "\(pgid)", "error": "osd.\(id) is not the active primary of \(pgid)"])
      )
      return promise.futureResult
    }
    scrubbing.insert(pgid)
    waitQuiet(pgid, deadline: .now() + .seconds(30)) { [weak self] quiet in
      guard let self else { return }
      guard quiet, let acting = self.core.activeActing(pgid) else {
        self.endScrub(pgid)
        promise.succeed(
          OSDStatusBox([
            "pgid": "\(pgid)",
            "error": "\(pgid) was not active+clean with nothing in flight within 30 s",
          ]))
        return
      }
      self.nextScrubID += 1
      let job = ScrubJob(
        id: self.nextScrubID, pgid: pgid, acting: acting, promise: promise, repair: repair)
      self.scrubJobs[job.id] = job
      job.maps[self.id] = .some(self.scrubMap(pgid))
      for osd in acting where osd != self.id {
        self.peer(osd)?.send(
          ScrubMessage(id: job.id, pgid: pgid, entries: nil, isRequest: true).message())
      }
      self.loop.scheduleTask(in: .seconds(60)) {
        guard self.scrubJobs.removeValue(forKey: job.id) != nil else { return }
        self.endScrub(pgid)
        job.promise.succeed(
          OSDStatusBox(["pgid": "\(pgid)", "error": "no scrub map from every member"]))
      }
      self.finishScrubIfComplete(job)
    }
    return promise.futureResult
  }

  /// Calls back once the core reports the PG quiet (or the deadline passes).
  func waitQuiet(
    _ pgid: PGID, deadline: NIODeadline, _ done: @escaping @Sendable (Bool) -> Void
  ) {
    if core.isQuiet(pgid) { return done(true) }
    if NIODeadline.now() > deadline { return done(false) }
    loop.scheduleTask(in: .milliseconds(10)) { [weak self] in
      self?.waitQuiet(pgid, deadline: deadline, done)
    }
  }

  func endScrub(_ pgid: PGID) {
    scrubbing.remove(pgid)
    let held = scrubHeld.removeValue(forKey: pgid) ?? []
    for message in held { handleClientOp(message) }
  }

  /// This OSD's copy of every object of the PG.
  func scrubMap(_ pgid: PGID) -> [ObjectID: ScrubEntry]? {
    guard store.collectionExists(pgid) else { return nil }
    let reader = ObjectStorePGReader(store: store, limits: .default)
    var entries: [ObjectID: ScrubEntry] = [:]
    for object in reader.list(pgid, after: nil, limit: Int.max) {
      // A copy that fails the store's checks is left out (it shows as absent); a checked read
      // comes with its crc, folded from the block crcs it verified.
      guard let (data, known) = try? store.readWithCRC(pgid, object, offset: 0, length: nil)
      else { continue }
      entries[object] = ScrubEntry(
        version: reader.objectVersion(pgid, object) ?? .zero, size: UInt64(data.readableBytes),
        crc: known ?? CRC32C.checksum(data, seed: 0xFFFF_FFFF))
    }
    return entries
  }

  func handleScrubMessage(_ message: Message) {
    guard let source = message.source, source.type == .osd, let osd = Int32(exactly: source.num),
      let scrub = try? ScrubMessage(message)
    else { return }
    if scrub.isRequest {
      message.connection?.send(
        ScrubMessage(
          id: scrub.id, pgid: scrub.pgid, entries: scrubMap(scrub.pgid), isRequest: false
        )
        .message())
      return
    }
    guard let job = scrubJobs[scrub.id], job.acting.contains(osd), job.maps[osd] == nil else {
      return
    }
    job.maps[osd] = .some(scrub.entries)
    finishScrubIfComplete(job)
  }

  func finishScrubIfComplete(_ job: ScrubJob) {
    guard job.acting.allSatisfy({ job.maps[$0] != nil }) else { return }
    scrubJobs[job.id] = nil
    let (report, bad) = Self.compare(job)
    guard job.repair, !bad.isEmpty else {
      endScrub(job.pgid)
      job.promise.succeed(OSDStatusBox(report))
      return
    }
    let before = OSDStatusBox(report["inconsistent_objects"] ?? [])
    // Repair: the core recovers the wrong copies; then scrub again to show the result.
    feed(.repair(job.pgid, bad))
    endScrub(job.pgid)
    let repaired = bad.values.reduce(0) { $0 + $1.count }
    waitQuiet(job.pgid, deadline: .now() + .seconds(60)) { [weak self] _ in
      guard let self else { return }
      self.deepScrub(job.pgid, repair: false).whenSuccess { after in
        var result = after.value as? [String: Any] ?? [:]
        result["repaired_copies"] = repaired
        result["inconsistent_before"] = before.value
        job.promise.succeed(OSDStatusBox(result))
      }
    }
  }

  /// Copies that disagree, and for each wrong copy the OSD that holds it. The right one is the
  /// (version, size, crc) most copies share, the primary's on a tie.
  static func compare(_ job: ScrubJob) -> (report: [String: Any], bad: [Int32: [ObjectID]]) {
    var objects = Set<ObjectID>()
    for map in job.maps.values { objects.formUnion((map ?? [:]).keys) }
    var inconsistent: [[String: Any]] = []
    var bad: [Int32: [ObjectID]] = [:]
    let primary = job.acting.first ?? -1
    for object in objects.sorted() {
      var copies: [Int32: ScrubEntry?] = [:]
      for osd in job.acting { copies[osd] = .some((job.maps[osd] ?? nil)?[object]) }
      let distinct = Set(
        copies.values.map { $0.map { "\($0.version) \($0.size) \($0.crc)" } ?? "absent" })
      guard distinct.count > 1 else { continue }
      var votes: [String: Int] = [:]
      for copy in copies.values {
        votes[copy.map { "\($0.version) \($0.size) \($0.crc)" } ?? "absent", default: 0] += 1
      }
      let primaryKey =
        (copies[primary] ?? nil).map { "\($0.version) \($0.size) \($0.crc)" } ?? "absent"
      let best = votes.max { a, b in
        (a.value, a.key == primaryKey ? 1 : 0) < (b.value, b.key == primaryKey ? 1 : 0)
      }!.key
      var described: [String: String] = [:]
      for (osd, copy) in copies {
        let key = copy.map { "\($0.version) \($0.size) \($0.crc)" } ?? "absent"
        described["osd.\(osd)"] =
          copy.map { "version \($0.version) size \($0.size) crc32c \(String($0.crc, radix: 16))" }
          ?? "absent"
        if key != best { bad[osd, default: []].append(object) }
      }
      inconsistent.append(["object": "\(object)", "copies": described, "authoritative": best])
    }
    let report: [String: Any] = [
      "pgid": "\(job.pgid)", "acting": job.acting.map { Int($0) }, "objects": objects.count,
      "inconsistent_objects": inconsistent,
      "missing_maps": job.acting.filter { (job.maps[$0] ?? nil) == nil }.map { Int($0) },
    ]
    return (report, bad)
  }
}
