/* Tracepoint definitions of the loligo_mon provider (Paxos). Private to this target. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER loligo_mon

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./mon_tp.h"

#if !defined(LOLIGO_MON_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define LOLIGO_MON_TP_H

#include <lttng/tracepoint.h>

/* The leader proposes a value as `version`. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_mon, paxos_begin,
    LTTNG_UST_TP_ARGS(int32_t, rank, uint64_t, version, uint64_t, pn, uint32_t, bytes),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, rank, rank)
        lttng_ust_field_integer(uint64_t, version, version)
        lttng_ust_field_integer(uint64_t, pn, pn)
        lttng_ust_field_integer(uint32_t, bytes, bytes)))

/* The leader counted a peon's accept of `version`. */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_mon, paxos_accept,
    LTTNG_UST_TP_ARGS(int32_t, rank, int32_t, from, uint64_t, version),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, rank, rank)
        lttng_ust_field_integer(int32_t, from, from)
        lttng_ust_field_integer(uint64_t, version, version)))

/* A monitor committed `version` (leader after every accept; peons when told). */
LTTNG_UST_TRACEPOINT_EVENT(
    loligo_mon, paxos_commit,
    LTTNG_UST_TP_ARGS(int32_t, rank, uint64_t, version, uint8_t, leader),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(int32_t, rank, rank)
        lttng_ust_field_integer(uint64_t, version, version)
        lttng_ust_field_integer(uint8_t, leader, leader)))

#endif /* LOLIGO_MON_TP_H */

#include <lttng/tracepoint-event.h>
