import LoligoTrace

/// The messages one socket read delivered, collected while a session records
/// `loligo_msgr:received` and fired as one event when the read is done: one event per read
/// instead of one per message (a busy session dispatches tens of messages per read).
struct ReceivedTraceBatch {
  /// Entries per event at most, so one event stays well inside a trace sub-buffer.
  static let limit = 1024

  var firstSeq: UInt64 = 0
  var types: [UInt16] = []
  var tids: [UInt64] = []
  var lengths: [UInt32] = []

  var isEmpty: Bool { types.isEmpty }

  /// Whether a message with `seq` continues this batch (events name consecutive seqs).
  func continues(with seq: UInt64) -> Bool {
    isEmpty || (seq == firstSeq &+ UInt64(types.count) && types.count < Self.limit)
  }

  mutating func append(seq: UInt64, type: UInt16, tid: UInt64, length: Int) {
    if isEmpty { firstSeq = seq }
    types.append(type)
    tids.append(tid)
    lengths.append(UInt32(truncatingIfNeeded: length))
  }

  mutating func removeAll() {
    types.removeAll(keepingCapacity: true)
    tids.removeAll(keepingCapacity: true)
    lengths.removeAll(keepingCapacity: true)
  }
}

extension Connection {
  /// Adds a dispatched message to this read's `received` event.
  func noteReceived(seq: UInt64, type: UInt16, tid: UInt64, length: Int) {
    if !receivedTrace.continues(with: seq) { traceReceived() }
    receivedTrace.append(seq: seq, type: type, tid: tid, length: length)
  }

  /// Fires `loligo_msgr:received` for the messages collected so far.
  func traceReceived() {
    guard !receivedTrace.isEmpty else { return }
    MsgrTrace.received(
      conn: id, firstSeq: receivedTrace.firstSeq, types: receivedTrace.types,
      tids: receivedTrace.tids, lengths: receivedTrace.lengths,
      myType: messenger.name.type.rawValue, myNum: messenger.name.num,
      peerType: peerType?.rawValue ?? 0, peerNum: peerGID)
    receivedTrace.removeAll()
  }
}
