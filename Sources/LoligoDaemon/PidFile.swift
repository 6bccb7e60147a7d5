import Foundation

/// A daemon's pid file. Creating it fails when another live process holds it, so two copies of
/// one daemon never run on the same data; a stale file (its process gone) is replaced.
public final class PidFile: Sendable {
  public let path: String

  public init(path: String) throws(DaemonError) {
    self.path = path
    if let existing = PidFile.read(path), existing != getpid(), PidFile.isAlive(existing) {
      throw .alreadyRunning(path, existing)
    }
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty {
      try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
    guard FileManager.default.createFile(atPath: path, contents: Data("\(getpid())\n".utf8)) else {
      throw .io("cannot write pid file \(path)")
    }
  }

  /// Removes the file if it still names this process.
  public func remove() {
    if PidFile.read(path) == getpid() { try? FileManager.default.removeItem(atPath: path) }
  }

  public static func read(_ path: String) -> pid_t? {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
    return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
  }

  /// True if a process with this pid exists and is not a zombie (a killed daemon whose parent
  /// has not reaped it still answers signal 0).
  public static func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 || errno == EPERM else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return true }
    let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
    return state != "Z" && state != "X"
  }
}

public enum DaemonError: Error, Equatable, CustomStringConvertible {
  case alreadyRunning(String, pid_t)
  case io(String)
  case usage(String)
  case store(String)

  public var description: String {
    switch self {
    case .alreadyRunning(let path, let pid): return "already running as pid \(pid) (\(path))"
    case .io(let why), .usage(let why), .store(let why): return why
    }
  }
}
