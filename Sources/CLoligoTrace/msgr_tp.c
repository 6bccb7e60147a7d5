/* The loligo_msgr probes (static linkage: the provider lives in every binary that links this
 * target) and the plain functions that fire them. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "msgr_tp.h"
#include "CLoligoTrace.h"

#define STATE(provider, name) &lttng_ust_tracepoint_##provider##___##name.state

const int *const loligo_tp_msgr_session_ready_state = STATE(loligo_msgr, session_ready);
void loligo_tp_msgr_session_ready(uint64_t conn, uint8_t initiator, uint8_t my_type,
                                  int64_t my_num, uint8_t peer_type, int64_t peer_num,
                                  uint8_t lossy, const char *peer_addr) {
    lttng_ust_tracepoint(loligo_msgr, session_ready, conn, initiator, my_type, my_num, peer_type,
                         peer_num, lossy, peer_addr);
}

const int *const loligo_tp_msgr_send_state = STATE(loligo_msgr, send);
void loligo_tp_msgr_send(uint64_t conn, uint64_t seq, uint16_t type, uint64_t tid,
                         uint32_t length, uint8_t my_type, int64_t my_num, uint8_t peer_type,
                         int64_t peer_num) {
    lttng_ust_tracepoint(loligo_msgr, send, conn, seq, type, tid, length, my_type, my_num,
                         peer_type, peer_num);
}

const int *const loligo_tp_msgr_encode_state = STATE(loligo_msgr, encode);
void loligo_tp_msgr_encode(uint64_t conn, uint64_t seq) {
    lttng_ust_tracepoint(loligo_msgr, encode, conn, seq);
}

const int *const loligo_tp_msgr_write_state = STATE(loligo_msgr, write);
void loligo_tp_msgr_write(uint64_t conn, uint64_t seq, uint8_t my_type, int64_t my_num,
                          uint8_t peer_type, int64_t peer_num) {
    lttng_ust_tracepoint(loligo_msgr, write, conn, seq, my_type, my_num, peer_type, peer_num);
}

const int *const loligo_tp_msgr_received_state = STATE(loligo_msgr, received);
void loligo_tp_msgr_received(uint64_t conn, uint64_t first_seq, uint32_t count,
                             const uint16_t *types, const uint64_t *tids,
                             const uint32_t *lengths, uint8_t my_type, int64_t my_num,
                             uint8_t peer_type, int64_t peer_num) {
    lttng_ust_tracepoint(loligo_msgr, received, conn, first_seq, count, types, tids, lengths,
                         my_type, my_num, peer_type, peer_num);
}

const int *const loligo_tp_msgr_read_state = STATE(loligo_msgr, read);
void loligo_tp_msgr_read(uint64_t conn, uint32_t bytes) {
    lttng_ust_tracepoint(loligo_msgr, read, conn, bytes);
}

const int *const loligo_tp_msgr_decode_state = STATE(loligo_msgr, decode);
void loligo_tp_msgr_decode(uint64_t conn, uint64_t seq, uint16_t type, uint32_t length) {
    lttng_ust_tracepoint(loligo_msgr, decode, conn, seq, type, length);
}

const int *const loligo_tp_msgr_dispatch_state = STATE(loligo_msgr, dispatch);
void loligo_tp_msgr_dispatch(uint64_t conn, uint64_t seq, uint16_t type, uint64_t tid,
                             uint32_t length, uint8_t my_type, int64_t my_num, uint8_t peer_type,
                             int64_t peer_num) {
    lttng_ust_tracepoint(loligo_msgr, dispatch, conn, seq, type, tid, length, my_type, my_num,
                         peer_type, peer_num);
}
