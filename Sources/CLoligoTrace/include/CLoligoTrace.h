#ifndef CLOLIGOTRACE_H
#define CLOLIGOTRACE_H

/* Loligo's LTTng-UST tracepoints as plain C, for Swift. The lttng macro machinery stays in the
 * private *_tp.h headers of this target; this header declares, per tracepoint, a pointer to
 * its enabled flag and a function that fires it. Callers test the flag first
 * (`loligo_tp_on`), so with no recording session a tracepoint costs one load and a branch and
 * no argument (such as a C string) is ever built. */

#include <stdint.h>

/* Nonzero while some recording session has the tracepoint enabled. A relaxed load: a stale
 * answer only costs or gains one event at the moment a session starts or stops.
 *
 * Building with `-Xcc -DLOLIGO_NO_TRACEPOINTS` makes it a constant 0, so the optimizer drops
 * every call site: the "tracing off" baseline of scripts/tracing-benchmark.sh. */
#ifdef LOLIGO_NO_TRACEPOINTS
static inline int loligo_tp_on(const int *state) {
    (void)state;
    return 0;
}
#else
static inline int loligo_tp_on(const int *state) {
    return __builtin_expect(__atomic_load_n(state, __ATOMIC_RELAXED) != 0, 0);
}
#endif

/* loligo_msgr: the messenger (conn is the session's id within its process). */
extern const int *const loligo_tp_msgr_session_ready_state;
void loligo_tp_msgr_session_ready(uint64_t conn, uint8_t initiator, uint8_t my_type,
                                  int64_t my_num, uint8_t peer_type, int64_t peer_num,
                                  uint8_t lossy, const char *peer_addr);
extern const int *const loligo_tp_msgr_send_state;
void loligo_tp_msgr_send(uint64_t conn, uint64_t seq, uint16_t type, uint64_t tid,
                         uint32_t length, uint8_t my_type, int64_t my_num, uint8_t peer_type,
                         int64_t peer_num);
extern const int *const loligo_tp_msgr_encode_state;
void loligo_tp_msgr_encode(uint64_t conn, uint64_t seq);
extern const int *const loligo_tp_msgr_write_state;
void loligo_tp_msgr_write(uint64_t conn, uint64_t seq, uint8_t my_type, int64_t my_num,
                          uint8_t peer_type, int64_t peer_num);
extern const int *const loligo_tp_msgr_received_state;
void loligo_tp_msgr_received(uint64_t conn, uint64_t first_seq, uint32_t count,
                             const uint16_t *types, const uint64_t *tids,
                             const uint32_t *lengths, uint8_t my_type, int64_t my_num,
                             uint8_t peer_type, int64_t peer_num);
extern const int *const loligo_tp_msgr_read_state;
void loligo_tp_msgr_read(uint64_t conn, uint32_t bytes);
extern const int *const loligo_tp_msgr_decode_state;
void loligo_tp_msgr_decode(uint64_t conn, uint64_t seq, uint16_t type, uint32_t length);
extern const int *const loligo_tp_msgr_dispatch_state;
void loligo_tp_msgr_dispatch(uint64_t conn, uint64_t seq, uint16_t type, uint64_t tid,
                             uint32_t length, uint8_t my_type, int64_t my_num, uint8_t peer_type,
                             int64_t peer_num);

/* loligo_client: the Objecter (client + tid is the op's reqid). */
extern const int *const loligo_tp_client_op_submit_state;
void loligo_tp_client_op_submit(int64_t client, uint64_t tid, int64_t pool, const char *object,
                                uint32_t length, uint16_t ops, uint8_t write);
extern const int *const loligo_tp_client_op_send_state;
void loligo_tp_client_op_send(int64_t client, uint64_t tid, int32_t osd, int64_t pool,
                              uint32_t seed, uint32_t attempt);
extern const int *const loligo_tp_client_op_reply_state;
void loligo_tp_client_op_reply(int64_t client, uint64_t tid, int32_t osd, int32_t result);
extern const int *const loligo_tp_client_op_complete_state;
void loligo_tp_client_op_complete(int64_t client, uint64_t tid, int32_t result);

/* loligo_osd: the OSD op path (reqid = client + tid; PG = pool + seed). */
extern const int *const loligo_tp_osd_op_receive_state;
void loligo_tp_osd_op_receive(int32_t osd, int64_t client, uint64_t tid, uint32_t length);
extern const int *const loligo_tp_osd_op_queue_state;
void loligo_tp_osd_op_queue(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                            uint32_t seed);
extern const int *const loligo_tp_osd_op_start_state;
void loligo_tp_osd_op_start(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                            uint32_t seed, const char *object, uint8_t write);
extern const int *const loligo_tp_osd_op_replica_send_state;
void loligo_tp_osd_op_replica_send(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                                   uint32_t seed, int32_t replica, uint64_t version);
extern const int *const loligo_tp_osd_op_replica_ack_state;
void loligo_tp_osd_op_replica_ack(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                                  uint32_t seed, int32_t replica, int32_t result);
extern const int *const loligo_tp_osd_op_store_commit_state;
void loligo_tp_osd_op_store_commit(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                                   uint32_t seed, uint64_t version, uint8_t replica,
                                   int32_t result);
extern const int *const loligo_tp_osd_repop_start_state;
void loligo_tp_osd_repop_start(int32_t osd, int64_t client, uint64_t tid, int64_t pool,
                               uint32_t seed, uint64_t version);
extern const int *const loligo_tp_osd_op_reply_state;
void loligo_tp_osd_op_reply(int32_t osd, int64_t client, uint64_t tid, int32_t result);

/* loligo_mon: Paxos. */
extern const int *const loligo_tp_mon_paxos_begin_state;
void loligo_tp_mon_paxos_begin(int32_t rank, uint64_t version, uint64_t pn, uint32_t bytes);
extern const int *const loligo_tp_mon_paxos_accept_state;
void loligo_tp_mon_paxos_accept(int32_t rank, int32_t from, uint64_t version);
extern const int *const loligo_tp_mon_paxos_commit_state;
void loligo_tp_mon_paxos_commit(int32_t rank, uint64_t version, uint8_t leader);

#endif
