import Foundation

/// rados bench's status thread: a row at the start and one per second after it until the run
/// is done. Rows are due at whole seconds from the start (rados sleeps one second after each
/// row, so its rows drift by the time a row takes); a late row is printed at once.
final class RadosBenchReporter: @unchecked Sendable {
  private let clock: any RadosBenchClock
  private let start: UInt64
  private let presenter: RadosBenchPresenter
  private let localTime: @Sendable () -> String
  private let snapshot: @Sendable () -> RadosBenchSnapshot
  /// Signalled once, when the run is over. Waiting on it with a `DispatchTime` timeout keeps
  /// the wait on the monotonic clock, so a change of the wall clock cannot stretch a second.
  private let stopped = DispatchSemaphore(value: 0)
  /// Touched by one thread at a time: the reporter thread until `finish` has joined it.
  private var table: RadosBenchTable
  private var nextSecond = 1
  private let exited = DispatchSemaphore(value: 0)
  private var threadStarted = false

  init(
    opSize: UInt64, clock: any RadosBenchClock, start: UInt64, presenter: RadosBenchPresenter,
    localTime: @escaping @Sendable () -> String,
    snapshot: @escaping @Sendable () -> RadosBenchSnapshot
  ) {
    table = RadosBenchTable(opSize: opSize)
    self.clock = clock
    self.start = start
    self.presenter = presenter
    self.localTime = localTime
    self.snapshot = snapshot
  }

  /// Prints row 0 now; with `.thread`, starts the thread for the later rows.
  func begin(_ reporting: RadosBenchEnvironment.Reporting) {
    tick(0)
    guard reporting == .thread else { return }
    threadStarted = true
    let thread = Thread { [self] in
      run()
      exited.signal()
    }
    thread.name = "bench_stat"
    thread.start()
  }

  /// `.inline` reporting: prints every row due by now.
  func poll() {
    while clock.now() >= deadline(of: nextSecond) {
      tick(nextSecond)
      nextSecond += 1
    }
  }

  /// Stops the rows (the row due after the run's end is not printed, as in rados) and returns
  /// the table with its samples.
  func finish() -> RadosBenchTable {
    stopped.signal()
    if threadStarted { exited.wait() }
    return table
  }

  private func deadline(of second: Int) -> UInt64 {
    start + UInt64(second) * 1_000_000_000
  }

  private func run() {
    while true {
      let due = deadline(of: nextSecond)
      let now = clock.now()
      if now < due {
        let wait = DispatchTime.now() + .nanoseconds(Int(clamping: due - now))
        if stopped.wait(timeout: wait) == .success { return }
        continue
      }
      tick(nextSecond)
      nextSecond += 1
    }
  }

  private func tick(_ second: Int) {
    let counters = snapshot()
    let elapsed = Double(clock.now() &- start) / 1e9
    let row = table.record(
      sec: second, snapshot: counters, elapsedSeconds: elapsed, time: localTime())
    presenter.row(row)
  }
}
