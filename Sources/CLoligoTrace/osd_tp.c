/* The loligo_osd probes and the plain functions that fire them. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "osd_tp.h"
#include "CLoligoTrace.h"

#define STATE(provider, name) &lttng_ust_tracepoint_##provider##___##name.state

const int *const loligo_tp_osd_op_receive_state = STATE(loligo_osd, op_receive);
void loligo_tp_osd_op_receive(int32_t osd, int64_t client, uint64_t tid, uint32_t length) {
    lttng_ust_tracepoint(loligo_osd, op_receive, osd, client, tid, length);
}

const int *const loligo_tp_osd_op_queue_state = STATE(loligo_osd, op_queue);
void loligo_tp_osd_op_queue(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                            uint32_t seed) {
    lttng_ust_tracepoint(loligo_osd, op_queue, osd, client, tid, pool, seed);
}

const int *const loligo_tp_osd_op_start_state = STATE(loligo_osd, op_start);
void loligo_tp_osd_op_start(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                            uint32_t seed, const char *object, uint8_t write) {
    lttng_ust_tracepoint(loligo_osd, op_start, osd, client, tid, pool, seed, object, write);
}

const int *const loligo_tp_osd_op_replica_send_state = STATE(loligo_osd, op_replica_send);
void loligo_tp_osd_op_replica_send(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                                   uint32_t seed, int32_t replica, uint64_t version) {
    lttng_ust_tracepoint(loligo_osd, op_replica_send, osd, client, tid, pool, seed, replica,
                         version);
}

const int *const loligo_tp_osd_op_replica_ack_state = STATE(loligo_osd, op_replica_ack);
void loligo_tp_osd_op_replica_ack(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                                  uint32_t seed, int32_t replica, int32_t result) {
    lttng_ust_tracepoint(loligo_osd, op_replica_ack, osd, client, tid, pool, seed, replica,
                         result);
}

const int *const loligo_tp_osd_op_store_commit_state = STATE(loligo_osd, op_store_commit);
void loligo_tp_osd_op_store_commit(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                                   uint32_t seed, uint64_t version, uint8_t replica,
                                   int32_t result) {
    lttng_ust_tracepoint(loligo_osd, op_store_commit, osd, client, tid, pool, seed, version,
                         replica, result);
}

const int *const loligo_tp_osd_repop_start_state = STATE(loligo_osd, repop_start);
void loligo_tp_osd_repop_start(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                               uint32_t seed, uint64_t version) {
    lttng_ust_tracepoint(loligo_osd, repop_start, osd, client, tid, pool, seed, version);
}

const int *const loligo_tp_osd_op_reply_state = STATE(loligo_osd, op_reply);
void loligo_tp_osd_op_reply(int32_t osd, int64_t client, uint64_t tid, int32_t result) {
    lttng_ust_tracepoint(loligo_osd, op_reply, osd, client, tid, result);
}
