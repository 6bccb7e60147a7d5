/* Tracepoint definitions of the loligo_osd provider (the op path). Private to this target.
 * Every event carries the reqid (client, tid), and once it is known the PG (pool, seed). */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER loligo_osd

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./osd_tp.h"

#if !defined(LOLIGO_OSD_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define LOLIGO_OSD_TP_H

#include <lttng/tracepoint.h>

/* A client op arrived at the OSD's dispatcher (the PG is not known yet). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_osd, op_receive,
    LTTNG_UST_TP_ARGS(int32_t, osd, int64_t, client, uint64_t, tid, uint32_t, length),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, osd, osd)
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(uint32_t, length, length)))

LTTNG_UST_TRACEPOINT_EVENT_CLASS(
    loligo_osd, pg_class,
    LTTNG_UST_TP_ARGS(int32_t, osd, int64_t, client, uint64_t, tid, int64_t, pool, uint32_t, seed),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, osd, osd)
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int64_t, pool, pool)
        lttng_ust_field_integer_hex(uint32_t, seed, seed)))

/* The op was mapped to its PG and queued there. */
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(
    loligo_osd, pg_class, loligo_osd, op_queue,
    LTTNG_UST_TP_ARGS(int32_t, osd, int64_t, client, uint64_t, tid, int64_t, pool, uint32_t, seed))

/* The PG starts executing the op (reads run, or a write's transaction is built). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_osd, op_start,
    LTTNG_UST_TP_ARGS(int32_t, osd, int64_t, client, uint64_t, tid, int64_t, pool, uint32_t, seed,
                      const char *, object, uint8_t, write),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, osd, osd)
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int64_t, pool, pool)
        lttng_ust_field_integer_hex(uint32_t, seed, seed)
        lttng_ust_field_string(object, object)
        lttng_ust_field_integer(uint8_t, write, write)))

/* The primary sent the write to one replica. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_osd, op_replica_send,
    LTTNG_UST_TP_ARGS(int32_t, osd, int64_t, client, uint64_t, tid, int64_t, pool, uint32_t, seed,
                      int32_t, replica, uint64_t, version),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, osd, osd)
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int64_t, pool, pool)
        lttng_ust_field_integer_hex(uint32_t, seed, seed)
        lttng_ust_field_integer(int32_t, replica, replica)
        lttng_ust_field_integer(uint64_t, version, version)))

/* A replica answered the primary. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_osd, op_replica_ack,
    LTTNG_UST_TP_ARGS(int32_t, osd, int64_t, client, uint64_t, tid, int64_t, pool, uint32_t, seed,
                      int32_t, replica, int32_t, result),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, osd, osd)
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int64_t, pool, pool)
        lttng_ust_field_integer_hex(uint32_t, seed, seed)
        lttng_ust_field_integer(int32_t, replica, replica)
        lttng_ust_field_integer(int32_t, result, result)))

/* The object store committed a write's transaction on this OSD (primary: replica = 0;
 * replica: replica = 1, for the primary's replicated write). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_osd, op_store_commit,
    LTTNG_UST_TP_ARGS(int32_t, osd, int64_t, client, uint64_t, tid, int64_t, pool, uint32_t, seed,
                      uint64_t, version, uint8_t, replica, int32_t, result),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, osd, osd)
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int64_t, pool, pool)
        lttng_ust_field_integer_hex(uint32_t, seed, seed)
        lttng_ust_field_integer(uint64_t, version, version)
        lttng_ust_field_integer(uint8_t, replica, replica)
        lttng_ust_field_integer(int32_t, result, result)))

/* A replica starts applying the primary's write. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_osd, repop_start,
    LTTNG_UST_TP_ARGS(int32_t, osd, int64_t, client, uint64_t, tid, int64_t, pool, uint32_t, seed,
                      uint64_t, version),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, osd, osd)
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int64_t, pool, pool)
        lttng_ust_field_integer_hex(uint32_t, seed, seed)
        lttng_ust_field_integer(uint64_t, version, version)))

/* The OSD answered the client (errors too, also before the PG was known). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_osd, op_reply,
    LTTNG_UST_TP_ARGS(int32_t, osd, int64_t, client, uint64_t, tid, int32_t, result),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, osd, osd)
        lttng_ust_field_integer(int64_t, client, client)
        lttng_ust_field_integer(uint64_t, tid, tid)
        lttng_ust_field_integer(int32_t, result, result)))

#endif /* LOLIGO_OSD_TP_H */

#include <lttng/tracepoint-event.h>
