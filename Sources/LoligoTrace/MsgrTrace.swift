import CLoligoTrace

/// The messenger's tracepoints (LTTng-UST provider `loligo_msgr`). Each call tests the
/// tracepoint's enabled flag first and is inlined into the caller, so with no recording session
/// it costs a load and a branch; arguments are converted only when an event is recorded.
///
/// `conn` is the session's id within its process; `my*`/`peer*` are the entity type (the
/// `EntityType` raw value) and number at each end. Messages are traced per batch by `write`
/// (a flush, every seq up to its own) and `received` (what one socket read delivered), or per
/// message by `send` and `dispatch` (which name a message fully) and the finer `encode` and
/// `decode` (a stage of a message known by its seq).
public enum MsgrTrace {
  /// Whether a session records `loligo_msgr:send` (`loligo trace cost` reports it).
  public static var isSendEnabled: Bool { loligo_tp_on(loligo_tp_msgr_send_state) != 0 }

  /// Whether a session records `loligo_msgr:write` (`loligo trace cost --event write`).
  public static var isWriteEnabled: Bool { loligo_tp_on(loligo_tp_msgr_write_state) != 0 }

  /// Whether a session records `loligo_msgr:received` (so a connection collects its batch).
  @inlinable
  public static var isReceivedEnabled: Bool {
    loligo_tp_on(loligo_tp_msgr_received_state) != 0
  }

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
  public static func write(
    conn: UInt64, seq: UInt64, myType: UInt8, myNum: Int64, peerType: UInt8, peerNum: Int64
  ) {
    guard loligo_tp_on(loligo_tp_msgr_write_state) != 0 else { return }
    loligo_tp_msgr_write(conn, seq, myType, myNum, peerType, peerNum)
  }

  /// The messages one socket read completed (seq `firstSeq` onwards, one entry each).
  public static func received(
    conn: UInt64, firstSeq: UInt64, types: [UInt16], tids: [UInt64], lengths: [UInt32],
    myType: UInt8, myNum: Int64, peerType: UInt8, peerNum: Int64
  ) {
    let count = min(types.count, tids.count, lengths.count)
    guard count > 0, loligo_tp_on(loligo_tp_msgr_received_state) != 0 else { return }
    types.withUnsafeBufferPointer { types in
      tids.withUnsafeBufferPointer { tids in
        lengths.withUnsafeBufferPointer { lengths in
          loligo_tp_msgr_received(
            conn, firstSeq, UInt32(count), types.baseAddress, tids.baseAddress,
            lengths.baseAddress, myType, myNum, peerType, peerNum)
        }
      }
    }
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
