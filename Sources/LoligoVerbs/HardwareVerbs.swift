import CLoligoVerbs
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The hardware device: libibverbs on an InfiniBand or RoCE port, through the C shim.
///
/// Opening it finds the device (`ms_async_rdma_device_name`, empty = the first), requires the
/// port (`ms_async_rdma_port_num`) to be ACTIVE, reads its LID and the GID at
/// `ms_async_rdma_gid_idx` (RoCE v1 or v2 is chosen by that index) and allocates one protection
/// domain. Queue pairs are reliable connected, 1 SGE, moved INIT -> RTR -> RTS with the peer's
/// LID/GID/QPN/PSN (path MTU: the port's active MTU; infinite RNR retry, 7 transport retries).
// immutable after open; libibverbs calls are thread-safe
public final class HardwareVerbs: VerbsDevice, @unchecked Sendable {
  public let name: String
  public let lid: UInt16
  public let gid: VerbsGID
  public let limits: VerbsLimits
  public let port: UInt8
  public let gidIndex: Int
  /// Ethernet (RoCE) ports need the GRH on every packet; InfiniBand ports only across subnets.
  public let isEthernet: Bool
  let mtu: Int32
  let context: UnsafeMutableRawPointer
  let protectionDomain: UnsafeMutableRawPointer
  /// False for a context librdmacm opened (it must stay open).
  let ownsContext: Bool
  /// RDMA READs a queue pair serves and issues at once, within the device's limits (what
  /// rdma_cm negotiates as responder resources and initiator depth).
  public let readsServed: UInt8
  public let readsIssued: UInt8

  /// Opens `name` (empty: the first device) or says in one line why it cannot. With
  /// `connectionManager`, the device is opened as librdmacm sees it (`rdma_get_devices`), so
  /// rdma_cm ids resolve to the same verbs context as our PD, CQs and SRQ.
  public static func open(
    name: String, port: Int, gidIndex: Int, connectionManager: Bool = false
  ) throws(VerbsError) -> HardwareVerbs {
    var err: Int32 = 0
    let count = lv_device_count(&err)
    let hint =
      "check that rdma-core and the device's kernel driver are installed and loaded, that"
      + " `ibv_devices` lists it, and RLIMIT_MEMLOCK (`ulimit -l`); --rdma-device soft runs"
      + " soft-verbs instead"
    if count < 0 {
      throw .noDevice(
        "no RDMA device \(name.isEmpty ? "" : "'\(name)' ")available: ibv_get_device_list failed"
          + " with \(errnoName(err)) (\(String(cString: strerror(err))))"
          + (err == ENOSYS ? ", this kernel has no RDMA support" : "") + "; \(hint)")
    }
    if count == 0 {
      throw .noDevice(
        "no RDMA device \(name.isEmpty ? "" : "'\(name)' ")available: the verbs device list"
          + " (ibv_get_device_list) is empty; \(hint)")
    }
    var names: [String] = []
    for index in 0..<count {
      var buffer = [CChar](repeating: 0, count: 64)
      if lv_device_name(index, &buffer, 64) == 0 {
        names.append(
          String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
      }
    }
    if !name.isEmpty && !names.contains(name) {
      throw .noDevice(
        "RDMA device '\(name)' not found; devices present: \(names.joined(separator: ", "))"
          + " (see `ibv_devices`)")
    }
    let opened = connectionManager ? lv_cm_open_device(name, &err) : lv_open_device(name, &err)
    guard let context = opened else {
      throw .noDevice(
        "cannot open RDMA device '\(name.isEmpty ? names.first ?? "" : name)':"
          + " \(String(cString: strerror(err))); check permissions on /dev/infiniband")
    }
    let deviceName = name.isEmpty ? (names.first ?? "?") : name
    var info = lv_port_info()
    let queried = lv_query_port(context, UInt8(truncatingIfNeeded: port), Int32(gidIndex), &info)
    // librdmacm's contexts stay open for the process: closing one is not ours to do.
    let close = { if !connectionManager { lv_close_device(context) } }
    guard queried == 0 else {
      close()
      throw .noDevice(
        "RDMA device '\(deviceName)' port \(port) GID index \(gidIndex):"
          + " \(String(cString: strerror(queried))) (see `ibv_devinfo -v`)")
    }
    guard info.state == 4 else {
      close()
      throw .noDevice(
        "RDMA device '\(deviceName)' port \(port) is not ACTIVE (state \(info.state));"
          + " check the link with `ibv_devinfo`")
    }
    guard let pd = lv_alloc_pd(context) else {
      close()
      throw .resources("RDMA device '\(deviceName)': cannot allocate a protection domain")
    }
    // Registered memory must not be shared with a child after fork (the daemons do not fork
    // after this point, but helpers might).
    _ = lv_fork_init()
    let gidBytes = withUnsafeBytes(of: info.gid) { Array($0) }
    return HardwareVerbs(
      name: deviceName, context: context, pd: pd, port: UInt8(truncatingIfNeeded: port),
      gidIndex: gidIndex, info: info, gid: VerbsGID(gidBytes), ownsContext: !connectionManager)
  }

  private init(
    name: String, context: UnsafeMutableRawPointer, pd: UnsafeMutableRawPointer, port: UInt8,
    gidIndex: Int, info: lv_port_info, gid: VerbsGID, ownsContext: Bool
  ) {
    self.name = name
    self.ownsContext = ownsContext
    // The transport issues and serves at most 4 READs at once per queue pair (as in RTR/RTS).
    self.readsServed = UInt8(clamping: min(4, Int(info.max_qp_rd_atom)))
    self.readsIssued = UInt8(clamping: min(4, Int(info.max_qp_init_rd_atom)))
    self.context = context
    self.protectionDomain = pd
    self.port = port
    self.gidIndex = gidIndex
    self.lid = info.lid
    self.gid = gid
    self.isEthernet = info.link_layer == 2
    self.mtu = Int32(info.active_mtu)
    self.limits = VerbsLimits(
      maxQueuePairWorkRequests: Int(info.max_qp_wr),
      maxSharedReceiveQueueWorkRequests: Int(info.max_srq_wr),
      maxCompletionQueueEntries: Int(info.max_cqe), maxMemoryRegionBytes: info.max_mr_size)
  }

  public var asyncEventDescriptor: Int32? { lv_async_fd(context) }

  public func takeAsyncEvents() -> [AsyncEvent] {
    var events: [AsyncEvent] = []
    var type: Int32 = 0
    var number: UInt32 = 0
    while events.count < 64 && lv_take_async_event(context, &type, &number) == 1 {
      events.append(AsyncEvent(type: type, queuePairNumber: number == 0 ? nil : number))
    }
    return events
  }

  public func registerMemory(
    _ base: UnsafeMutableRawPointer, length: Int, access: MemoryAccess
  ) throws(VerbsError) -> any MemoryRegion {
    var lkey: UInt32 = 0
    var rkey: UInt32 = 0
    guard let mr = lv_reg_mr(protectionDomain, base, length, access.rawValue, &lkey, &rkey) else {
      let why = String(cString: strerror(errno))
      throw .resources(
        "ibv_reg_mr of \(length) bytes failed: \(why)"
          + (errno == ENOMEM ? " (RLIMIT_MEMLOCK too small? see `ulimit -l`)" : ""))
    }
    return HardwareRegion(mr: mr, base: base, length: length, lkey: lkey, rkey: rkey)
  }

  public func makeCompletionChannel() throws(VerbsError) -> any CompletionChannel {
    guard let channel = lv_create_comp_channel(context) else {
      throw .resources("ibv_create_comp_channel failed: \(String(cString: strerror(errno)))")
    }
    return HardwareChannel(channel: channel)
  }

  public func makeCompletionQueue(
    depth: Int, channel: (any CompletionChannel)?
  ) throws(VerbsError) -> any CompletionQueue {
    var raw: UnsafeMutableRawPointer?
    if let channel {
      guard let hw = channel as? HardwareChannel else {
        throw .invalidArgument("completion channel of another device")
      }
      raw = hw.channel
    }
    guard let cq = lv_create_cq(context, Int32(depth), raw) else {
      throw .resources(
        "ibv_create_cq(\(depth)) failed: \(String(cString: strerror(errno)))")
    }
    return HardwareCompletionQueue(cq: cq)
  }

  public func makeSharedReceiveQueue(depth: Int) throws(VerbsError) -> any SharedReceiveQueue {
    guard let srq = lv_create_srq(protectionDomain, Int32(depth)) else {
      throw .resources("ibv_create_srq(\(depth)) failed: \(String(cString: strerror(errno)))")
    }
    return HardwareSharedReceiveQueue(srq: srq)
  }

  public func makeQueuePair(
    sendCQ: any CompletionQueue, receiveCQ: any CompletionQueue, srq: (any SharedReceiveQueue)?,
    maxSend: Int, maxReceive: Int
  ) throws(VerbsError) -> any QueuePair {
    guard let send = sendCQ as? HardwareCompletionQueue,
      let receive = receiveCQ as? HardwareCompletionQueue
    else { throw .invalidArgument("completion queue of another device") }
    let shared = srq as? HardwareSharedReceiveQueue
    var number: UInt32 = 0
    guard
      let qp = lv_create_qp(
        protectionDomain, send.cq, receive.cq, shared?.srq, Int32(maxSend), Int32(maxReceive),
        &number)
    else {
      throw .resources(
        "ibv_create_qp failed: \(String(cString: strerror(errno))); try reducing"
          + " ms_async_rdma_send_buffers, ms_async_rdma_receive_buffers or"
          + " ms_async_rdma_buffer_size")
    }
    return HardwareQueuePair(device: self, qp: qp, number: number)
  }

  deinit {
    lv_dealloc_pd(protectionDomain)
    if ownsContext { lv_close_device(context) }
  }
}

// `registered` under `lock`, the rest immutable
final class HardwareRegion: MemoryRegion, @unchecked Sendable {
  let mr: UnsafeMutableRawPointer
  let base: UnsafeMutableRawPointer
  let length: Int
  let lkey: UInt32
  let rkey: UInt32
  private var registered = true
  private let lock = NSLock()

  init(
    mr: UnsafeMutableRawPointer, base: UnsafeMutableRawPointer, length: Int, lkey: UInt32,
    rkey: UInt32
  ) {
    self.mr = mr
    self.base = base
    self.length = length
    self.lkey = lkey
    self.rkey = rkey
  }

  func deregister() {
    let wasRegistered = lock.withLock {
      defer { registered = false }
      return registered
    }
    if wasRegistered { _ = lv_dereg_mr(mr) }
  }

  deinit { deregister() }
}

// an immutable handle; libibverbs calls are thread-safe
final class HardwareChannel: CompletionChannel, @unchecked Sendable {
  let channel: UnsafeMutableRawPointer
  var fileDescriptor: Int32 { lv_comp_channel_fd(channel) }

  init(channel: UnsafeMutableRawPointer) { self.channel = channel }

  func takeEvents() {
    while lv_take_cq_event(channel) == 1 {}
  }
}

// an immutable handle; libibverbs calls are thread-safe
final class HardwareCompletionQueue: CompletionQueue, @unchecked Sendable {
  let cq: UnsafeMutableRawPointer

  init(cq: UnsafeMutableRawPointer) { self.cq = cq }

  func poll(into out: UnsafeMutableBufferPointer<WorkCompletion>) -> Int {
    withUnsafeTemporaryAllocation(of: lv_wc.self, capacity: 32) { raw in
      let got = Int(lv_poll_cq(cq, Int32(min(out.count, 32)), raw.baseAddress!))
      guard got > 0 else { return 0 }
      for i in 0..<got {
        let wc = raw[i]
        out[i] = WorkCompletion(
          id: wc.wr_id, status: CompletionStatus(code: wc.status),
          opcode: CompletionOpcode(rawValue: wc.opcode) ?? .other, byteLength: wc.byte_len,
          immediate: wc.has_imm != 0 ? wc.imm : nil, queuePairNumber: wc.qp_num)
      }
      return got
    }
  }

  func requestNotification() { _ = lv_req_notify_cq(cq) }
}

// an immutable handle; libibverbs calls are thread-safe
final class HardwareSharedReceiveQueue: SharedReceiveQueue, @unchecked Sendable {
  let srq: UnsafeMutableRawPointer

  init(srq: UnsafeMutableRawPointer) { self.srq = srq }

  func postReceive(id: UInt64, _ buffer: ScatterGather) throws(VerbsError) {
    let rc = lv_post_srq_recv(srq, id, buffer.address, buffer.length, buffer.lkey)
    if rc != 0 { throw .resources("ibv_post_srq_recv: \(String(cString: strerror(rc)))") }
  }
}

// immutable handles; libibverbs calls are thread-safe
final class HardwareQueuePair: QueuePair, @unchecked Sendable {
  let device: HardwareVerbs
  let qp: UnsafeMutableRawPointer
  let number: UInt32
  let initialPSN = UInt32.random(in: 0...0xFF_FFFF)
  /// The rdma_cm id the queue pair belongs to: rdma_cm connects it and it is destroyed
  /// through the id.
  let connectionManager: CMID?

  init(
    device: HardwareVerbs, qp: UnsafeMutableRawPointer, number: UInt32,
    connectionManager: CMID? = nil
  ) {
    self.device = device
    self.qp = qp
    self.number = number
    self.connectionManager = connectionManager
  }

  var state: QueuePairState { QueuePairState(rawValue: lv_qp_state(qp)) ?? .error }

  func connect(to remote: QueuePairEndpoint) throws(VerbsError) {
    guard connectionManager == nil else {
      throw .invalidState("this queue pair is connected by rdma_cm, not by endpoint")
    }
    let access = MemoryAccess([.localWrite, .remoteWrite, .remoteRead]).rawValue
    var rc = lv_qp_to_init(qp, device.port, access)
    guard rc == 0 else { throw .invalidState("QP to INIT: \(String(cString: strerror(rc)))") }
    let useGRH = device.isEthernet || remote.gid != .zero
    rc = remote.gid.bytes.withUnsafeBufferPointer {
      lv_qp_to_rtr(
        qp, device.port, remote.queuePairNumber, remote.packetSequenceNumber, remote.lid,
        $0.baseAddress, Int32(device.gidIndex), useGRH ? 1 : 0, device.mtu, 96, 3)
    }
    guard rc == 0 else { throw .invalidState("QP to RTR: \(String(cString: strerror(rc)))") }
    rc = lv_qp_to_rts(qp, initialPSN)
    guard rc == 0 else { throw .invalidState("QP to RTS: \(String(cString: strerror(rc)))") }
  }

  func moveToError() { _ = lv_qp_to_error(qp) }

  func postSend(_ request: SendRequest) throws(VerbsError) {
    let local = request.local
    let rc = lv_post_send(
      qp, request.id, request.opcode.rawValue, local?.address ?? 0, local?.length ?? 0,
      local?.lkey ?? 0, request.immediate, request.remoteAddress, request.rkey,
      request.signaled ? 1 : 0)
    if rc != 0 { throw .resources("ibv_post_send: \(String(cString: strerror(rc)))") }
  }

  func postReceive(id: UInt64, _ buffer: ScatterGather) throws(VerbsError) {
    let rc = lv_post_recv(qp, id, buffer.address, buffer.length, buffer.lkey)
    if rc != 0 { throw .resources("ibv_post_recv: \(String(cString: strerror(rc)))") }
  }

  func destroy() {
    if let connectionManager {
      connectionManager.destroyQueuePair()
    } else {
      _ = lv_destroy_qp(qp)
    }
  }
}

/// Memory the configured pools would lock, checked against RLIMIT_MEMLOCK before any is
/// registered, so a too-small limit is one clear line instead of a failed ibv_reg_mr later.
public enum MemoryLockCheck {
  public static var currentLimit: UInt64 { lv_memlock_limit() }

  public static func check(required: UInt64, limit: UInt64 = currentLimit) throws(VerbsError) {
    guard limit != UInt64.max, required > limit else { return }
    throw .memoryLockLimit(
      "RLIMIT_MEMLOCK is \(limit >> 10) KiB but the RDMA device's registered pools need"
        + " \(required >> 10) KiB (ms_async_rdma_buffer_size x (ms_async_rdma_send_buffers +"
        + " ms_async_rdma_receive_buffers)); raise it (`ulimit -l unlimited`,"
        + " LimitMEMLOCK=infinity for a systemd unit) or make the pools smaller")
  }
}

func errnoName(_ code: Int32) -> String {
  switch code {
  case ENOSYS: return "ENOSYS"
  case ENODEV: return "ENODEV"
  case ENOENT: return "ENOENT"
  case EACCES: return "EACCES"
  case EPERM: return "EPERM"
  case ENOMEM: return "ENOMEM"
  default: return "errno \(code)"
  }
}
