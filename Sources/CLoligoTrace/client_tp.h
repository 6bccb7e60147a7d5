/* Tracepoint definitions of the loligo_client provider (the Objecter). Private to this target. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER loligo_client

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./client_tp.h"

#if !defined(LOLIGO_CLIENT_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define LOLIGO_CLIENT_TP_H

#include <lttng/tracepoint.h>

/* An operation on one object was submitted (client + tid is its reqid at the OSDs). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_client, op_submit,
    LTTNG_UST_TP_ARGS(int64_t, client, uint64_t, tid, int64_t, pool, const char *, object,
                      uint32_t, length, uint16_t, ops, uint8_t, write),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int64_t, pool, pool)
        lttng_ust_field_string(object, object)
        lttng_ust_field_integer(uint32_t, length, length)
        lttng_ust_field_integer(uint16_t, ops, ops)
        lttng_ust_field_integer(uint8_t, write, write)))

/* The operation was sent to its PG's primary (again on a resend: attempt counts up). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_client, op_send,
    LTTNG_UST_TP_ARGS(int64_t, client, uint64_t, tid, int32_t, osd, int64_t, pool, uint32_t, seed,
                      uint32_t, attempt),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int32_t, osd, osd)
        lttng_ust_field_integer(int64_t, pool, pool)
        lttng_ust_field_integer_hex(uint32_t, seed, seed)
        lttng_ust_field_integer(uint32_t, attempt, attempt)))

/* An OSD's reply arrived. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_client, op_reply,
    LTTNG_UST_TP_ARGS(int64_t, client, uint64_t, tid, int32_t, osd, int32_t, result),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int32_t, osd, osd)
        lttng_ust_field_integer(int32_t, result, result)))

/* The operation's completion runs (result 0 or a negative errno; -110 on timeout). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_client, op_complete,
    LTTNG_UST_TP_ARGS(int64_t, client, uint64_t, tid, int32_t, result),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int32_t, result, result)))

#endif /* LOLIGO_CLIENT_TP_H */

#include <lttng/tracepoint-event.h>
