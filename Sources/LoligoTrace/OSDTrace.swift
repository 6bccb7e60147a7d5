import CLoligoTrace

/// The OSD op path's tracepoints (provider `loligo_osd`). Every event carries the reqid
/// (`client`, `tid`) so the export can join it with the client's and the messenger's events,
/// and, once the OSD knows it, the PG (`pool`, `seed`).
public enum OSDTrace {
  @inlinable
  public static func opReceive(osd: Int32, client: Int64, tid: UInt64, length: Int) {
    guard loligo_tp_on(loligo_tp_osd_op_receive_state) != 0 else { return }
    loligo_tp_osd_op_receive(osd, client, tid, UInt32(truncatingIfNeeded: length))
  }

  @inlinable
  public static func opQueue(osd: Int32, client: Int64, tid: UInt64, pool: Int64, seed: UInt32) {
    guard loligo_tp_on(loligo_tp_osd_op_queue_state) != 0 else { return }
    loligo_tp_osd_op_queue(osd, client, tid, pool, seed)
  }

  @inlinable
  public static func opStart(
    osd: Int32, client: Int64, tid: UInt64, pool: Int64, seed: UInt32, object: String,
    write: @autoclosure () -> Bool
  ) {
    guard loligo_tp_on(loligo_tp_osd_op_start_state) != 0 else { return }
    loligo_tp_osd_op_start(osd, client, tid, pool, seed, object, write() ? 1 : 0)
  }

  @inlinable
  public static func opReplicaSend(
    osd: Int32, client: Int64, tid: UInt64, pool: Int64, seed: UInt32, replica: Int32,
    version: UInt64
  ) {
    guard loligo_tp_on(loligo_tp_osd_op_replica_send_state) != 0 else { return }
    loligo_tp_osd_op_replica_send(osd, client, tid, pool, seed, replica, version)
  }

  @inlinable
  public static func opReplicaAck(
    osd: Int32, client: Int64, tid: UInt64, pool: Int64, seed: UInt32, replica: Int64,
    result: Int32
  ) {
    guard loligo_tp_on(loligo_tp_osd_op_replica_ack_state) != 0 else { return }
    loligo_tp_osd_op_replica_ack(
      osd, client, tid, pool, seed, Int32(truncatingIfNeeded: replica), result)
  }

  /// Whether a session records `op_replica_ack` (so the OSD looks up the op it acknowledges).
  @inlinable
  public static var isReplicaAckEnabled: Bool {
    loligo_tp_on(loligo_tp_osd_op_replica_ack_state) != 0
  }

  /// Whether a session records the store-commit or replica-start events (so the OSD keeps
  /// what they need per transaction).
  @inlinable
  public static var isStoreCommitEnabled: Bool {
    loligo_tp_on(loligo_tp_osd_op_store_commit_state) != 0
      || loligo_tp_on(loligo_tp_osd_repop_start_state) != 0
  }

  /// The store committed a write here: on the primary (`replica` false) or on a replica.
  @inlinable
  public static func opStoreCommit(
    osd: Int32, client: Int64, tid: UInt64, pool: Int64, seed: UInt32, version: UInt64,
    replica: Bool, result: @autoclosure () -> Int32
  ) {
    guard loligo_tp_on(loligo_tp_osd_op_store_commit_state) != 0 else { return }
    loligo_tp_osd_op_store_commit(
      osd, client, tid, pool, seed, version, replica ? 1 : 0, result())
  }

  @inlinable
  public static func repopStart(
    osd: Int32, client: Int64, tid: UInt64, pool: Int64, seed: UInt32, version: UInt64
  ) {
    guard loligo_tp_on(loligo_tp_osd_repop_start_state) != 0 else { return }
    loligo_tp_osd_repop_start(osd, client, tid, pool, seed, version)
  }

  @inlinable
  public static func opReply(osd: Int32, client: Int64, tid: UInt64, result: Int32) {
    guard loligo_tp_on(loligo_tp_osd_op_reply_state) != 0 else { return }
    loligo_tp_osd_op_reply(osd, client, tid, result)
  }
}
