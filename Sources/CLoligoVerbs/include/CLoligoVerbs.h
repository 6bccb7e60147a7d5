// A thin C layer over libibverbs and librdmacm for the hardware verbs device.
//
// Swift imports most of <infiniband/verbs.h>, but the calls the hot path needs are static
// inline functions or macros (ibv_post_send, ibv_poll_cq, ibv_query_port, ibv_reg_mr), and the
// work-request structs are nested unions. This header keeps all of that on the C side: plain
// functions over opaque handles and flat structs, so the Swift side never sees a verbs type.
#ifndef CLOLIGO_VERBS_H
#define CLOLIGO_VERBS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What a port and its device offer (from ibv_query_port / ibv_query_device / ibv_query_gid).
typedef struct {
  uint16_t lid;
  uint8_t state;       // enum ibv_port_state; 4 = ACTIVE
  uint8_t active_mtu;  // enum ibv_mtu
  uint8_t link_layer;  // 1 = InfiniBand, 2 = Ethernet (RoCE)
  uint8_t gid[16];
  int32_t max_qp_wr;
  int32_t max_srq_wr;
  int32_t max_cqe;
  uint64_t max_mr_size;
  /// RDMA READs a queue pair may serve (max_qp_rd_atom) and issue (max_qp_init_rd_atom) at once.
  int32_t max_qp_rd_atom;
  int32_t max_qp_init_rd_atom;
} lv_port_info;

/// One work completion, flattened. `opcode` uses the LV_WC_* values below.
typedef struct {
  uint64_t wr_id;
  int32_t status;  // enum ibv_wc_status (same numbers)
  int32_t opcode;
  uint32_t byte_len;
  uint32_t imm;  // host order; valid when has_imm
  uint32_t qp_num;
  int32_t has_imm;
} lv_wc;

enum { LV_WC_SEND = 0, LV_WC_RDMA_WRITE = 1, LV_WC_RDMA_READ = 2, LV_WC_RECV = 3, LV_WC_OTHER = 9 };
enum { LV_OP_SEND = 0, LV_OP_SEND_IMM = 1, LV_OP_RDMA_WRITE = 2, LV_OP_RDMA_WRITE_IMM = 3, LV_OP_RDMA_READ = 4 };
enum { LV_ACCESS_LOCAL_WRITE = 1, LV_ACCESS_REMOTE_WRITE = 2, LV_ACCESS_REMOTE_READ = 4 };

/// Number of RDMA devices, or -1 with *err set (ENOSYS where the kernel has no RDMA support).
int lv_device_count(int *err);
/// Copies the name of device `index` into `buf`; 0 on success.
int lv_device_name(int index, char *buf, size_t len);
/// Opens the named device (NULL or "" = the first); NULL with *err set when it cannot.
void *lv_open_device(const char *name, int *err);
void lv_close_device(void *ctx);
/// Port attributes, GID `gid_index` and device limits; 0 or an errno value.
int lv_query_port(void *ctx, uint8_t port, int gid_index, lv_port_info *out);

void *lv_alloc_pd(void *ctx);
void lv_dealloc_pd(void *pd);

void *lv_create_comp_channel(void *ctx);
int lv_comp_channel_fd(void *channel);
/// Takes and acknowledges one pending CQ event without blocking (the fd is made non-blocking);
/// 1 if one was taken, 0 if none was pending.
int lv_take_cq_event(void *channel);
void lv_destroy_comp_channel(void *channel);

void *lv_create_cq(void *ctx, int depth, void *channel);
void lv_destroy_cq(void *cq);
int lv_req_notify_cq(void *cq);
/// Polls up to `n` completions into `out`; returns the count or -1.
int lv_poll_cq(void *cq, int n, lv_wc *out);

void *lv_create_srq(void *pd, int max_wr);
void lv_destroy_srq(void *srq);
int lv_post_srq_recv(void *srq, uint64_t wr_id, uint64_t addr, uint32_t length, uint32_t lkey);

/// An RC queue pair (1 SGE, no inline data); NULL with errno set on failure.
void *lv_create_qp(void *pd, void *send_cq, void *recv_cq, void *srq, int max_send_wr,
                   int max_recv_wr, uint32_t *qp_num);
int lv_destroy_qp(void *qp);
int lv_qp_to_init(void *qp, uint8_t port, int access);
int lv_qp_to_rtr(void *qp, uint8_t port, uint32_t remote_qpn, uint32_t remote_psn,
                 uint16_t remote_lid, const uint8_t *remote_gid, int gid_index, int use_grh,
                 int mtu, uint8_t traffic_class, uint8_t service_level);
int lv_qp_to_rts(void *qp, uint32_t psn);
int lv_qp_to_error(void *qp);
/// Current QP state (enum ibv_qp_state) or -1.
int lv_qp_state(void *qp);

/// Posts one work request with one SGE (length 0 means no SGE). `imm` is in host order.
int lv_post_send(void *qp, uint64_t wr_id, int opcode, uint64_t addr, uint32_t length,
                 uint32_t lkey, uint32_t imm, uint64_t remote_addr, uint32_t rkey, int signaled);
int lv_post_recv(void *qp, uint64_t wr_id, uint64_t addr, uint32_t length, uint32_t lkey);

void *lv_reg_mr(void *pd, void *addr, size_t length, int access, uint32_t *lkey, uint32_t *rkey);
int lv_dereg_mr(void *mr);

/// The device's asynchronous event fd (made non-blocking), for poll().
int lv_async_fd(void *ctx);
/// Takes and acknowledges one asynchronous event without blocking: 1 and its type (enum
/// ibv_event_type) and, for queue pair events, the QP number (else 0); 0 when none is pending.
int lv_take_async_event(void *ctx, int *type, uint32_t *qp_num);

/// ibv_fork_init: registered memory must not be shared with a forked child.
int lv_fork_init(void);

/// For soft-verbs (not in Swift's Glibc module): a non-blocking close-on-exec eventfd, and
/// accept4 with the same flags.
int lv_eventfd_nonblocking(void);
int lv_accept_nonblocking(int fd);

/// Soft limit of RLIMIT_MEMLOCK in bytes; UINT64_MAX when unlimited.
uint64_t lv_memlock_limit(void);

#ifdef __cplusplus
}
#endif

// Connection set-up through librdmacm (ms_async_rdma_cm).
#include "lv_rdma_cm.h"

#endif
