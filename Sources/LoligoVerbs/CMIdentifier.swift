import CLoligoVerbs
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One rdma_cm id: a listener, or one connection's end. Its events come on the channel it was
/// created on, tagged with its token. Every call is serialized with `destroy`, so a call that
/// races with the end of the connection fails cleanly instead of touching a freed id.
public final class CMID: @unchecked Sendable {  // the id under `lock`, so no call races `destroy`
  private let lock = NSLock()
  private var pointer: UnsafeMutableRawPointer?

  init(pointer: UnsafeMutableRawPointer) { self.pointer = pointer }

  /// A new id on `channel` whose events carry `token`.
  public static func create(on channel: CMEventChannel, token: UInt64) throws(VerbsError) -> CMID {
    var err: Int32 = 0
    guard let id = lv_cm_create_id(channel.channel, token, &err) else {
      throw .resources("rdma_create_id failed: \(String(cString: strerror(err)))")
    }
    return CMID(pointer: id)
  }

  /// Runs `body` on the live id; throws when it was destroyed or `body` returns an errno.
  private func call(_ what: String, _ body: (UnsafeMutableRawPointer) -> Int32) throws(VerbsError) {
    let rc: Int32 = lock.withLock {
      guard let pointer else { return EBADF }
      return body(pointer)
    }
    guard rc == 0 else {
      throw .invalidState("\(what) failed: \(errnoName(rc)) (\(String(cString: strerror(rc))))")
    }
  }

  public var isDestroyed: Bool { lock.withLock { pointer == nil } }

  /// The token later events of this id carry (a connection request's id inherits its
  /// listener's until this is called).
  public func setToken(_ token: UInt64) {
    lock.withLock { if let pointer { lv_cm_set_token(pointer, token) } }
  }

  /// `address` is a struct sockaddr of `length` bytes.
  public func resolveAddress(
    _ address: UnsafeRawPointer, length: Int, timeoutMilliseconds: Int
  ) throws(VerbsError) {
    try call("rdma_resolve_addr") {
      lv_cm_resolve_addr($0, address, UInt32(length), Int32(timeoutMilliseconds))
    }
  }

  public func resolveRoute(timeoutMilliseconds: Int) throws(VerbsError) {
    try call("rdma_resolve_route") { lv_cm_resolve_route($0, Int32(timeoutMilliseconds)) }
  }

  public func bindAndListen(
    _ address: UnsafeRawPointer, length: Int, backlog: Int
  ) throws(VerbsError) {
    try call("rdma_bind_addr/rdma_listen") {
      lv_cm_bind_listen($0, address, UInt32(length), Int32(backlog))
    }
  }

  /// The id's local or peer address as struct sockaddr bytes (empty when it has none).
  public var localAddress: [UInt8] { address(lv_cm_local_address) }
  public var peerAddress: [UInt8] { address(lv_cm_peer_address) }

  private func address(
    _ get: (UnsafeMutableRawPointer, UnsafeMutableRawPointer, UInt32) -> UInt32
  ) -> [UInt8] {
    lock.withLock {
      guard let pointer else { return [] }
      var storage = [UInt8](repeating: 0, count: 128)
      let n = storage.withUnsafeMutableBytes { get(pointer, $0.baseAddress!, 128) }
      return Array(storage.prefix(Int(n)))
    }
  }

  /// Checks that rdma_cm resolved this id to `device` (the one `ms_async_rdma_device_name`
  /// opened): our PD, CQs and pools live there, so a queue pair on another device cannot work.
  public func checkDevice(_ device: HardwareVerbs, for peer: String) throws(VerbsError) {
    let (rc, other): (Int32, String) = lock.withLock {
      guard let pointer else { return (EBADF, "") }
      var name = [CChar](repeating: 0, count: 64)
      let rc = lv_cm_check_device(pointer, device.context, &name, 64)
      let text = String(
        decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      return (rc, text)
    }
    switch rc {
    case 0:
      return
    case EXDEV:
      throw .invalidArgument(
        "rdma_cm routes \(peer) through RDMA device '\(other)', but ms_async_rdma_device_name"
          + " is '\(device.name)'; set it to '\(other)' or use an address on '\(device.name)'s"
          + " network interface (see `rdma link`)")
    default:
      throw .invalidState("rdma_cm did not resolve \(peer) to an RDMA device (\(errnoName(rc)))")
    }
  }

  /// Connect (client) or accept (server) with our private data and RDMA READ limits.
  public func connect(
    privateData: [UInt8], responderResources: UInt8, initiatorDepth: UInt8
  ) throws(VerbsError) {
    try call("rdma_connect") { id in
      privateData.withUnsafeBytes {
        lv_cm_connect(
          id, $0.baseAddress, UInt8(privateData.count), responderResources, initiatorDepth)
      }
    }
  }

  public func accept(
    privateData: [UInt8], responderResources: UInt8, initiatorDepth: UInt8
  ) throws(VerbsError) {
    try call("rdma_accept") { id in
      privateData.withUnsafeBytes {
        lv_cm_accept(
          id, $0.baseAddress, UInt8(privateData.count), responderResources, initiatorDepth)
      }
    }
  }

  public func reject(privateData: [UInt8]) throws(VerbsError) {
    try call("rdma_reject") { id in
      privateData.withUnsafeBytes { lv_cm_reject(id, $0.baseAddress, UInt8(privateData.count)) }
    }
  }

  public func disconnect() throws(VerbsError) {
    try call("rdma_disconnect") { lv_cm_disconnect($0) }
  }

  /// A reliable connected queue pair on this id with `device`'s PD and queues; rdma_cm moves
  /// it to RTS while connecting (see lv_cm_create_qp for why rdma_cm and not us).
  public func makeQueuePair(
    device: HardwareVerbs, sendCQ: any CompletionQueue, receiveCQ: any CompletionQueue,
    srq: (any SharedReceiveQueue)?, maxSend: Int, maxReceive: Int
  ) throws(VerbsError) -> any QueuePair {
    guard let send = sendCQ as? HardwareCompletionQueue,
      let receive = receiveCQ as? HardwareCompletionQueue
    else { throw .invalidArgument("completion queue of another device") }
    let shared = srq as? HardwareSharedReceiveQueue
    var qp: UnsafeMutableRawPointer?
    var number: UInt32 = 0
    let rc: Int32 = lock.withLock {
      guard let pointer else { return EBADF }
      return lv_cm_create_qp(
        pointer, device.protectionDomain, send.cq, receive.cq, shared?.srq, Int32(maxSend),
        Int32(maxReceive), &qp, &number)
    }
    guard rc == 0, let qp else {
      throw .resources(
        "rdma_create_qp failed: \(String(cString: strerror(rc))); try reducing"
          + " ms_async_rdma_send_buffers, ms_async_rdma_receive_buffers or"
          + " ms_async_rdma_buffer_size")
    }
    return HardwareQueuePair(device: device, qp: qp, number: number, connectionManager: self)
  }

  /// Destroys the queue pair attached to this id (see `HardwareQueuePair.destroy`).
  func destroyQueuePair() {
    lock.withLock { if let pointer { lv_cm_destroy_qp(pointer) } }
  }

  /// Destroys the id (sending a disconnect if still connected). Later calls fail with EBADF.
  public func destroy() {
    let id: UnsafeMutableRawPointer? = lock.withLock {
      defer { pointer = nil }
      return pointer
    }
    if let id { _ = lv_cm_destroy_id(id) }
  }
}
