import LoligoPlacement

@testable import LoligoPeering

/// The safety properties, checked as the simulation runs:
/// - a read returns the newest acknowledged value of its object at the time it was issued, or
///   the value of a write issued after that (in flight), never an older one, and "absent" only
///   when that is what the newest acknowledged change or one in flight left;
/// - when a primary activates a PG, its copy (with what it knows to be missing) accounts for
///   every write acknowledged before, so no PG goes active with a set that may miss one;
/// - at the end, every object holds its last acknowledged value, or that of a later write
///   refused (ENOSPC) only after it was logged (`PeeringSim.finalCheck`).
struct PeeringChecker {
  struct Write {
    var value: UInt64?  // nil: a delete
    var reqid: RequestID
    var acked = false
    var version: EVersion?
    /// Answered ENOSPC after it was logged: it may still take effect (as an answer lost).
    var mayApply = false
  }

  private(set) var violations: [String] = []
  /// Each object's writes in issue order (one writer per object, one write at a time).
  private(set) var history: [ObjectID: [Write]] = [:]
  /// Index of the newest acknowledged write per object.
  private(set) var lastAcked: [ObjectID: Int] = [:]
  private var byReqid: [RequestID: (object: ObjectID, index: Int)] = [:]
  /// For reads in progress: the newest acknowledged write when issued.
  private var readFloor: [RequestID: Int] = [:]
  private var counters: [Int: UInt64] = [:]
  private var checkedActivations: Set<String> = []
  private(set) var reads = 0
  private(set) var acks = 0
  /// Writes refused with ENOSPC.
  private(set) var refused = 0
  /// Of those, the ones refused after they were logged (they may still take effect).
  private(set) var refusedLogged = 0
  private(set) var activations = 0

  mutating func fail(_ message: String) { violations.append(message) }

  mutating func nextValue(_ client: Int) -> UInt64 {
    counters[client, default: 0] += 1
    return (UInt64(client + 1) << 32) | counters[client]!
  }

  mutating func issued(_ request: PeeringSim.ClientRequest, sim: PeeringSim) {
    switch request.kind {
    case .read:
      readFloor[request.reqid] = lastAcked[request.object] ?? -1
    case .write(let value):
      history[request.object, default: []].append(Write(value: value, reqid: request.reqid))
      byReqid[request.reqid] = (request.object, history[request.object]!.count - 1)
    case .delete:
      history[request.object, default: []].append(Write(value: nil, reqid: request.reqid))
      byReqid[request.reqid] = (request.object, history[request.object]!.count - 1)
    }
  }

  /// The primary answered a write: note which version the log gave it.
  mutating func acked(_ request: PeeringSim.ClientRequest, by osd: PeeringSim.OSD, sim: PeeringSim)
  {
    guard let (object, index) = byReqid[request.reqid] else { return }
    if history[object]![index].version == nil,
      let pgid = try? sim.map(for: osd).pg(
        forObject: object.name, locator: ObjectLocator(pool: sim.pool)),
      let version = osd.core?.pgs[pgid]?.log.version(of: request.reqid)
    {
      history[object]![index].version = version
      // Acknowledged means stored: some running OSD holds a readable copy at this version or
      // a later one (a logged write whose only copies are gone or damaged is not stored).
      if request.kind != .delete,
        !sim.osds.contains(where: { other in
          guard other.running, let copy = other.disk.pgs[pgid]?.objects[object] else {
            return false
          }
          return !copy.corrupt && copy.version >= version
        })
      {
        fail("write \(request.reqid) to \(object) at \(version) acknowledged with no readable copy")
      }
    }
  }

  mutating func readServed(_ request: PeeringSim.ClientRequest, sim: PeeringSim) {}

  mutating func completed(
    _ request: PeeringSim.ClientRequest, _ result: PeeringSim.ClientResult, sim: PeeringSim
  ) {
    switch (request.kind, result) {
    case (.read, .read(let value)):
      reads += 1
      let floor = readFloor.removeValue(forKey: request.reqid) ?? -1
      let writes = history[request.object] ?? []
      let allowed: Bool
      if let value {
        allowed = writes.indices.contains { $0 >= floor && writes[$0].value == value }
      } else {
        allowed = floor == -1 || writes.indices.contains { $0 >= floor && writes[$0].value == nil }
      }
      if !allowed {
        let expected =
          floor >= 0 ? writes[floor].value.map { "\($0)" } ?? "absent" : "never written"
        fail(
          "read of \(request.object) returned \(value.map { "\($0)" } ?? "absent"); newest acknowledged when issued: \(expected)"
        )
      }
    case (.write, .written(let code)), (.delete, .written(let code)):
      guard let (object, index) = byReqid[request.reqid] else { return }
      let isDelete = request.kind == .delete
      if code == -28, !isDelete {
        refused += 1
        return
      }
      guard code == 0 || (isDelete && code == -2) else {
        fail("write \(request.reqid) to \(object) failed with \(code)")
        return
      }
      if !history[object]![index].acked {
        history[object]![index].acked = true
        acks += 1
        lastAcked[object] = max(lastAcked[object] ?? -1, index)
      }
    default:
      fail("unexpected answer \(result) to \(request.kind)")
    }
  }

  /// The value the object must hold after everything acknowledged (nil: absent).
  func expectedValue(_ object: ObjectID) -> UInt64? {
    guard let index = lastAcked[object] else { return nil }
    return history[object]![index].value
  }

  /// The values the object may hold at the end: its last acknowledged one, or that of a
  /// later write refused after it was logged.
  func allowedValues(_ object: ObjectID) -> [UInt64?] {
    let writes = history[object] ?? []
    let from = (lastAcked[object] ?? -1) + 1
    return [expectedValue(object)]
      + writes[min(from, writes.count)...].filter(\.mayApply).map(\.value)
  }

  /// The primary refused `request` with ENOSPC after logging it.
  mutating func refusedAfterLogging(_ request: PeeringSim.ClientRequest) {
    guard let (object, index) = byReqid[request.reqid] else { return }
    history[object]![index].mayApply = true
    refusedLogged += 1
  }

  func objects(in pgid: PGID, sim: PeeringSim) -> [ObjectID] {
    sim.clients.flatMap(\.objects).filter {
      (try? sim.map.pg(forObject: $0.name, locator: ObjectLocator(pool: sim.pool))) == pgid
    }
  }

  /// After each step of an OSD: a PG it just activated as primary must account for every
  /// acknowledged write.
  mutating func observe(osd: PeeringSim.OSD, sim: PeeringSim) {
    guard let core = osd.core else { return }
    for (pgid, pg) in core.pgs where pg.phase == .active && pg.primary == osd.id {
      let key = "\(osd.id)/\(osd.incarnation)/\(pgid)/\(pg.interval)"
      guard !checkedActivations.contains(key) else { continue }
      checkedActivations.insert(key)
      activations += 1
      for object in objects(in: pgid, sim: sim) {
        guard let index = lastAcked[object], let version = history[object]![index].version else {
          continue
        }
        let isDelete = history[object]![index].value == nil
        let effective: EVersion?
        if let need = pg.missing.need(object) {
          effective = need.isZero ? nil : need
        } else if let pending = pg.uncommitted[object] {
          effective = pending.version
        } else {
          effective = osd.disk.pgs[pgid]?.objects[object]?.version
        }
        // A delete issued after it (in flight, or acknowledged with the answer lost) may
        // have removed the object since.
        let newerDelete = history[object]![(index + 1)...].contains { $0.value == nil }
        let ok: Bool
        if isDelete {
          ok = effective == nil || effective! > version
        } else {
          ok = (effective.map { $0 >= version } ?? false) || (effective == nil && newerDelete)
        }
        if !ok {
          fail(
            "osd.\(osd.id) activated \(pgid) (interval \(pg.interval), acting \(pg.acting)) with \(object) at \(effective.map { "\($0)" } ?? "absent"), but \(isDelete ? "a delete" : "a write") at \(version) was acknowledged"
          )
        }
      }
    }
  }
}
