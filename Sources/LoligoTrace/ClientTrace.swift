import CLoligoTrace

/// The Objecter's tracepoints (provider `loligo_client`). `client` and `tid` form the op's
/// reqid, the key the OSD events carry too.
public enum ClientTrace {
  @inlinable
  public static func opSubmit(
    client: Int64, tid: UInt64, pool: Int64, object: String, length: Int, ops: Int,
    write: @autoclosure () -> Bool
  ) {
    guard loligo_tp_on(loligo_tp_client_op_submit_state) != 0 else { return }
    loligo_tp_client_op_submit(
      client, tid, pool, object, UInt32(truncatingIfNeeded: length),
      UInt16(truncatingIfNeeded: ops), write() ? 1 : 0)
  }

  @inlinable
  public static func opSend(
    client: Int64, tid: UInt64, osd: Int32, pool: Int64, seed: UInt32, attempt: UInt32
  ) {
    guard loligo_tp_on(loligo_tp_client_op_send_state) != 0 else { return }
    loligo_tp_client_op_send(client, tid, osd, pool, seed, attempt)
  }

  @inlinable
  public static func opReply(client: Int64, tid: UInt64, osd: Int64, result: Int32) {
    guard loligo_tp_on(loligo_tp_client_op_reply_state) != 0 else { return }
    loligo_tp_client_op_reply(client, tid, Int32(truncatingIfNeeded: osd), result)
  }

  @inlinable
  public static func opComplete(client: Int64, tid: UInt64, result: @autoclosure () -> Int32) {
    guard loligo_tp_on(loligo_tp_client_op_complete_state) != 0 else { return }
    loligo_tp_client_op_complete(client, tid, result())
  }
}
