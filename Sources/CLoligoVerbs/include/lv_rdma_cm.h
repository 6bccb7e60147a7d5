// librdmacm (rdma_cm) for the hardware device, as plain functions over opaque handles.
//
// rdma_cm sets up a reliable connected queue pair by IP address: it resolves the peer's
// address and route to a device and port, exchanges the queue pair numbers and sequence numbers
// in the CM's own messages and moves the queue pair through its states. Events arrive on an
// event channel; each one is copied out (with its private data) and acknowledged here, so Swift
// never holds a librdmacm event and rdma_destroy_id never waits on one.
#ifndef CLOLIGO_RDMA_CM_H
#define CLOLIGO_RDMA_CM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Private data bytes copied out of an event. The CM pads what the peer sent to its message's
/// size (56 bytes in an InfiniBand REQ, 196 in a REP), so only a prefix is ours to read.
enum { LV_CM_PRIVATE_DATA_MAX = 64 };

/// Event numbers: the same as `enum rdma_cm_event_type` (checked in rdma_cm.c).
enum {
  LV_CM_ADDR_RESOLVED = 0,
  LV_CM_ADDR_ERROR = 1,
  LV_CM_ROUTE_RESOLVED = 2,
  LV_CM_ROUTE_ERROR = 3,
  LV_CM_CONNECT_REQUEST = 4,
  LV_CM_CONNECT_RESPONSE = 5,
  LV_CM_CONNECT_ERROR = 6,
  LV_CM_UNREACHABLE = 7,
  LV_CM_REJECTED = 8,
  LV_CM_ESTABLISHED = 9,
  LV_CM_DISCONNECTED = 10,
  LV_CM_DEVICE_REMOVAL = 11,
  LV_CM_ADDR_CHANGE = 14,
  LV_CM_TIMEWAIT_EXIT = 15,
};

/// One event, copied before it was acknowledged.
typedef struct {
  int32_t event;
  /// 0 or a negative errno; for REJECTED, the transport's reject reason.
  int32_t status;
  /// The `token` of the event's id (a new id of a CONNECT_REQUEST inherits its listener's).
  uint64_t token;
  /// For CONNECT_REQUEST: the listener's token; else 0.
  uint64_t listen_token;
  /// The event's id; for CONNECT_REQUEST a new id that must be accepted or rejected, then
  /// destroyed.
  void *id;
  /// What the peer offers for RDMA READ: reads it serves, reads it issues.
  uint8_t responder_resources;
  uint8_t initiator_depth;
  /// Bytes of `private_data` that are valid (at most LV_CM_PRIVATE_DATA_MAX).
  uint8_t private_data_len;
  uint8_t private_data[LV_CM_PRIVATE_DATA_MAX];
} lv_cm_event;

/// An event channel with a non-blocking fd; NULL with *err set (ENODEV without RDMA).
void *lv_cm_create_channel(int *err);
void lv_cm_destroy_channel(void *channel);
int lv_cm_channel_fd(void *channel);
/// Takes one event without blocking: 1 (copied into *out and acknowledged), 0 when none is
/// pending, or a negative errno.
int lv_cm_get_event(void *channel, lv_cm_event *out);

/// A connected-mode (RDMA_PS_TCP) id whose events carry `token`; NULL with *err set.
void *lv_cm_create_id(void *channel, uint64_t token, int *err);
void lv_cm_set_token(void *id, uint64_t token);
/// Destroys the id (and its queue pair, if one is still attached); 0 or an errno value.
int lv_cm_destroy_id(void *id);

/// Each returns 0 or an errno value. Addresses are a struct sockaddr of `length` bytes.
int lv_cm_resolve_addr(void *id, const void *address, uint32_t length, int timeout_ms);
int lv_cm_resolve_route(void *id, int timeout_ms);
int lv_cm_bind_listen(void *id, const void *address, uint32_t length, int backlog);
/// Copies the id's local or peer address into `out` (capacity bytes); its length, or 0.
uint32_t lv_cm_local_address(void *id, void *out, uint32_t capacity);
uint32_t lv_cm_peer_address(void *id, void *out, uint32_t capacity);

/// The device the id was resolved to: 0 if it is `context` (ours); EXDEV if it is another one
/// (its name copied into `name`); ENODEV if the id has no device yet.
int lv_cm_check_device(void *id, void *context, char *name, size_t length);

/// Creates the RC queue pair on the id with our PD, CQs and SRQ (1 SGE, no inline data);
/// rdma_cm then moves it through its states. 0 or an errno value; *qp and *qp_num on success.
int lv_cm_create_qp(void *id, void *pd, void *send_cq, void *recv_cq, void *srq, int max_send_wr,
                    int max_recv_wr, void **qp, uint32_t *qp_num);
/// Destroys the queue pair attached to the id, if any.
void lv_cm_destroy_qp(void *id);

/// Connect (client) or accept (server) with `private_data` (at most 56 bytes, what an
/// InfiniBand REQ carries), the RDMA READs we serve and issue, and infinite RNR retry.
int lv_cm_connect(void *id, const void *private_data, uint8_t length, uint8_t responder_resources,
                  uint8_t initiator_depth);
int lv_cm_accept(void *id, const void *private_data, uint8_t length, uint8_t responder_resources,
                 uint8_t initiator_depth);
int lv_cm_reject(void *id, const void *private_data, uint8_t length);
int lv_cm_disconnect(void *id);

/// Opens device `name` (NULL or "" = the first) the way librdmacm sees it: its context is the
/// one rdma_cm ids resolve to, so queue pairs created on them can use our PD and CQs. The
/// context stays open while librdmacm is loaded; do not close it. NULL with *err set.
void *lv_cm_open_device(const char *name, int *err);

#ifdef __cplusplus
}
#endif

#endif
