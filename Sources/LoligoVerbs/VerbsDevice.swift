/// The verbs a transport needs, as one interface with two implementations: `HardwareVerbs`
/// (libibverbs on an InfiniBand or RoCE device) and `SoftVerbs` (the same semantics in user
/// space between processes on one machine, for machines without RDMA hardware and for CI).
///
/// The model is the verbs model: a device hands out memory regions (keys checked on every
/// access), completion queues (optionally bound to a completion channel whose file descriptor
/// becomes readable when an armed queue gets an entry), shared receive queues and reliable
/// connected queue pairs. Work is posted to queues and finishes as a `WorkCompletion` on a
/// completion queue; errors surface as completion statuses, exactly where hardware reports them.
public protocol VerbsDevice: AnyObject, Sendable {
  /// `soft` or the hardware device's name (`mlx5_0`).
  var name: String { get }
  /// This port's address as a peer needs it to reach our queue pairs.
  var lid: UInt16 { get }
  var gid: VerbsGID { get }
  var limits: VerbsLimits { get }

  /// A file descriptor that becomes readable when the device has asynchronous events (port
  /// changes, queue pairs failed outside any work request); nil when the device has none.
  var asyncEventDescriptor: Int32? { get }
  /// Takes the pending asynchronous events.
  func takeAsyncEvents() -> [AsyncEvent]

  func registerMemory(
    _ base: UnsafeMutableRawPointer, length: Int, access: MemoryAccess
  ) throws(VerbsError) -> any MemoryRegion
  func makeCompletionChannel() throws(VerbsError) -> any CompletionChannel
  func makeCompletionQueue(
    depth: Int, channel: (any CompletionChannel)?
  ) throws(VerbsError) -> any CompletionQueue
  func makeSharedReceiveQueue(depth: Int) throws(VerbsError) -> any SharedReceiveQueue
  /// A reliable connected queue pair in the RESET state. With `srq`, receives come from it and
  /// `maxReceive` is ignored.
  func makeQueuePair(
    sendCQ: any CompletionQueue, receiveCQ: any CompletionQueue, srq: (any SharedReceiveQueue)?,
    maxSend: Int, maxReceive: Int
  ) throws(VerbsError) -> any QueuePair
}

/// The 16-byte global identifier of a port (for RoCE, derived from an IP address; for
/// soft-verbs, it names the emulated port's socket).
public struct VerbsGID: Hashable, Sendable, CustomStringConvertible {
  public var bytes: [UInt8]

  public init(_ bytes: [UInt8]) {
    precondition(bytes.count == 16)
    self.bytes = bytes
  }

  public static let zero = VerbsGID([UInt8](repeating: 0, count: 16))

  public var description: String {
    stride(from: 0, to: 16, by: 2).map { i in
      String(format: "%02x%02x", bytes[i], bytes[i + 1])
    }.joined(separator: ":")
  }
}

/// Device limits the transport sizes its queues by.
public struct VerbsLimits: Sendable {
  public var maxQueuePairWorkRequests: Int
  public var maxSharedReceiveQueueWorkRequests: Int
  public var maxCompletionQueueEntries: Int
  public var maxMemoryRegionBytes: UInt64

  public init(
    maxQueuePairWorkRequests: Int, maxSharedReceiveQueueWorkRequests: Int,
    maxCompletionQueueEntries: Int, maxMemoryRegionBytes: UInt64
  ) {
    self.maxQueuePairWorkRequests = maxQueuePairWorkRequests
    self.maxSharedReceiveQueueWorkRequests = maxSharedReceiveQueueWorkRequests
    self.maxCompletionQueueEntries = maxCompletionQueueEntries
    self.maxMemoryRegionBytes = maxMemoryRegionBytes
  }
}

public struct MemoryAccess: OptionSet, Sendable {
  public let rawValue: Int32
  public init(rawValue: Int32) { self.rawValue = rawValue }
  public static let localWrite = MemoryAccess(rawValue: 1)
  public static let remoteWrite = MemoryAccess(rawValue: 2)
  public static let remoteRead = MemoryAccess(rawValue: 4)
}

/// Registered memory: `lkey` names it in local scatter/gather entries, `rkey` lets a peer reach
/// it with RDMA WRITE/READ (when the access flags allow).
public protocol MemoryRegion: AnyObject, Sendable {
  var base: UnsafeMutableRawPointer { get }
  var length: Int { get }
  var lkey: UInt32 { get }
  var rkey: UInt32 { get }
  /// After this, both keys are invalid: any access through them fails.
  func deregister()
}

/// A scatter/gather entry: `length` bytes at `address`, inside the region named by `lkey`.
public struct ScatterGather: Sendable {
  public var address: UInt64
  public var length: UInt32
  public var lkey: UInt32

  public init(address: UInt64, length: UInt32, lkey: UInt32) {
    self.address = address
    self.length = length
    self.lkey = lkey
  }

  public init(_ pointer: UnsafeRawPointer, length: Int, lkey: UInt32) {
    self.init(address: UInt64(UInt(bitPattern: pointer)), length: UInt32(length), lkey: lkey)
  }
}

public enum SendOpcode: Int32, Sendable {
  case send = 0
  case sendWithImmediate = 1
  case rdmaWrite = 2
  case rdmaWriteWithImmediate = 3
  case rdmaRead = 4
}

public struct SendRequest: Sendable {
  public var id: UInt64
  public var opcode: SendOpcode
  /// The local buffer (nil: zero-length).
  public var local: ScatterGather?
  public var immediate: UInt32 = 0
  /// For RDMA WRITE/READ: the peer's address and key.
  public var remoteAddress: UInt64 = 0
  public var rkey: UInt32 = 0
  public var signaled = true

  public init(
    id: UInt64, opcode: SendOpcode, local: ScatterGather?, immediate: UInt32 = 0,
    remoteAddress: UInt64 = 0, rkey: UInt32 = 0, signaled: Bool = true
  ) {
    self.id = id
    self.opcode = opcode
    self.local = local
    self.immediate = immediate
    self.remoteAddress = remoteAddress
    self.rkey = rkey
    self.signaled = signaled
  }
}

/// Completion statuses, numbered as `enum ibv_wc_status`.
public enum CompletionStatus: Int32, Sendable, CustomStringConvertible {
  case success = 0
  case localLengthError = 1
  case localQPOperationError = 2
  case localProtectionError = 4
  case workRequestFlushed = 5
  case badResponse = 7
  case localAccessError = 8
  case remoteInvalidRequest = 9
  case remoteAccessError = 10
  case remoteOperationError = 11
  case retryExceeded = 12
  case receiverNotReadyRetryExceeded = 13
  case fatal = 18
  case general = 21

  public init(code: Int32) { self = CompletionStatus(rawValue: code) ?? .general }

  public var description: String {
    switch self {
    case .success: return "success"
    case .localLengthError: return "local length error"
    case .localQPOperationError: return "local QP operation error"
    case .localProtectionError: return "local protection error"
    case .workRequestFlushed: return "work request flushed"
    case .badResponse: return "bad response"
    case .localAccessError: return "local access error"
    case .remoteInvalidRequest: return "remote invalid request"
    case .remoteAccessError: return "remote access error"
    case .remoteOperationError: return "remote operation error"
    case .retryExceeded: return "transport retry counter exceeded"
    case .receiverNotReadyRetryExceeded: return "receiver-not-ready retry counter exceeded"
    case .fatal: return "fatal error"
    case .general: return "general error"
    }
  }
}

public enum CompletionOpcode: Int32, Sendable {
  case send = 0
  case rdmaWrite = 1
  case rdmaRead = 2
  case receive = 3
  case other = 9
}

public struct WorkCompletion: Sendable {
  public var id: UInt64
  public var status: CompletionStatus
  public var opcode: CompletionOpcode
  public var byteLength: UInt32
  public var immediate: UInt32?
  public var queuePairNumber: UInt32

  public init(
    id: UInt64, status: CompletionStatus, opcode: CompletionOpcode, byteLength: UInt32 = 0,
    immediate: UInt32? = nil, queuePairNumber: UInt32
  ) {
    self.id = id
    self.status = status
    self.opcode = opcode
    self.byteLength = byteLength
    self.immediate = immediate
    self.queuePairNumber = queuePairNumber
  }

  public static let empty = WorkCompletion(
    id: 0, status: .success, opcode: .other, queuePairNumber: 0)
}

/// Tells a waiting thread that an armed completion queue has entries: its `fileDescriptor`
/// becomes readable. `takeEvents` consumes (and acknowledges) what is pending.
public protocol CompletionChannel: AnyObject, Sendable {
  var fileDescriptor: Int32 { get }
  func takeEvents()
}

public protocol CompletionQueue: AnyObject, Sendable {
  /// Moves up to `into.count` completions out of the queue, oldest first.
  func poll(into: UnsafeMutableBufferPointer<WorkCompletion>) -> Int
  /// Arms the queue: the next completion signals the channel once.
  func requestNotification()
}

public protocol SharedReceiveQueue: AnyObject, Sendable {
  func postReceive(id: UInt64, _ buffer: ScatterGather) throws(VerbsError)
}

public enum QueuePairState: Int32, Sendable, CustomStringConvertible {
  case reset = 0
  case initialized = 1
  case readyToReceive = 2
  case readyToSend = 3
  case error = 6

  public var description: String {
    switch self {
    case .reset: return "RESET"
    case .initialized: return "INIT"
    case .readyToReceive: return "RTR"
    case .readyToSend: return "RTS"
    case .error: return "ERR"
    }
  }
}

/// How a peer reaches one queue pair: what the TCP side channel (or rdma_cm) exchanges.
public struct QueuePairEndpoint: Sendable, Equatable {
  public var lid: UInt16
  public var queuePairNumber: UInt32
  public var packetSequenceNumber: UInt32
  public var gid: VerbsGID

  public init(lid: UInt16, queuePairNumber: UInt32, packetSequenceNumber: UInt32, gid: VerbsGID) {
    self.lid = lid
    self.queuePairNumber = queuePairNumber
    self.packetSequenceNumber = packetSequenceNumber
    self.gid = gid
  }
}

/// A reliable connected queue pair. Sends post in RTS; receives in INIT, RTR or RTS; in the
/// error state every posted request completes with `workRequestFlushed` and does nothing.
public protocol QueuePair: AnyObject, Sendable {
  var number: UInt32 { get }
  var state: QueuePairState { get }
  /// The first packet sequence number this side sends with.
  var initialPSN: UInt32 { get }
  /// RESET -> INIT -> RTR (knowing the peer) -> RTS.
  func connect(to remote: QueuePairEndpoint) throws(VerbsError)
  /// Moves to the error state: outstanding and later requests complete as flushed.
  func moveToError()
  func postSend(_ request: SendRequest) throws(VerbsError)
  func postReceive(id: UInt64, _ buffer: ScatterGather) throws(VerbsError)
  /// Releases the queue pair. Call only after draining it (see the transport's beacon).
  func destroy()
}

/// Why a verbs call failed.
public enum VerbsError: Error, CustomStringConvertible, Equatable {
  /// No usable device: one line saying what was looked for and what to check.
  case noDevice(String)
  case memoryLockLimit(String)
  case invalidState(String)
  case resources(String)
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .noDevice(let why), .memoryLockLimit(let why), .invalidState(let why),
      .resources(let why), .invalidArgument(let why):
      return why
    }
  }
}

/// An asynchronous device event (numbered as `enum ibv_event_type`).
public struct AsyncEvent: Sendable, CustomStringConvertible {
  public var type: Int32
  /// The queue pair it concerns, or nil.
  public var queuePairNumber: UInt32?

  public init(type: Int32, queuePairNumber: UInt32?) {
    self.type = type
    self.queuePairNumber = queuePairNumber
  }

  /// The queue pair can no longer work (IBV_EVENT_QP_FATAL, _REQ_ERR, _ACCESS_ERR).
  public var isQueuePairFatal: Bool {
    queuePairNumber != nil && (type == 1 || type == 2 || type == 3)
  }

  public var description: String {
    let names: [Int32: String] = [
      0: "CQ error", 1: "QP fatal", 2: "QP request error", 3: "QP access error",
      4: "communication established", 5: "SQ drained", 6: "path migrated",
      7: "path migration error", 8: "device fatal", 9: "port active", 10: "port error",
      11: "LID change", 12: "P_Key change", 13: "SM change", 14: "SRQ error",
      15: "SRQ limit reached", 16: "QP last WQE reached", 17: "client reregister",
      18: "GID change",
    ]
    let name = names[type] ?? "event \(type)"
    return queuePairNumber.map { "\(name) on QP \($0)" } ?? name
  }
}
