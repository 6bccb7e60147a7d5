/* Tracepoint definitions of the loligo_msgr provider. Private to this target: Swift sees only
 * include/CLoligoTrace.h, never lttng's macro machinery. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER loligo_msgr

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./msgr_tp.h"

#if !defined(LOLIGO_MSGR_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define LOLIGO_MSGR_TP_H

#include <lttng/tracepoint.h>

/* A session is established (first time or after a reconnect): who is at each end. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_msgr, session_ready,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint8_t, initiator, uint8_t, my_type, int64_t, my_num,
                      uint8_t, peer_type, int64_t, peer_num, uint8_t, lossy, const char *, peer_addr),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn, conn)
        lttng_ust_field_integer(uint8_t, initiator, initiator)
        lttng_ust_field_integer(uint8_t, my_type, my_type)
        lttng_ust_field_integer(int64_t, my_num, my_num)
        lttng_ust_field_integer(uint8_t, peer_type, peer_type)
        lttng_ust_field_integer(int64_t, peer_num, peer_num)
        lttng_ust_field_integer(uint8_t, lossy, lossy)
        lttng_ust_field_string(peer_addr, peer_addr)))

/* Messages are traced at two weights. Per message (what `loligo trace record` enables by
 * default): `send` and `dispatch` name a message completely (both ends' entity type and
 * number, type, tid, seq, length), which joins the sender's and the receiver's view of it;
 * `encode` and `decode` only mark a stage of a message already named by seq, for a finer
 * breakdown (`--events 'loligo_*'`). Per batch (`--per-batch`): `write` names the messages a
 * flush sends (every seq up to its own on that session) and `received` the messages one socket
 * read delivered, with their types, tids and lengths; both name the session's two ends, so
 * sender and receiver join without an event per message. */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(
    loligo_msgr, message_class,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, seq, uint16_t, type, uint64_t, tid,
                      uint32_t, length, uint8_t, my_type, int64_t, my_num, uint8_t, peer_type,
                      int64_t, peer_num),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn, conn)
        lttng_ust_field_integer(uint64_t, seq, seq)
        lttng_ust_field_integer(uint16_t, type, type)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(uint32_t, length, length)
        lttng_ust_field_integer(uint8_t, my_type, my_type)
        lttng_ust_field_integer(int64_t, my_num, my_num)
        lttng_ust_field_integer(uint8_t, peer_type, peer_type)
        lttng_ust_field_integer(int64_t, peer_num, peer_num)))

/* The session took a message to send and gave it its sequence number (on the session's event
 * loop; peer_type is 0 while the session is not established yet). */
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(
    loligo_msgr, message_class, loligo_msgr, send,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, seq, uint16_t, type, uint64_t, tid,
                      uint32_t, length, uint8_t, my_type, int64_t, my_num, uint8_t, peer_type,
                      int64_t, peer_num))

/* A received message is handed to the dispatcher. */
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(
    loligo_msgr, message_class, loligo_msgr, dispatch,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, seq, uint16_t, type, uint64_t, tid,
                      uint32_t, length, uint8_t, my_type, int64_t, my_num, uint8_t, peer_type,
                      int64_t, peer_num))

/* The message's frame was encoded into the session's write batch. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_msgr, encode,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, seq),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn, conn)
        lttng_ust_field_integer(uint64_t, seq, seq)))

/* A received frame was decoded into a message (its dispatch follows). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_msgr, decode,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, seq, uint16_t, type, uint32_t, length),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn, conn)
        lttng_ust_field_integer(uint64_t, seq, seq)
        lttng_ust_field_integer(uint16_t, type, type)
        lttng_ust_field_integer(uint32_t, length, length)))

/* The session's queued frames are being flushed to the socket (fired just before the write
 * system call, so a reader in another process never appears to read them earlier); seq is the
 * session's last message sequence number, every message up to it has been encoded. The two
 * ends are named so a receiver's `received` finds this session even when the trace began
 * after its `session_ready` (peer_type is 0 while the session is not established). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_msgr, write,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, seq, uint8_t, my_type, int64_t, my_num,
                      uint8_t, peer_type, int64_t, peer_num),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn, conn)
        lttng_ust_field_integer(uint64_t, seq, seq)
        lttng_ust_field_integer(uint8_t, my_type, my_type)
        lttng_ust_field_integer(int64_t, my_num, my_num)
        lttng_ust_field_integer(uint8_t, peer_type, peer_type)
        lttng_ust_field_integer(int64_t, peer_num, peer_num)))

/* The messages one socket read completed, all handed to the dispatcher by now: seq first_seq,
 * first_seq + 1, ... (one entry per message in each sequence). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_msgr, received,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, first_seq, uint32_t, count, const uint16_t *,
                      types, const uint64_t *, tids, const uint32_t *, lengths, uint8_t, my_type,
                      int64_t, my_num, uint8_t, peer_type, int64_t, peer_num),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn, conn)
        lttng_ust_field_integer(uint64_t, first_seq, first_seq)
        lttng_ust_field_integer(uint8_t, my_type, my_type)
        lttng_ust_field_integer(int64_t, my_num, my_num)
        lttng_ust_field_integer(uint8_t, peer_type, peer_type)
        lttng_ust_field_integer(int64_t, peer_num, peer_num)
        lttng_ust_field_sequence(uint16_t, types, types, uint32_t, count)
        lttng_ust_field_sequence(uint64_t, tids, tids, uint32_t, count)
        lttng_ust_field_sequence(uint32_t, lengths, lengths, uint32_t, count)))

/* Bytes arrived from the socket. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_msgr, read,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint32_t, bytes),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn, conn)
        lttng_ust_field_integer(uint32_t, bytes, bytes)))

#endif /* LOLIGO_MSGR_TP_H */

#include <lttng/tracepoint-event.h>
