/* The loligo_mon probes and the plain functions that fire them. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "mon_tp.h"
#include "CLoligoTrace.h"

#define STATE(provider, name) &lttng_ust_tracepoint_##provider##___##name.state

const int *const loligo_tp_mon_paxos_begin_state = STATE(loligo_mon, paxos_begin);
void loligo_tp_mon_paxos_begin(int32_t rank, uint64_t version, uint64_t pn, uint32_t bytes) {
    lttng_ust_tracepoint(loligo_mon, paxos_begin, rank, version, pn, bytes);
}

const int *const loligo_tp_mon_paxos_accept_state = STATE(loligo_mon, paxos_accept);
void loligo_tp_mon_paxos_accept(int32_t rank, int32_t from, uint64_t version) {
    lttng_ust_tracepoint(loligo_mon, paxos_accept, rank, from, version);
}

const int *const loligo_tp_mon_paxos_commit_state = STATE(loligo_mon, paxos_commit);
void loligo_tp_mon_paxos_commit(int32_t rank, uint64_t version, uint8_t leader) {
    lttng_ust_tracepoint(loligo_mon, paxos_commit, rank, version, leader);
}
