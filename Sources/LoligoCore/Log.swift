import CLoligoSys
import Foundation
import NIOConcurrencyHelpers

/// A small leveled log shared by a process: one line per event with a UTC timestamp, the
/// thread, the subsystem and the text; to standard error or appended to `log_file`.
/// Messages are closures, so a suppressed level costs one comparison.
// state under `lock`, but `msLevel` is read without it (a race)
public final class Log: @unchecked Sendable {
  public static let shared = Log()

  private let lock = NIOLock()
  private var handle: FileHandle = .standardError
  /// Verbosity per subsystem (`ms` ← `debug_ms`); levels above it are dropped.
  private var levels: [String: Int] = ["ms": 1]
  private var msLevel = 1
  private var sink: (@Sendable (String) -> Void)?

  public init() {}

  /// Applies `log_file` and `debug_*` from a config.
  public func configure(_ config: Config) throws {
    let path = config.string(.logFile)
    if !path.isEmpty {
      if !FileManager.default.fileExists(atPath: path) {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
          throw ConfigError.file(path, "cannot create log file")
        }
      }
      guard let file = FileHandle(forWritingAtPath: path) else {
        throw ConfigError.file(path, "cannot open log file for writing")
      }
      file.seekToEndOfFile()
      lock.withLock { handle = file }
    }
    setLevel("ms", config.int(.debugMs))
  }

  /// Also hands every written line to `sink` (tests read the log this way).
  public func setSink(_ sink: (@Sendable (String) -> Void)?) {
    lock.withLock { self.sink = sink }
  }

  public func setLevel(_ subsystem: String, _ level: Int) {
    lock.withLock {
      levels[subsystem] = level
      if subsystem == "ms" { msLevel = level }
    }
  }

  @inline(__always)
  public func enabled(_ subsystem: String, _ level: Int) -> Bool {
    if subsystem == "ms" { return level <= msLevel }
    return lock.withLock { level <= (levels[subsystem] ?? 1) }
  }

  public func log(_ subsystem: String, _ level: Int, _ message: () -> String) {
    guard enabled(subsystem, level) else { return }
    write(subsystem, level, message())
  }

  /// Always written: errors a user must see in the log.
  public func error(_ subsystem: String, _ message: String) {
    write(subsystem, -1, message)
  }

  private func write(_ subsystem: String, _ level: Int, _ text: String) {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    var tm = tm()
    var seconds = ts.tv_sec
    gmtime_r(&seconds, &tm)
    let stamp = String(
      format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
      tm.tm_hour, tm.tm_min, tm.tm_sec, Int(ts.tv_nsec / 1000))
    let line =
      "\(stamp) \(loligo_thread_id()) \(level < 0 ? "ERR" : String(level)) \(subsystem): "
      + "\(Log.oneLine(text))\n"
    let sink = lock.withLock {
      handle.write(Data(line.utf8))
      return self.sink
    }
    sink?(line)
  }
}

extension Log {
  /// `text` with control characters written as `\xNN`: messages carry names and keys a peer
  /// chose (object names, store keys), and a NUL, newline or escape sequence in them must not
  /// split a log line, forge one, or make the log a binary file to grep.
  public static func oneLine(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: isControl) else { return text }
    var out = ""
    out.reserveCapacity(text.utf8.count + 8)
    for scalar in text.unicodeScalars {
      if isControl(scalar) {
        out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
  }
}

/// Messenger log shorthand: `msLog(5) { "handshake done" }`.
@inline(__always)
public func msLog(_ level: Int, _ message: () -> String) {
  Log.shared.log("ms", level, message)
}
