import ArgumentParser
import CLoligoSys
import Foundation
import LoligoClient
import LoligoCore
import Synchronization

/// `loligo status`: the cluster at a glance, like `ceph -s`; `--watch` (`-w`) keeps it on
/// screen, printing it again whenever it changes, until interrupted.
struct StatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Quorum, leader, map epochs, OSD counts, pools, PG states, recovery and health.",
    discussion: """
      The data section counts PGs by the state their primary OSD last reported (unknown: \\
      never reported; stale+: not reported lately), degraded and misplaced object copies, \\
      and the recovery rate, as ceph -s does.

      Examples:
        loligo status
        loligo status --format json
        loligo status --watch
      """)
  @OptionGroup var options: ClusterOptions
  @Flag(name: [.customShort("w"), .long], help: "Print it again on every change until Ctrl-C.")
  var watch = false

  func run() throws {
    guard watch else {
      return try options.emit(try options.json(["prefix": "status"]), plain: StatusText.render)
    }
    // Before any thread starts, so that the signals come to the waiting thread only.
    ToolSupport.blockTerminationSignals()
    let interrupted = Interruption()
    let client = try options.connect()
    defer { client.shutdown() }
    var last = ""
    while !interrupted.happened {
      var shown: String
      do {
        let status = try options.json(["prefix": "status"], on: client)
        shown =
          options.format == .json
          ? String(
            decoding: try JSONSerialization.data(withJSONObject: status, options: [.sortedKeys]),
            as: UTF8.self) + "\n"
          : StatusText.render(status)
      } catch {
        shown = "status: \(error)\n"
      }
      if shown != last {
        if options.format == .plain { print(Self.stamp()) }
        print(shown, terminator: "")
        loligo_flush_stdout()
        last = shown
      }
      interrupted.wait(seconds: 1)
    }
  }

  /// `--- 2026-12-07T20:43:05Z ---` above each status printed in watch mode.
  static func stamp() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return "--- \(formatter.string(from: Date())) ---"
  }
}

/// SIGINT or SIGTERM, taken on a thread of its own (they are blocked everywhere else).
final class Interruption: Sendable {
  private let flag = Mutex(false)
  private let signalled = DispatchSemaphore(value: 0)

  init() {
    let thread = Thread { [self] in
      _ = ToolSupport.waitForTermination()
      flag.withLock { $0 = true }
      signalled.signal()
    }
    thread.start()
  }

  var happened: Bool { flag.withLock { $0 } }

  /// Until interrupted or `seconds` pass.
  func wait(seconds: Double) {
    if signalled.wait(timeout: .now() + seconds) == .success { signalled.signal() }
  }
}
