/// A sync this monitor serves (Ceph's sync provider). A full sync streams a snapshot of the
/// store so the copy is consistent however long it takes, then the versions committed since.
struct SyncProvider {
  var requester: Int
  var cookie: UInt64
  var full: Bool
  var snapshot: (any MonStoreReader)?
  var snapshotFirstCommitted: UInt64 = 0
  var snapshotLastCommitted: UInt64 = 0
  /// Position in the snapshot: index into the prefixes copied, and the last key sent there.
  var prefixIndex = 0
  var lastKey: String?
  var snapshotDone: Bool
  /// Next committed version to send after the snapshot (or from the requester's own).
  var nextVersion: UInt64
  var lastChunk: SyncChunk?
  var expiresAt: UInt64
}
