import CLoligoTrace

/// The messenger's tracepoints (LTTng-UST provider `loligo_msgr`). Each call tests the
/// tracepoint's enabled flag first and is inlined into the caller, so with no recording session
/// it costs a load and a branch; arguments are converted only when an event is recorded.
///
/// `conn` is the session's id within its process. `send` and `dispatch` name a message fully:
/// `my*`/`peer*` are the entity type (the `EntityType` raw value) and number at each end, which
/// with the type and tid joins the sender's and the receiver's view of one message. `encode`
/// and `decode` only mark a stage of a message known by its seq.
public enum MsgrTrace {
  /// Whether a session records `loligo_msgr:write` (what `loligo trace cost` measures).
  public static var isWriteEnabled: Bool { loligo_tp_on(loligo_tp_msgr_write_state) != 0 }

  @inlinable
  public static func sessionReady(
    conn: UInt64, initiator: Bool, myType: UInt8, myNum: Int64, peerType: UInt8, peerNum: Int64,
    lossy: Bool, peerAddress: @autoclosure () -> String
  ) {
    guard loligo_tp_on(loligo_tp_msgr_session_ready_state) != 0 else { return }
    loligo_tp_msgr_session_ready(
      conn, initiator ? 1 : 0, myType, myNum, peerType, peerNum, lossy ? 1 : 0, peerAddress())
  }

  /// The session took the message and gave it `seq`.
  @inlinable
  public static func send(
    conn: UInt64, seq: UInt64, type: UInt16, tid: UInt64, length: Int, myType: UInt8,
    myNum: Int64, peerType: UInt8, peerNum: Int64
  ) {
    guard loligo_tp_on(loligo_tp_msgr_send_state) != 0 else { return }
    loligo_tp_msgr_send(
      conn, seq, type, tid, UInt32(truncatingIfNeeded: length), myType, myNum, peerType, peerNum)
  }

  @inlinable
  public static func encode(conn: UInt64, seq: UInt64) {
    guard loligo_tp_on(loligo_tp_msgr_encode_state) != 0 else { return }
    loligo_tp_msgr_encode(conn, seq)
  }

  /// Queued frames are being flushed to the socket; `seq` is the session's last message.
  @inlinable
  public static func write(conn: UInt64, seq: UInt64) {
    guard loligo_tp_on(loligo_tp_msgr_write_state) != 0 else { return }
    loligo_tp_msgr_write(conn, seq)
  }

  @inlinable
  public static func read(conn: UInt64, bytes: Int) {
    guard loligo_tp_on(loligo_tp_msgr_read_state) != 0 else { return }
    loligo_tp_msgr_read(conn, UInt32(truncatingIfNeeded: bytes))
  }

  @inlinable
  public static func decode(conn: UInt64, seq: UInt64, type: UInt16, length: Int) {
    guard loligo_tp_on(loligo_tp_msgr_decode_state) != 0 else { return }
    loligo_tp_msgr_decode(conn, seq, type, UInt32(truncatingIfNeeded: length))
  }

  @inlinable
  public static func dispatch(
    conn: UInt64, seq: UInt64, type: UInt16, tid: UInt64, length: Int, myType: UInt8,
    myNum: Int64, peerType: UInt8, peerNum: Int64
  ) {
    guard loligo_tp_on(loligo_tp_msgr_dispatch_state) != 0 else { return }
    loligo_tp_msgr_dispatch(
      conn, seq, type, tid, UInt32(truncatingIfNeeded: length), myType, myNum, peerType, peerNum)
  }
}
