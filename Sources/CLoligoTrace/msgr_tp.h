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

/* Per-message events come in two weights. `send` and `dispatch` name the message completely
 * (both ends' entity type and number, type, tid, seq, length): that is what joins the sender's
 * and the receiver's view of one message, and they are what `loligo trace record` enables by
 * default. `encode` and `decode` only mark a stage of a message already named by seq, and are
 * there for a finer breakdown (`--events 'loligo_*'`). */
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
 * session's last message sequence number, every message up to it has been encoded. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_msgr, write,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint64_t, seq),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn, conn)
        lttng_ust_field_integer(uint64_t, seq, seq)))

/* Bytes arrived from the socket. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_msgr, read,
    LTTNG_UST_TP_ARGS(uint64_t, conn, uint32_t, bytes),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, conn, conn)
        lttng_ust_field_integer(uint32_t, bytes, bytes)))

#endif /* LOLIGO_MSGR_TP_H */

#include <lttng/tracepoint-event.h>
