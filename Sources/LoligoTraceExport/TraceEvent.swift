/// One recorded event as babeltrace2 prints it: when, what, which process and thread, and its
/// payload fields.
public struct TraceEvent: Sendable {
  /// Nanoseconds since the epoch (the trace clock, the same for every process on one host).
  public var time: UInt64
  public var kind: EventKind
  /// The full name, `provider:event`.
  public var name: String
  public var vpid: Int32
  public var vtid: Int32
  public var fields: [TraceField]

  public init(
    time: UInt64, name: String, vpid: Int32, vtid: Int32, fields: [TraceField]
  ) {
    self.time = time
    self.name = name
    self.kind = EventKind(rawValue: name) ?? .other
    self.vpid = vpid
    self.vtid = vtid
    self.fields = fields
  }

  /// An integer field (0 when absent or not an integer).
  public func int(_ key: String) -> Int64 {
    for field in fields where field.name == key {
      if case .int(let value) = field.value { return value }
    }
    return 0
  }

  public func has(_ key: String) -> Bool { fields.contains { $0.name == key } }

  /// An integer sequence field (empty when absent or not one).
  public func ints(_ key: String) -> [Int64] {
    for field in fields where field.name == key {
      if case .ints(let values) = field.value { return values }
    }
    return []
  }

  /// A string field ("" when absent).
  public func text(_ key: String) -> String {
    for field in fields where field.name == key {
      if case .text(let value) = field.value { return value }
    }
    return ""
  }
}

public struct TraceField: Sendable, Equatable {
  public enum Value: Sendable, Equatable {
    case int(Int64)
    /// An array or sequence of integers (`[ [0] = 1, [1] = 2 ]`).
    case ints([Int64])
    case text(String)
  }

  public var name: String
  public var value: Value

  public init(_ name: String, _ value: Value) {
    self.name = name
    self.value = value
  }
}

/// The events the export understands; everything else is `.other` (kept in the Chrome trace,
/// ignored by the joins).
public enum EventKind: String, Sendable, CaseIterable {
  case msgrSessionReady = "loligo_msgr:session_ready"
  case msgrSend = "loligo_msgr:send"
  case msgrEncode = "loligo_msgr:encode"
  case msgrWrite = "loligo_msgr:write"
  case msgrRead = "loligo_msgr:read"
  case msgrDecode = "loligo_msgr:decode"
  case msgrDispatch = "loligo_msgr:dispatch"
  case msgrReceived = "loligo_msgr:received"
  case clientSubmit = "loligo_client:op_submit"
  case clientSend = "loligo_client:op_send"
  case clientReply = "loligo_client:op_reply"
  case clientComplete = "loligo_client:op_complete"
  case osdReceive = "loligo_osd:op_receive"
  case osdQueue = "loligo_osd:op_queue"
  case osdStart = "loligo_osd:op_start"
  case osdReplicaSend = "loligo_osd:op_replica_send"
  case osdReplicaAck = "loligo_osd:op_replica_ack"
  case osdStoreCommit = "loligo_osd:op_store_commit"
  case osdRepopStart = "loligo_osd:repop_start"
  case osdReply = "loligo_osd:op_reply"
  case paxosBegin = "loligo_mon:paxos_begin"
  case paxosAccept = "loligo_mon:paxos_accept"
  case paxosCommit = "loligo_mon:paxos_commit"
  /// lttng-ust's own statedump: the process name, recorded once per process and session.
  case processName = "lttng_ust_statedump:procname"
  case other = ""
}
