import LoligoMessages
import LoligoMessenger
import LoligoPlacement
import NIOCore

/// One placement group on this OSD: who serves it (acting set and primary, from the current
/// map), its log version, and on the primary the writes still waiting for replicas and the
/// recent results that make resent requests harmless.
final class PG: @unchecked Sendable {  // confined to the OSD loop
  let id: PGID
  var acting: [Int32] = []
  var primary: Int32 = -1
  /// Version of the last write applied here (`(epoch, v)` in Ceph; the epoch is in the op).
  var logVersion: UInt64 = 0
  /// Writes in flight on the primary, by log version.
  var inFlight: [UInt64: InFlightWrite] = [:]
  /// Requests being processed, by (client, tid), so a resend waits for the first answer.
  var inProgress: [RequestID: UInt64] = [:]
  /// Answers of recent requests, by (client, tid): a resend gets the same answer, nothing is
  /// applied twice. Bounded to `recentLimit` entries, oldest dropped first.
  var recent: [RequestID: CachedReply] = [:]
  var recentOrder: [RequestID] = []
  var recentHead = 0
  static let recentLimit = 4096

  init(id: PGID) { self.id = id }

  func remember(_ request: RequestID, _ reply: CachedReply) {
    if recent.updateValue(reply, forKey: request) == nil { recentOrder.append(request) }
    while recentOrder.count - recentHead > PG.recentLimit {
      recent[recentOrder[recentHead]] = nil
      recentHead += 1
    }
    if recentHead > PG.recentLimit {
      recentOrder.removeFirst(recentHead)
      recentHead = 0
    }
  }
}

/// A client request's identity: the client's entity number and its tid.
struct RequestID: Hashable {
  let client: Int64
  let tid: UInt64
}

struct CachedReply {
  let result: Int32
  let operations: [OSDOpReply.OperationResult]
}

/// A write the primary has applied (or is applying) locally and sent to its replicas.
final class InFlightWrite: @unchecked Sendable {  // confined to the OSD loop
  let request: RequestID
  let version: UInt64
  let operations: [OSDOpReply.OperationResult]
  var waiting: [Connection] = []
  var tids: [UInt64] = []
  var localDone = false
  var pendingReplicas: Set<Int32>
  let started: UInt64
  let bytes: Int

  init(
    request: RequestID, version: UInt64, operations: [OSDOpReply.OperationResult],
    replicas: Set<Int32>, started: UInt64, bytes: Int
  ) {
    self.request = request
    self.version = version
    self.operations = operations
    self.pendingReplicas = replicas
    self.started = started
    self.bytes = bytes
  }
}
