import Foundation
import LoligoClient

/// Takes a recovery profile's OSD away and brings it back, as its action says: `out` marks it
/// out (it stays up, as `loligo osd out` leaves it) and in again; `kill` kills it with SIGKILL
/// and marks it down and out (as CBT's recovery_test marks OSDs down and out, without waiting
/// for the heartbeat grace), then starts it again (a memstore OSD comes back empty) and marks
/// it in.
struct RecoveryOSDAction {
  let action: Profile.RecoveryRun.Action
  let osd: Int
  let layout: ClusterLayout
  let client: MonClient

  /// Returns what was done, for the step's output.
  func takeAway() throws -> String {
    switch action {
    case .out:
      try command("osd out")
      return "osd.\(osd) marked out"
    case .kill:
      let name = "osd.\(osd)"
      guard let pid = DaemonProcess.readPid(layout.pidFile(name)), DaemonProcess.isAlive(pid)
      else { throw ProfileError("\(name) is not running: no live pid in \(layout.pidFile(name))") }
      kill(pid, SIGKILL)
      try command("osd down")
      try command("osd out")
      return "\(name) (pid \(pid)) killed, marked down and out"
    }
  }

  func bringBack() throws -> String {
    switch action {
    case .out:
      try command("osd in")
      return "osd.\(osd) marked in"
    case .kill:
      let name = "osd.\(osd)"
      let pid = try DaemonProcess.spawn(
        ClusterCommand.tool("loligo-osd"), ["--id", String(osd), "--conf", layout.confPath],
        output: layout.outputFile(name))
      try command("osd in")
      return "\(name) started again (pid \(pid)) and marked in"
    }
  }

  private func command(_ prefix: String) throws {
    let reply = try client.commandSync(["prefix": prefix, "ids": [osd]], timeout: .seconds(30))
    guard reply.result == 0 else {
      throw ProfileError("'\(prefix) \(osd)' failed: \(reply.status)")
    }
  }
}
