// See lv_rdma_cm.h. Each function is one librdmacm call with its structs filled in here.
#define _GNU_SOURCE
#include "qp_attr.h"
#include "lv_rdma_cm.h"

#include <errno.h>
#include <fcntl.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
#include <string.h>
#include <sys/socket.h>

// Swift mirrors these numbers; a librdmacm that renumbered them must not build.
_Static_assert(LV_CM_ADDR_RESOLVED == RDMA_CM_EVENT_ADDR_RESOLVED, "rdma_cm event numbers");
_Static_assert(LV_CM_CONNECT_REQUEST == RDMA_CM_EVENT_CONNECT_REQUEST, "rdma_cm event numbers");
_Static_assert(LV_CM_REJECTED == RDMA_CM_EVENT_REJECTED, "rdma_cm event numbers");
_Static_assert(LV_CM_ESTABLISHED == RDMA_CM_EVENT_ESTABLISHED, "rdma_cm event numbers");
_Static_assert(LV_CM_DISCONNECTED == RDMA_CM_EVENT_DISCONNECTED, "rdma_cm event numbers");
_Static_assert(LV_CM_TIMEWAIT_EXIT == RDMA_CM_EVENT_TIMEWAIT_EXIT, "rdma_cm event numbers");

// What an InfiniBand REQ can carry after rdma_cm's own header; iWARP and REP allow more.
enum { LV_CM_CONNECT_PRIVATE_MAX = 56 };

static int lv_errno(void) { return errno ? errno : EIO; }

void *lv_cm_create_channel(int *err) {
  errno = 0;
  struct rdma_event_channel *ch = rdma_create_event_channel();
  if (ch == NULL) {
    *err = errno ? errno : ENODEV;
    return NULL;
  }
  // Events are taken by a poll() loop, never by a blocking read.
  int flags = fcntl(ch->fd, F_GETFL);
  if (flags < 0 || fcntl(ch->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    *err = lv_errno();
    rdma_destroy_event_channel(ch);
    return NULL;
  }
  *err = 0;
  return ch;
}

void lv_cm_destroy_channel(void *channel) {
  rdma_destroy_event_channel((struct rdma_event_channel *)channel);
}

int lv_cm_channel_fd(void *channel) { return ((struct rdma_event_channel *)channel)->fd; }

int lv_cm_get_event(void *channel, lv_cm_event *out) {
  struct rdma_cm_event *event = NULL;
  memset(out, 0, sizeof(*out));
  if (rdma_get_cm_event((struct rdma_event_channel *)channel, &event)) {
    int e = lv_errno();
    return (e == EAGAIN || e == EWOULDBLOCK) ? 0 : -e;
  }
  out->event = (int32_t)event->event;
  out->status = event->status;
  out->id = event->id;
  out->token = event->id ? (uint64_t)(uintptr_t)event->id->context : 0;
  out->listen_token = event->listen_id ? (uint64_t)(uintptr_t)event->listen_id->context : 0;
  // Connection events carry the peer's parameters; the private data pointer dies with the ack.
  switch (event->event) {
  case RDMA_CM_EVENT_CONNECT_REQUEST:
  case RDMA_CM_EVENT_ESTABLISHED:
  case RDMA_CM_EVENT_REJECTED:
  case RDMA_CM_EVENT_CONNECT_RESPONSE: {
    const struct rdma_conn_param *p = &event->param.conn;
    out->responder_resources = p->responder_resources;
    out->initiator_depth = p->initiator_depth;
    uint8_t n = p->private_data_len;
    if (p->private_data == NULL) n = 0;
    if (n > LV_CM_PRIVATE_DATA_MAX) n = LV_CM_PRIVATE_DATA_MAX;
    if (n > 0) memcpy(out->private_data, p->private_data, n);
    out->private_data_len = n;
    break;
  }
  default:
    break;
  }
  rdma_ack_cm_event(event);
  return 1;
}

void *lv_cm_create_id(void *channel, uint64_t token, int *err) {
  struct rdma_cm_id *id = NULL;
  errno = 0;
  if (rdma_create_id((struct rdma_event_channel *)channel, &id, (void *)(uintptr_t)token,
                     RDMA_PS_TCP)) {
    *err = lv_errno();
    return NULL;
  }
  *err = 0;
  return id;
}

void lv_cm_set_token(void *id, uint64_t token) {
  ((struct rdma_cm_id *)id)->context = (void *)(uintptr_t)token;
}

int lv_cm_destroy_id(void *id) {
  struct rdma_cm_id *cm = id;
  if (cm->qp) rdma_destroy_qp(cm);
  return rdma_destroy_id(cm) ? lv_errno() : 0;
}

int lv_cm_resolve_addr(void *id, const void *address, uint32_t length, int timeout_ms) {
  if (length < sizeof(struct sockaddr)) return EINVAL;
  errno = 0;
  if (rdma_resolve_addr((struct rdma_cm_id *)id, NULL, (struct sockaddr *)address, timeout_ms))
    return lv_errno();
  return 0;
}

int lv_cm_resolve_route(void *id, int timeout_ms) {
  errno = 0;
  return rdma_resolve_route((struct rdma_cm_id *)id, timeout_ms) ? lv_errno() : 0;
}

int lv_cm_bind_listen(void *id, const void *address, uint32_t length, int backlog) {
  if (length < sizeof(struct sockaddr)) return EINVAL;
  errno = 0;
  if (rdma_bind_addr((struct rdma_cm_id *)id, (struct sockaddr *)address)) return lv_errno();
  if (rdma_listen((struct rdma_cm_id *)id, backlog)) return lv_errno();
  return 0;
}

static uint32_t lv_copy_address(const struct sockaddr *sa, void *out, uint32_t capacity) {
  uint32_t n = 0;
  if (sa == NULL) return 0;
  if (sa->sa_family == AF_INET) n = sizeof(struct sockaddr_in);
  if (sa->sa_family == AF_INET6) n = sizeof(struct sockaddr_in6);
  if (n == 0 || n > capacity) return 0;
  memcpy(out, sa, n);
  return n;
}

uint32_t lv_cm_local_address(void *id, void *out, uint32_t capacity) {
  return lv_copy_address(rdma_get_local_addr((struct rdma_cm_id *)id), out, capacity);
}

uint32_t lv_cm_peer_address(void *id, void *out, uint32_t capacity) {
  return lv_copy_address(rdma_get_peer_addr((struct rdma_cm_id *)id), out, capacity);
}

int lv_cm_check_device(void *id, void *context, char *name, size_t length) {
  struct rdma_cm_id *cm = id;
  if (length > 0) name[0] = 0;
  if (cm->verbs == NULL) return ENODEV;
  if (cm->verbs == (struct ibv_context *)context) return 0;
  if (length > 0) {
    strncpy(name, ibv_get_device_name(cm->verbs->device), length - 1);
    name[length - 1] = 0;
  }
  return EXDEV;
}

// rdma_create_qp rather than ibv_create_qp + rdma_init_qp_attr: with the queue pair attached to
// the id, librdmacm moves it INIT -> RTR -> RTS itself at the right moments (RTR/RTS before the
// REP on the server, on the REP on the client), with the path, PSNs and MTU the CM negotiated,
// and on iWARP the kernel must own those transitions anyway. Doing them by hand would repeat
// that state machine for no gain. It needs our PD to be on the id's verbs context, which is why
// the device is opened through rdma_get_devices (lv_cm_open_device).
int lv_cm_create_qp(void *id, void *pd, void *send_cq, void *recv_cq, void *srq, int max_send_wr,
                    int max_recv_wr, void **qp, uint32_t *qp_num) {
  struct rdma_cm_id *cm = id;
  struct ibv_qp_init_attr attr;
  lv_rc_qp_attr(&attr, send_cq, recv_cq, srq, max_send_wr, max_recv_wr);
  errno = 0;
  if (rdma_create_qp(cm, (struct ibv_pd *)pd, &attr)) return lv_errno();
  *qp = cm->qp;
  *qp_num = cm->qp->qp_num;
  return 0;
}

void lv_cm_destroy_qp(void *id) {
  struct rdma_cm_id *cm = id;
  if (cm->qp) rdma_destroy_qp(cm);
}

static void lv_conn_param(struct rdma_conn_param *p, const void *private_data, uint8_t length,
                          uint8_t responder_resources, uint8_t initiator_depth) {
  memset(p, 0, sizeof(*p));
  p->private_data = private_data;
  p->private_data_len = length;
  p->responder_resources = responder_resources;
  p->initiator_depth = initiator_depth;
  p->retry_count = 7;
  // Infinite: credits keep the receiver from ever being not ready.
  p->rnr_retry_count = 7;
}

int lv_cm_connect(void *id, const void *private_data, uint8_t length, uint8_t responder_resources,
                  uint8_t initiator_depth) {
  if (length > LV_CM_CONNECT_PRIVATE_MAX) return EINVAL;
  struct rdma_conn_param p;
  lv_conn_param(&p, private_data, length, responder_resources, initiator_depth);
  errno = 0;
  return rdma_connect((struct rdma_cm_id *)id, &p) ? lv_errno() : 0;
}

int lv_cm_accept(void *id, const void *private_data, uint8_t length, uint8_t responder_resources,
                 uint8_t initiator_depth) {
  if (length > LV_CM_CONNECT_PRIVATE_MAX) return EINVAL;
  struct rdma_conn_param p;
  lv_conn_param(&p, private_data, length, responder_resources, initiator_depth);
  errno = 0;
  return rdma_accept((struct rdma_cm_id *)id, &p) ? lv_errno() : 0;
}

int lv_cm_reject(void *id, const void *private_data, uint8_t length) {
  if (length > LV_CM_CONNECT_PRIVATE_MAX) return EINVAL;
  errno = 0;
  return rdma_reject((struct rdma_cm_id *)id, private_data, length) ? lv_errno() : 0;
}

int lv_cm_disconnect(void *id) {
  errno = 0;
  return rdma_disconnect((struct rdma_cm_id *)id) ? lv_errno() : 0;
}

void *lv_cm_open_device(const char *name, int *err) {
  int n = 0;
  errno = 0;
  struct ibv_context **list = rdma_get_devices(&n);
  if (list == NULL) {
    *err = errno ? errno : ENODEV;
    return NULL;
  }
  struct ibv_context *found = NULL;
  for (int i = 0; i < n; i++) {
    if (name == NULL || name[0] == 0 || strcmp(ibv_get_device_name(list[i]->device), name) == 0) {
      found = list[i];
      break;
    }
  }
  // Frees the array only: librdmacm keeps the contexts open.
  rdma_free_devices(list);
  *err = found ? 0 : ENODEV;
  return found;
}
