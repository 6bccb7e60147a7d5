/// Writes a trace as Chrome trace-event JSON (the format Perfetto and chrome://tracing open):
///
/// - one track per process (named `procname entity (pid N)`, clients first) and per thread
///   (the thread's name and vtid);
/// - every tracepoint as an instant event on its thread, with its fields as `args`;
/// - every operation as an async span in the client's process (submit → complete, or for a
///   perf-msgr run the request's send → the reply's dispatch) and one in the OSD's process
///   (receive → reply), with the stage latencies as `args`; every Paxos round as a span on
///   the leader (begin → commit).
///
/// Times are microseconds from the first event, with nanosecond digits.
public enum ChromeTrace {
  public static func write(
    _ trace: TraceData, _ analysis: TraceAnalysis, to sink: @escaping (String) -> Void
  ) {
    var out = Output(sink: sink)
    let zero = TraceAnalysis.start(of: trace)
    out.raw("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n")

    let processes = analysis.processes.values.sorted {
      ($0.entity?.rank ?? 0, $0.firstEvent) < ($1.entity?.rank ?? 0, $1.firstEvent)
    }
    for (index, process) in processes.enumerated() {
      out.event(
        "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":\(process.vpid),\"tid\":0,"
          + "\"args\":{\"name\":\(json(process.label))}}")
      out.event(
        "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":\(process.vpid),\"tid\":0,"
          + "\"args\":{\"sort_index\":\(index)}}")
    }
    var threads = Set<ThreadID>()
    for event in trace.events { threads.insert(ThreadID(vpid: event.vpid, vtid: event.vtid)) }
    for thread in threads.sorted() {
      let name = trace.threadNames[thread].map { "\($0) (\(thread.vtid))" } ?? "\(thread.vtid)"
      out.event(
        "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":\(thread.vpid),\"tid\":\(thread.vtid),"
          + "\"args\":{\"name\":\(json(name))}}")
    }

    for event in trace.events where event.kind != .processName {
      var line = "{\"name\":\(json(shortName(event.name))),\"cat\":"
      line += json(String(event.name.prefix { $0 != ":" }))
      line += ",\"ph\":\"i\",\"s\":\"t\",\"ts\":\(micros(event.time, zero)),"
      line += "\"pid\":\(event.vpid),\"tid\":\(event.vtid),\"args\":{"
      for (i, field) in event.fields.enumerated() {
        if i > 0 { line += "," }
        line += json(field.name) + ":"
        switch field.value {
        case .int(let value): line += "\(value)"
        case .ints(let values): line += "[" + values.map(String.init).joined(separator: ",") + "]"
        case .text(let value): line += json(value)
        }
      }
      line += "}}"
      out.event(line)
    }

    for op in analysis.operations {
      let request = op.request.map { analysis.messages[$0] }
      let reply = op.reply.map { analysis.messages[$0] }
      var stages: [String] = []
      for stage in Stage.allCases {
        if let (start, end) = stage.span(op, analysis.messages) {
          stages.append("\(json(stage.rawValue + "_us")):\(micros(end, start))")
        }
      }
      var args = "\"client\":\(op.client),\"tid\":\(op.tid)"
      if !op.object.isEmpty { args += ",\"object\":\(json(op.object))" }
      if !op.pg.isEmpty { args += ",\"pg\":\(json(op.pg))" }
      if op.osd >= 0 { args += ",\"osd\":\(op.osd)" }
      if let result = op.result { args += ",\"result\":\(result)" }
      if !stages.isEmpty { args += "," + stages.joined(separator: ",") }
      let kind = op.isWrite.map { $0 ? "write" : "read" } ?? "op"
      let label = op.object.isEmpty ? "\(kind) \(op.tid)" : "\(kind) \(op.object)"
      if let (start, end) = Stage.total.span(op, analysis.messages),
        let thread = op.clientThread ?? request?.sender
      {
        out.span(
          name: label, category: "op", id: op.name, thread: thread, start: start, end: end,
          zero: zero, args: args)
      }
      let osdStart = op.osdReceive ?? request?.dispatch
      let osdEnd = op.osdReply ?? reply?.send
      if let start = osdStart, let end = osdEnd, end >= start,
        let thread = op.osdThread ?? request?.receiver
      {
        out.span(
          name: "osd \(label)", category: "osd_op", id: op.name, thread: thread, start: start,
          end: end, zero: zero, args: args)
      }
    }
    for round in analysis.paxosRounds {
      guard let begin = round.begin, let commit = round.leaderCommit, commit >= begin,
        let thread = round.thread
      else { continue }
      out.span(
        name: "paxos v\(round.version)", category: "paxos", id: "paxos:\(round.version)",
        thread: thread, start: begin, end: commit, zero: zero,
        args: "\"version\":\(round.version),\"accepts\":\(round.accepts.count)")
    }
    out.raw("\n]}\n")
    out.flush()
  }

  /// `loligo_msgr:send` → `msgr:send`.
  static func shortName(_ name: String) -> String {
    name.hasPrefix("loligo_") ? String(name.dropFirst(7)) : name
  }

  /// Microseconds from `zero`, three decimals, without floating point.
  static func micros(_ time: UInt64, _ zero: UInt64) -> String {
    let delta = time >= zero ? time - zero : 0
    let fraction = String(delta % 1000)
    return "\(delta / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
  }

  /// A JSON string literal.
  static func json(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }

  /// Buffers the JSON text and hands it to the sink in large pieces.
  private struct Output {
    let sink: (String) -> Void
    var buffer = ""
    var first = true

    init(sink: @escaping (String) -> Void) { self.sink = sink }

    mutating func raw(_ text: String) {
      buffer += text
      if buffer.utf8.count > 1 << 16 { flush() }
    }

    mutating func event(_ object: String) {
      raw(first ? object : ",\n" + object)
      first = false
    }

    mutating func span(
      name: String, category: String, id: String, thread: ThreadID, start: UInt64, end: UInt64,
      zero: UInt64, args: String
    ) {
      let common =
        "\"name\":\(ChromeTrace.json(name)),\"cat\":\"\(category)\",\"id\":\(ChromeTrace.json(id)),"
        + "\"pid\":\(thread.vpid),\"tid\":\(thread.vtid)"
      event(
        "{\(common),\"ph\":\"b\",\"ts\":\(ChromeTrace.micros(start, zero)),\"args\":{\(args)}}")
      event("{\(common),\"ph\":\"e\",\"ts\":\(ChromeTrace.micros(end, zero))}")
    }

    mutating func flush() {
      if !buffer.isEmpty { sink(buffer) }
      buffer = ""
    }
  }
}
