import Foundation

/// A trace as the export sees it: every event in time order, and the names of the processes
/// and threads that recorded them.
public struct TraceData: Sendable {
  public var events: [TraceEvent] = []
  public var threadNames: [ThreadID: String] = [:]
  /// From `lttng_ust_statedump:procname` (the executable's name, 15 characters at most).
  public var processNames: [Int32: String] = [:]
  /// What babeltrace2 said on stderr (for example how many events the tracer discarded).
  public var warnings: [String] = []

  public init() {}

  /// Builds the trace from babeltrace2 text lines (tests, and files saved from babeltrace2).
  public init<S: Sequence>(lines: S) where S.Element == String {
    var parser = BabeltraceTextParser()
    for line in lines {
      if let event = parser.parse(line) { add(event) }
    }
    threadNames = parser.threadNames
    finish()
  }

  mutating func add(_ event: TraceEvent) {
    if event.kind == .processName { processNames[event.vpid] = event.text("procname") }
    events.append(event)
  }

  /// babeltrace2 merges the streams in time order already; sorting (stable) costs little and
  /// keeps the joins right for any input.
  mutating func finish() {
    var sorted = true
    for i in events.indices.dropFirst() where events[i].time < events[i - 1].time {
      sorted = false
      break
    }
    if !sorted {
      events = events.enumerated().sorted {
        ($0.element.time, $0.offset) < ($1.element.time, $1.offset)
      }.map(\.element)
    }
  }
}

public struct TraceReadError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Reads a CTF trace through `babeltrace2`'s text output.
public enum TraceReader {
  /// `babeltrace2` on the PATH, or nil.
  public static func babeltracePath() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
      let candidate = "\(directory)/babeltrace2"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// Runs `babeltrace2 --clock-seconds --no-delta TRACE` and parses its output as it streams.
  /// A trace with no events (babeltrace2 exits 1 on an empty or half-written trace) reads as
  /// empty, with babeltrace2's message among the warnings.
  public static func read(trace: String) throws -> TraceData {
    guard let babeltrace = babeltracePath() else {
      throw TraceReadError(
        "babeltrace2 is not installed (scripts/setup.sh installs it: apt-get install babeltrace2)")
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: trace, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw TraceReadError("no trace directory \(trace)")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: babeltrace)
    process.arguments = ["--clock-seconds", "--no-delta", trace]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // stderr on its own thread, so a chatty babeltrace2 never blocks on a full pipe.
    let errorText = ErrorCollector()
    let errorThread = Thread {
      errorText.set(errors.fileHandleForReading.readDataToEndOfFile())
    }
    errorThread.start()

    var data = TraceData()
    var parser = BabeltraceTextParser()
    var pending: [UInt8] = []
    let handle = output.fileHandleForReading
    while true {
      let chunk = handle.readData(ofLength: 1 << 20)
      if chunk.isEmpty { break }
      pending.append(contentsOf: chunk)
      let consumed = pending.withUnsafeBufferPointer { buffer in
        var start = 0
        for i in 0..<buffer.count where buffer[i] == 0x0A {
          if let event = parser.parse(UnsafeBufferPointer(rebasing: buffer[start..<i])) {
            data.add(event)
          }
          start = i + 1
        }
        return start
      }
      pending.removeFirst(consumed)
    }
    if !pending.isEmpty {
      pending.withUnsafeBufferPointer {
        if let event = parser.parse($0) { data.add(event) }
      }
    }
    process.waitUntilExit()
    while !errorText.isSet { usleep(1000) }
    let stderrLines = errorText.text.split(separator: "\n").map(String.init)
    data.warnings = stderrLines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    let status = process.terminationStatus
    if status != 0 && !(status == 1 && data.events.isEmpty) {
      throw TraceReadError(
        "babeltrace2 failed on \(trace) (exit \(status)): \(stderrLines.last ?? "")")
    }
    data.threadNames = parser.threadNames
    data.finish()
    return data
  }
}

private final class ErrorCollector: @unchecked Sendable {  // `data` under `lock`
  private let lock = NSLock()
  private var data: Data?

  func set(_ value: Data) { lock.withLock { data = value } }
  var isSet: Bool { lock.withLock { data != nil } }
  var text: String { lock.withLock { String(decoding: data ?? Data(), as: UTF8.self) } }
}
