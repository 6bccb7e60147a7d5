/* The one shape of queue pair Loligo creates (reliable connected, one scatter entry each way,
 * receives from the SRQ when there is one), shared by ibv_create_qp and rdma_create_qp. */
#ifndef LOLIGO_QP_ATTR_H
#define LOLIGO_QP_ATTR_H

#include <infiniband/verbs.h>
#include <string.h>

static inline void lv_rc_qp_attr(struct ibv_qp_init_attr *attr, void *send_cq, void *recv_cq,
                                 void *srq, int max_send_wr, int max_recv_wr) {
  memset(attr, 0, sizeof(*attr));
  attr->send_cq = send_cq;
  attr->recv_cq = recv_cq;
  attr->srq = srq;
  attr->qp_type = IBV_QPT_RC;
  attr->cap.max_send_wr = (uint32_t)max_send_wr;
  attr->cap.max_recv_wr = srq ? 0 : (uint32_t)max_recv_wr;
  attr->cap.max_send_sge = 1;
  attr->cap.max_recv_sge = 1;
}

#endif
