import CLoligoVerbs
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// An rdma_cm event channel: where address resolution, connection requests, replies,
/// rejections and disconnects of every `CMID` created on it are reported. Its file descriptor
/// is non-blocking; `nextEvent` takes one event (already acknowledged to librdmacm).
// an immutable handle; only the rdma-cm thread takes events
public final class CMEventChannel: @unchecked Sendable {
  let channel: UnsafeMutableRawPointer
  public let fileDescriptor: Int32

  /// Opens a channel, or says in one line why rdma_cm cannot be used here.
  public static func open() throws(VerbsError) -> CMEventChannel {
    var err: Int32 = 0
    guard let channel = lv_cm_create_channel(&err) else {
      throw .noDevice(
        "rdma_cm is unavailable (ms_async_rdma_cm = true): rdma_create_event_channel failed with"
          + " \(errnoName(err)) (\(String(cString: strerror(err))))"
          + (err == ENODEV || err == ENOSYS ? ", no RDMA device or no RDMA support here" : "")
          + "; check that rdma-core (librdmacm, the rdma_ucm kernel module) is installed and"
          + " loaded, that `ibv_devices` and `rdma link` list a device whose network interface"
          + " has an IP address (RoCE, iWARP, or soft-RoCE: `rdma link add rxe0 type rxe netdev"
          + " eth0`), and RLIMIT_MEMLOCK (`ulimit -l`)")
    }
    return CMEventChannel(channel: channel)
  }

  private init(channel: UnsafeMutableRawPointer) {
    self.channel = channel
    fileDescriptor = lv_cm_channel_fd(channel)
  }

  /// The next pending event, or nil when there is none (or the channel failed: `error`).
  public func nextEvent() -> CMEvent? {
    var raw = lv_cm_event()
    let rc = lv_cm_get_event(channel, &raw)
    guard rc == 1 else {
      lastError = rc < 0 ? -rc : 0
      return nil
    }
    let length = min(Int(raw.private_data_len), Int(LV_CM_PRIVATE_DATA_MAX))
    let data = withUnsafeBytes(of: raw.private_data) { Array($0.prefix(length)) }
    let type = CMEventType(rawValue: raw.event)
    // A connection request's id is new and ours to accept or reject; other ids we already own.
    let request = type == .connectRequest ? raw.id.map { CMID(pointer: $0) } : nil
    return CMEvent(
      rawType: raw.event, status: raw.status, token: raw.token, listenToken: raw.listen_token,
      request: request, responderResources: raw.responder_resources,
      initiatorDepth: raw.initiator_depth, privateData: data)
  }

  /// The errno of the last failed `nextEvent` (0 when it only found nothing).
  public private(set) var lastError: Int32 = 0

  deinit { lv_cm_destroy_channel(channel) }
}

/// rdma_cm event types, numbered as `enum rdma_cm_event_type`.
public enum CMEventType: Int32, Sendable, CustomStringConvertible {
  case addressResolved = 0
  case addressError = 1
  case routeResolved = 2
  case routeError = 3
  case connectRequest = 4
  case connectResponse = 5
  case connectError = 6
  case unreachable = 7
  case rejected = 8
  case established = 9
  case disconnected = 10
  case deviceRemoval = 11
  case multicastJoin = 12
  case multicastError = 13
  case addressChange = 14
  case timewaitExit = 15

  public var description: String {
    switch self {
    case .addressResolved: return "ADDR_RESOLVED"
    case .addressError: return "ADDR_ERROR"
    case .routeResolved: return "ROUTE_RESOLVED"
    case .routeError: return "ROUTE_ERROR"
    case .connectRequest: return "CONNECT_REQUEST"
    case .connectResponse: return "CONNECT_RESPONSE"
    case .connectError: return "CONNECT_ERROR"
    case .unreachable: return "UNREACHABLE"
    case .rejected: return "REJECTED"
    case .established: return "ESTABLISHED"
    case .disconnected: return "DISCONNECTED"
    case .deviceRemoval: return "DEVICE_REMOVAL"
    case .multicastJoin: return "MULTICAST_JOIN"
    case .multicastError: return "MULTICAST_ERROR"
    case .addressChange: return "ADDR_CHANGE"
    case .timewaitExit: return "TIMEWAIT_EXIT"
    }
  }
}

/// One rdma_cm event, copied out of librdmacm before it was acknowledged.
public struct CMEvent: Sendable {
  public var rawType: Int32
  public var type: CMEventType? { CMEventType(rawValue: rawType) }
  /// 0 or a negative errno; for REJECTED, the transport's reject reason.
  public var status: Int32
  /// The token of the id the event is about (see `CMID.create`).
  public var token: UInt64
  /// For a connection request: the listener's token.
  public var listenToken: UInt64
  /// For a connection request: the new id, to be accepted or rejected, then destroyed.
  public var request: CMID?
  /// What the peer offers for RDMA READ: reads it serves and reads it issues.
  public var responderResources: UInt8
  public var initiatorDepth: UInt8
  /// The peer's private data (a prefix: the CM pads it to its message size). Hostile input.
  public var privateData: [UInt8]

  public init(
    rawType: Int32, status: Int32 = 0, token: UInt64 = 0, listenToken: UInt64 = 0,
    request: CMID? = nil, responderResources: UInt8 = 0, initiatorDepth: UInt8 = 0,
    privateData: [UInt8] = []
  ) {
    self.rawType = rawType
    self.status = status
    self.token = token
    self.listenToken = listenToken
    self.request = request
    self.responderResources = responderResources
    self.initiatorDepth = initiatorDepth
    self.privateData = privateData
  }

  public init(_ type: CMEventType, status: Int32 = 0, privateData: [UInt8] = []) {
    self.init(rawType: type.rawValue, status: status, privateData: privateData)
  }

  public var typeName: String { type?.description ?? "event \(rawType)" }
}
