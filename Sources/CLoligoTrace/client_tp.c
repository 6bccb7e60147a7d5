/* The loligo_client probes and the plain functions that fire them. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "client_tp.h"
#include "CLoligoTrace.h"

#define STATE(provider, name) &lttng_ust_tracepoint_##provider##___##name.state

const int *const loligo_tp_client_op_submit_state = STATE(loligo_client, op_submit);
void loligo_tp_client_op_submit(int64_t client, uint64_t tid, int64_t pool, const char *object,
                                uint32_t length, uint16_t ops, uint8_t write) {
    lttng_ust_tracepoint(loligo_client, op_submit, client, tid, pool, object, length, ops, write);
}

const int *const loligo_tp_client_op_send_state = STATE(loligo_client, op_send);
void loligo_tp_client_op_send(int64_t client, uint64_t tid, int32_t osd, int64_t pool,
                              uint32_t seed, uint32_t attempt) {
    lttng_ust_tracepoint(loligo_client, op_send, client, tid, osd, pool, seed, attempt);
}

const int *const loligo_tp_client_op_reply_state = STATE(loligo_client, op_reply);
void loligo_tp_client_op_reply(int64_t client, uint64_t tid, int32_t osd, int32_t result) {
    lttng_ust_tracepoint(loligo_client, op_reply, client, tid, osd, result);
}

const int *const loligo_tp_client_op_complete_state = STATE(loligo_client, op_complete);
void loligo_tp_client_op_complete(int64_t client, uint64_t tid, int32_t result) {
    lttng_ust_tracepoint(loligo_client, op_complete, client, tid, result);
}
