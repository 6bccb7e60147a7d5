/// State of a monitor copying committed state from a peer before it joins (Ceph's sync
/// requester). One chunk is in flight at a time; a lost request or chunk is asked for again.
struct SyncRequester: Equatable {
  var provider: Int
  var cookie: UInt64
  var full: Bool
  /// Our last_committed when the sync started (a recent sync continues after it).
  var startLastCommitted: UInt64
  /// The chunk we are waiting for.
  var seq: UInt64 = 0
  /// Full sync: the store was cleared (first chunk arrived).
  var wiped = false
  /// Full sync: the snapshot part is in; later chunks carry committed versions.
  var snapshotApplied = false
  var snapshotFirstCommitted: UInt64 = 0
  var snapshotLastCommitted: UInt64 = 0
  var retryAt: UInt64
  var giveUpAt: UInt64

  var nextDeadline: UInt64? { min(retryAt, giveUpAt) }

  var request: MonMessage {
    seq == 0
      ? .syncStart(SyncStart(cookie: cookie, full: full, lastCommitted: startLastCommitted))
      : .syncGetChunk(SyncGetChunk(cookie: cookie, seq: seq))
  }
}
