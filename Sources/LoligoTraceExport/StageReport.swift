import Foundation

/// The latency breakdown of an operation: named stages between two of its events, in the order
/// an op goes through them. A stage is there only when the trace has both of its events (a
/// perf-msgr run has the messenger stages, a bench against OSDs all of them).
public enum Stage: String, CaseIterable, Sendable {
  /// Objecter: submitted → sent to the primary (throttle, waiting for a map).
  case clientQueue = "client_queue"
  /// Client messenger: queued → written to the socket (encode, batching).
  case clientMsgrOut = "client_msgr_out"
  /// Client socket write → the OSD's socket read (kernel, network, the OSD's loop picking it up).
  case netToOSD = "net_to_osd"
  /// OSD messenger: read → dispatched (decode, throttle).
  case osdMsgrIn = "osd_msgr_in"
  /// OSD: received → the PG starts it.
  case osdQueue = "osd_queue"
  /// OSD: started → the local store committed the write.
  case osdStore = "osd_store"
  /// OSD: started → the last replica acknowledged.
  case osdReplication = "osd_replication"
  /// The server from dispatch to its reply being queued (everything it does for the op).
  case osdHandle = "osd_handle"
  /// OSD messenger: reply queued → written to the socket.
  case osdMsgrOut = "osd_msgr_out"
  /// OSD socket write → the client's socket read.
  case netToClient = "net_to_client"
  /// Client messenger: read → dispatched.
  case clientMsgrIn = "client_msgr_in"
  /// Client: reply dispatched → completion called.
  case clientFinish = "client_finish"
  /// First client event → last client event (submit → complete, or send → reply dispatch).
  case total

  /// The stage's span in one operation, when the trace has both ends (and they are in order).
  public func span(_ op: OperationRecord, _ messages: [MessageRecord]) -> (UInt64, UInt64)? {
    let request = op.request.map { messages[$0] }
    let reply = op.reply.map { messages[$0] }
    let pair: (UInt64?, UInt64?)
    switch self {
    case .clientQueue: pair = (op.submit, op.clientSend)
    // Recorded per batch, messages have no `send`: the Objecter's and the OSD's own events
    // mark when a message was handed to the messenger.
    case .clientMsgrOut: pair = (request?.send ?? op.clientSend, request?.write)
    case .netToOSD: pair = (request?.write, request?.read)
    case .osdMsgrIn: pair = (request?.read, request?.dispatch)
    case .osdQueue: pair = (op.osdReceive, op.osdStart)
    case .osdStore: pair = (op.osdStart, op.osdStoreCommit)
    case .osdReplication: pair = (op.osdStart, op.lastReplicaAck)
    case .osdHandle:
      pair = (request?.dispatch ?? op.osdReceive, reply?.send ?? op.osdReply)
    case .osdMsgrOut: pair = (reply?.send ?? op.osdReply, reply?.write)
    case .netToClient: pair = (reply?.write, reply?.read)
    case .clientMsgrIn: pair = (reply?.read, reply?.dispatch)
    case .clientFinish: pair = (reply?.dispatch, op.complete)
    case .total:
      pair = (op.submit ?? request?.send ?? request?.write, op.complete ?? reply?.dispatch)
    }
    guard let start = pair.0, let end = pair.1, end >= start else { return nil }
    return (start, end)
  }
}

/// Percentiles of one stage over every operation that has it.
public struct StageStatistics: Sendable {
  public var stage: String
  public var count: Int
  public var p50: UInt64
  public var p99: UInt64
  public var max: UInt64

  /// Nearest-rank percentiles (nanoseconds).
  public init(stage: String, samples: [UInt64]) {
    let sorted = samples.sorted()
    self.stage = stage
    count = sorted.count
    func rank(_ p: Double) -> UInt64 {
      guard !sorted.isEmpty else { return 0 }
      let index = Int((p * Double(sorted.count)).rounded(.up)) - 1
      return sorted[Swift.max(0, Swift.min(sorted.count - 1, index))]
    }
    p50 = rank(0.50)
    p99 = rank(0.99)
    max = sorted.last ?? 0
  }
}

public enum StageReport {
  /// Each stage's statistics over the operations, pipeline order, `total` last; then Paxos.
  public static func statistics(_ analysis: TraceAnalysis) -> [StageStatistics] {
    var samples: [Stage: [UInt64]] = [:]
    for op in analysis.operations {
      for stage in Stage.allCases {
        if let (start, end) = stage.span(op, analysis.messages) {
          samples[stage, default: []].append(end - start)
        }
      }
    }
    var rows: [StageStatistics] = []
    var paxos: [UInt64] = []
    for round in analysis.paxosRounds {
      if let begin = round.begin, let commit = round.leaderCommit, commit >= begin {
        paxos.append(commit - begin)
      }
    }
    if !paxos.isEmpty { rows.append(StageStatistics(stage: "paxos_commit", samples: paxos)) }
    for stage in Stage.allCases {
      if let values = samples[stage] {
        rows.append(StageStatistics(stage: stage.rawValue, samples: values))
      }
    }
    return rows
  }

  /// The summary `loligo trace export --format summary` prints.
  public static func summary(_ trace: TraceData, _ analysis: TraceAnalysis, path: String) -> String
  {
    var lines: [String] = []
    var providers: [String: Int] = [:]
    for event in trace.events {
      let provider = event.name.split(separator: ":").first.map(String.init) ?? event.name
      providers[provider, default: 0] += 1
    }
    let counts = providers.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
    lines.append("trace \(path): \(trace.events.count) events (\(counts.joined(separator: ", ")))")
    for warning in trace.warnings.prefix(3) { lines.append("babeltrace2: \(warning)") }
    let processes = analysis.processes.values.sorted { $0.firstEvent < $1.firstEvent }
    lines.append("processes: \(processes.map(\.label).joined(separator: ", "))")
    let complete = analysis.operations.filter { Stage.total.span($0, analysis.messages) != nil }
    lines.append(
      "operations: \(analysis.operations.count) (\(complete.count) with a first and a last event), "
        + "messages: \(analysis.messages.count), paxos rounds: \(analysis.paxosRounds.count)")
    lines.append(
      pad("stage", 18) + pad("count", 9, right: true) + pad("p50 us", 12, right: true)
        + pad("p99 us", 12, right: true) + pad("max us", 12, right: true))
    for row in statistics(analysis) {
      lines.append(
        pad(row.stage, 18) + pad("\(row.count)", 9, right: true)
          + pad(micros(row.p50), 12, right: true) + pad(micros(row.p99), 12, right: true)
          + pad(micros(row.max), 12, right: true))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// One row per operation: its identity and each stage in microseconds (empty when the trace
  /// does not have both ends of the stage).
  public static func csv(_ analysis: TraceAnalysis) -> String {
    var text =
      (["client", "tid", "object", "pg", "osd", "write", "result", "attempts"]
      + Stage.allCases.map { "\($0.rawValue)_us" }).joined(separator: ",") + "\n"
    for op in analysis.operations {
      var row = [
        "\(op.client)", "\(op.tid)", csvField(op.object), op.pg, op.osd >= 0 ? "\(op.osd)" : "",
        op.isWrite.map { $0 ? "1" : "0" } ?? "", op.result.map { "\($0)" } ?? "",
        "\(op.attempts)",
      ]
      for stage in Stage.allCases {
        if let (start, end) = stage.span(op, analysis.messages) {
          row.append(micros3(end - start))
        } else {
          row.append("")
        }
      }
      text += row.joined(separator: ",") + "\n"
    }
    return text
  }

  static func micros(_ nanoseconds: UInt64) -> String {
    let tenths = (nanoseconds + 50) / 100
    return "\(tenths / 10).\(tenths % 10)"
  }

  /// Microseconds with nanosecond precision.
  static func micros3(_ nanoseconds: UInt64) -> String {
    let fraction = String(nanoseconds % 1000)
    return "\(nanoseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
  }

  static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    guard text.count < width else { return text + " " }
    let fill = String(repeating: " ", count: width - text.count)
    return right ? fill + text : text + fill
  }

  static func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
