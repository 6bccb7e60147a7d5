import Foundation
import LoligoCore

/// Starts the running program again in place, as Ceph's `respawn()` does: the same
/// executable and arguments, the same pid (so the pid file and `loligo cluster down` still
/// find the daemon). For a daemon whose state in memory no longer matches its disk: the new
/// image starts from the disk, as after a crash.
///
/// A daemon that has to start again several times in a row within a minute (its disk fails it
/// at once each time) stops instead of looping.
public enum Respawn {
  /// `COUNT:UNIX_TIME` of the respawns in a row, carried to the new image.
  static let variable = "LOLIGO_RESPAWN"
  public static let limit = 5
  /// A run longer than this starts the count again.
  static let window: Double = 60

  /// How many respawns in a row `value` (the variable's) says, as of `now`.
  static func count(_ value: String?, now: Double) -> Int {
    guard let parts = value?.split(separator: ":"), parts.count == 2,
      let count = Int(parts[0]), let at = Double(parts[1]), now - at < window
    else { return 0 }
    return count
  }

  /// Execs the program again; exits with status 1 when the limit is reached or exec fails.
  public static func now(_ entity: String) -> Never {
    let now = Date().timeIntervalSince1970
    let previous = count(ProcessInfo.processInfo.environment[variable], now: now)
    guard previous < limit else {
      Log.shared.error(
        "daemon", "\(entity): started again \(previous) times within \(Int(window)) s; stopping")
      exit(1)
    }
    setenv(variable, "\(previous + 1):\(now)", 1)
    Log.shared.error("daemon", "\(entity): starting again (pid \(getpid()))")
    // Descriptors the old image opened (sockets, files) must not outlive it.
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
      if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    }
    var arguments = CommandLine.arguments.map { strdup($0) }
    arguments.append(nil)
    execv("/proc/self/exe", &arguments)
    Log.shared.error(
      "daemon", "\(entity): cannot start again: \(String(cString: strerror(errno))); stopping")
    exit(1)
  }
}
