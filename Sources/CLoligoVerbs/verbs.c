// See CLoligoVerbs.h: each function is one verbs call (or one state transition) with its
// structs filled in here, so Swift never handles verbs types.
#define _GNU_SOURCE
#include "qp_attr.h"
#include "CLoligoVerbs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

int lv_device_count(int *err) {
  int n = 0;
  errno = 0;
  struct ibv_device **list = ibv_get_device_list(&n);
  if (list == NULL) {
    *err = errno ? errno : ENODEV;
    return -1;
  }
  ibv_free_device_list(list);
  *err = 0;
  return n;
}

int lv_device_name(int index, char *buf, size_t len) {
  int n = 0;
  struct ibv_device **list = ibv_get_device_list(&n);
  if (list == NULL) return -1;
  int rc = -1;
  if (index >= 0 && index < n && len > 0) {
    strncpy(buf, ibv_get_device_name(list[index]), len - 1);
    buf[len - 1] = 0;
    rc = 0;
  }
  ibv_free_device_list(list);
  return rc;
}

void *lv_open_device(const char *name, int *err) {
  int n = 0;
  errno = 0;
  struct ibv_device **list = ibv_get_device_list(&n);
  if (list == NULL) {
    *err = errno ? errno : ENODEV;
    return NULL;
  }
  struct ibv_context *ctx = NULL;
  *err = ENODEV;
  for (int i = 0; i < n; i++) {
    if (name == NULL || name[0] == 0 || strcmp(ibv_get_device_name(list[i]), name) == 0) {
      ctx = ibv_open_device(list[i]);
      *err = ctx ? 0 : (errno ? errno : EIO);
      break;
    }
  }
  ibv_free_device_list(list);
  return ctx;
}

void lv_close_device(void *ctx) { ibv_close_device((struct ibv_context *)ctx); }

int lv_query_port(void *ctx, uint8_t port, int gid_index, lv_port_info *out) {
  struct ibv_context *c = ctx;
  struct ibv_port_attr pa;
  struct ibv_device_attr da;
  union ibv_gid gid;
  memset(out, 0, sizeof(*out));
  if (ibv_query_port(c, port, &pa)) return errno ? errno : EIO;
  if (ibv_query_device(c, &da)) return errno ? errno : EIO;
  if (ibv_query_gid(c, port, gid_index, &gid)) return errno ? errno : EINVAL;
  out->lid = pa.lid;
  out->state = (uint8_t)pa.state;
  out->active_mtu = (uint8_t)pa.active_mtu;
  out->link_layer = pa.link_layer;
  memcpy(out->gid, gid.raw, 16);
  out->max_qp_wr = da.max_qp_wr;
  out->max_srq_wr = da.max_srq_wr;
  out->max_cqe = da.max_cqe;
  out->max_mr_size = da.max_mr_size;
  out->max_qp_rd_atom = da.max_qp_rd_atom;
  out->max_qp_init_rd_atom = da.max_qp_init_rd_atom;
  return 0;
}

void *lv_alloc_pd(void *ctx) { return ibv_alloc_pd((struct ibv_context *)ctx); }
void lv_dealloc_pd(void *pd) { ibv_dealloc_pd((struct ibv_pd *)pd); }

void *lv_create_comp_channel(void *ctx) {
  struct ibv_comp_channel *ch = ibv_create_comp_channel((struct ibv_context *)ctx);
  if (ch) {
    int flags = fcntl(ch->fd, F_GETFL);
    fcntl(ch->fd, F_SETFL, flags | O_NONBLOCK);
  }
  return ch;
}

int lv_comp_channel_fd(void *channel) { return ((struct ibv_comp_channel *)channel)->fd; }

int lv_take_cq_event(void *channel) {
  struct ibv_cq *cq = NULL;
  void *context = NULL;
  if (ibv_get_cq_event((struct ibv_comp_channel *)channel, &cq, &context)) return 0;
  ibv_ack_cq_events(cq, 1);
  return 1;
}

void lv_destroy_comp_channel(void *channel) {
  ibv_destroy_comp_channel((struct ibv_comp_channel *)channel);
}

void *lv_create_cq(void *ctx, int depth, void *channel) {
  return ibv_create_cq((struct ibv_context *)ctx, depth, NULL, (struct ibv_comp_channel *)channel,
                       0);
}

void lv_destroy_cq(void *cq) { ibv_destroy_cq((struct ibv_cq *)cq); }

int lv_req_notify_cq(void *cq) { return ibv_req_notify_cq((struct ibv_cq *)cq, 0); }

int lv_poll_cq(void *cq, int n, lv_wc *out) {
  struct ibv_wc wc[32];
  if (n > 32) n = 32;
  int got = ibv_poll_cq((struct ibv_cq *)cq, n, wc);
  for (int i = 0; i < got; i++) {
    out[i].wr_id = wc[i].wr_id;
    out[i].status = (int32_t)wc[i].status;
    out[i].byte_len = wc[i].byte_len;
    out[i].qp_num = wc[i].qp_num;
    out[i].has_imm = (wc[i].wc_flags & IBV_WC_WITH_IMM) != 0;
    out[i].imm = out[i].has_imm ? ntohl(wc[i].imm_data) : 0;
    switch (wc[i].opcode) {
    case IBV_WC_SEND: out[i].opcode = LV_WC_SEND; break;
    case IBV_WC_RDMA_WRITE: out[i].opcode = LV_WC_RDMA_WRITE; break;
    case IBV_WC_RDMA_READ: out[i].opcode = LV_WC_RDMA_READ; break;
    case IBV_WC_RECV:
    case IBV_WC_RECV_RDMA_WITH_IMM: out[i].opcode = LV_WC_RECV; break;
    default: out[i].opcode = LV_WC_OTHER; break;
    }
  }
  return got;
}

void *lv_create_srq(void *pd, int max_wr) {
  struct ibv_srq_init_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.attr.max_wr = (uint32_t)max_wr;
  attr.attr.max_sge = 1;
  return ibv_create_srq((struct ibv_pd *)pd, &attr);
}

void lv_destroy_srq(void *srq) { ibv_destroy_srq((struct ibv_srq *)srq); }

int lv_post_srq_recv(void *srq, uint64_t wr_id, uint64_t addr, uint32_t length, uint32_t lkey) {
  struct ibv_sge sge = {.addr = addr, .length = length, .lkey = lkey};
  struct ibv_recv_wr wr, *bad = NULL;
  memset(&wr, 0, sizeof(wr));
  wr.wr_id = wr_id;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  return ibv_post_srq_recv((struct ibv_srq *)srq, &wr, &bad);
}

void *lv_create_qp(void *pd, void *send_cq, void *recv_cq, void *srq, int max_send_wr,
                   int max_recv_wr, uint32_t *qp_num) {
  struct ibv_qp_init_attr attr;
  lv_rc_qp_attr(&attr, send_cq, recv_cq, srq, max_send_wr, max_recv_wr);
  struct ibv_qp *qp = ibv_create_qp((struct ibv_pd *)pd, &attr);
  if (qp) *qp_num = qp->qp_num;
  return qp;
}

int lv_destroy_qp(void *qp) { return ibv_destroy_qp((struct ibv_qp *)qp); }

int lv_qp_to_init(void *qp, uint8_t port, int access) {
  struct ibv_qp_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.qp_state = IBV_QPS_INIT;
  attr.pkey_index = 0;
  attr.port_num = port;
  attr.qp_access_flags = 0;
  if (access & LV_ACCESS_LOCAL_WRITE) attr.qp_access_flags |= IBV_ACCESS_LOCAL_WRITE;
  if (access & LV_ACCESS_REMOTE_WRITE) attr.qp_access_flags |= IBV_ACCESS_REMOTE_WRITE;
  if (access & LV_ACCESS_REMOTE_READ) attr.qp_access_flags |= IBV_ACCESS_REMOTE_READ;
  return ibv_modify_qp((struct ibv_qp *)qp, &attr,
                       IBV_QP_STATE | IBV_QP_PKEY_INDEX | IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
}

int lv_qp_to_rtr(void *qp, uint8_t port, uint32_t remote_qpn, uint32_t remote_psn,
                 uint16_t remote_lid, const uint8_t *remote_gid, int gid_index, int use_grh,
                 int mtu, uint8_t traffic_class, uint8_t service_level) {
  struct ibv_qp_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.qp_state = IBV_QPS_RTR;
  attr.path_mtu = (enum ibv_mtu)mtu;
  attr.dest_qp_num = remote_qpn;
  attr.rq_psn = remote_psn;
  // Outstanding RDMA READs we serve and issue; 1 is enough for the transport's pulls in order.
  attr.max_dest_rd_atomic = 4;
  attr.min_rnr_timer = 0x12;
  attr.ah_attr.dlid = remote_lid;
  attr.ah_attr.sl = service_level;
  attr.ah_attr.src_path_bits = 0;
  attr.ah_attr.port_num = port;
  if (use_grh) {
    attr.ah_attr.is_global = 1;
    memcpy(attr.ah_attr.grh.dgid.raw, remote_gid, 16);
    attr.ah_attr.grh.sgid_index = (uint8_t)gid_index;
    attr.ah_attr.grh.hop_limit = 6;
    attr.ah_attr.grh.traffic_class = traffic_class;
  }
  return ibv_modify_qp((struct ibv_qp *)qp, &attr,
                       IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU | IBV_QP_DEST_QPN |
                           IBV_QP_RQ_PSN | IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
}

int lv_qp_to_rts(void *qp, uint32_t psn) {
  struct ibv_qp_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.qp_state = IBV_QPS_RTS;
  attr.timeout = 0x12;  // 4.096 us * 2^18, about 1 s per retry
  attr.retry_cnt = 7;
  attr.rnr_retry = 7;  // infinite: credits keep us from needing it
  attr.sq_psn = psn;
  attr.max_rd_atomic = 4;
  return ibv_modify_qp((struct ibv_qp *)qp, &attr,
                       IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT | IBV_QP_RNR_RETRY |
                           IBV_QP_SQ_PSN | IBV_QP_MAX_QP_RD_ATOMIC);
}

int lv_qp_to_error(void *qp) {
  struct ibv_qp_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.qp_state = IBV_QPS_ERR;
  return ibv_modify_qp((struct ibv_qp *)qp, &attr, IBV_QP_STATE);
}

int lv_qp_state(void *qp) {
  struct ibv_qp_attr attr;
  struct ibv_qp_init_attr init;
  if (ibv_query_qp((struct ibv_qp *)qp, &attr, IBV_QP_STATE, &init)) return -1;
  return (int)attr.qp_state;
}

int lv_post_send(void *qp, uint64_t wr_id, int opcode, uint64_t addr, uint32_t length,
                 uint32_t lkey, uint32_t imm, uint64_t remote_addr, uint32_t rkey, int signaled) {
  struct ibv_sge sge = {.addr = addr, .length = length, .lkey = lkey};
  struct ibv_send_wr wr, *bad = NULL;
  memset(&wr, 0, sizeof(wr));
  wr.wr_id = wr_id;
  wr.sg_list = length ? &sge : NULL;
  wr.num_sge = length ? 1 : 0;
  wr.send_flags = signaled ? IBV_SEND_SIGNALED : 0;
  switch (opcode) {
  case LV_OP_SEND: wr.opcode = IBV_WR_SEND; break;
  case LV_OP_SEND_IMM:
    wr.opcode = IBV_WR_SEND_WITH_IMM;
    wr.imm_data = htonl(imm);
    break;
  case LV_OP_RDMA_WRITE: wr.opcode = IBV_WR_RDMA_WRITE; break;
  case LV_OP_RDMA_WRITE_IMM:
    wr.opcode = IBV_WR_RDMA_WRITE_WITH_IMM;
    wr.imm_data = htonl(imm);
    break;
  case LV_OP_RDMA_READ: wr.opcode = IBV_WR_RDMA_READ; break;
  default: return EINVAL;
  }
  wr.wr.rdma.remote_addr = remote_addr;
  wr.wr.rdma.rkey = rkey;
  return ibv_post_send((struct ibv_qp *)qp, &wr, &bad);
}

int lv_post_recv(void *qp, uint64_t wr_id, uint64_t addr, uint32_t length, uint32_t lkey) {
  struct ibv_sge sge = {.addr = addr, .length = length, .lkey = lkey};
  struct ibv_recv_wr wr, *bad = NULL;
  memset(&wr, 0, sizeof(wr));
  wr.wr_id = wr_id;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  return ibv_post_recv((struct ibv_qp *)qp, &wr, &bad);
}

void *lv_reg_mr(void *pd, void *addr, size_t length, int access, uint32_t *lkey, uint32_t *rkey) {
  int flags = 0;
  if (access & LV_ACCESS_LOCAL_WRITE) flags |= IBV_ACCESS_LOCAL_WRITE;
  if (access & LV_ACCESS_REMOTE_WRITE) flags |= IBV_ACCESS_REMOTE_WRITE;
  if (access & LV_ACCESS_REMOTE_READ) flags |= IBV_ACCESS_REMOTE_READ;
  struct ibv_mr *mr = ibv_reg_mr((struct ibv_pd *)pd, addr, length, flags);
  if (mr) {
    *lkey = mr->lkey;
    *rkey = mr->rkey;
  }
  return mr;
}

int lv_dereg_mr(void *mr) { return ibv_dereg_mr((struct ibv_mr *)mr); }

int lv_fork_init(void) { return ibv_fork_init(); }

uint64_t lv_memlock_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0) return 0;
  if (rl.rlim_cur == RLIM_INFINITY) return UINT64_MAX;
  return (uint64_t)rl.rlim_cur;
}

int lv_eventfd_nonblocking(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

int lv_accept_nonblocking(int fd) { return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

int lv_async_fd(void *ctx) {
  struct ibv_context *c = ctx;
  int flags = fcntl(c->async_fd, F_GETFL);
  fcntl(c->async_fd, F_SETFL, flags | O_NONBLOCK);
  return c->async_fd;
}

int lv_take_async_event(void *ctx, int *type, uint32_t *qp_num) {
  struct ibv_async_event event;
  if (ibv_get_async_event((struct ibv_context *)ctx, &event)) return 0;
  *type = (int)event.event_type;
  *qp_num = 0;
  switch (event.event_type) {
  case IBV_EVENT_QP_FATAL:
  case IBV_EVENT_QP_REQ_ERR:
  case IBV_EVENT_QP_ACCESS_ERR:
  case IBV_EVENT_COMM_EST:
  case IBV_EVENT_SQ_DRAINED:
  case IBV_EVENT_PATH_MIG:
  case IBV_EVENT_PATH_MIG_ERR:
  case IBV_EVENT_QP_LAST_WQE_REACHED:
    *qp_num = event.element.qp->qp_num;
    break;
  default:
    break;
  }
  ibv_ack_async_event(&event);
  return 1;
}
