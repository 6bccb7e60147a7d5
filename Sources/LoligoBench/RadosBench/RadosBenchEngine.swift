import Foundation
import NIOCore

/// The op loop of rados bench: keeps `concurrency` ops in flight (one per slot), issues the
/// next op in a slot as soon as its previous op completes, until the time is up (or, for
/// `seq`, every written op is read, or, for `write`, the `--max-objects` cap is reached), then
/// drains. Op N addresses object `N / writesPerObject` at offset `opSize * (N % writesPerObject)`.
///
/// Latency is taken in the completion itself, not when the loop gets round to the slot (rados
/// measured the time until its loop noticed, ceph/ceph#32928). Counters are updated in the
/// completion too, so the per-second table sees them at once; read data is verified on the
/// loop's thread, off the I/O threads. The first failed op stops the run.
final class RadosBenchEngine: @unchecked Sendable {
  struct Plan: Sendable {
    var mode: RadosBenchMode
    var opSize: UInt64
    var writesPerObject: UInt64
    var concurrency: Int
    var seconds: Int
    /// Most ops to issue (seq: what write left; write: the `--max-objects` cap); nil: no cap.
    var opLimit: UInt64?
    /// rand draws op numbers from `0..<indexSpace`.
    var indexSpace: UInt64
    var pid: Int32
    var verify: Bool
  }

  struct Outcome {
    var nanoseconds: UInt64
    var started: UInt64
    var finished: UInt64
    var latency: RadosBenchLatencyStats
    var table: RadosBenchTable
    var mismatches: Int
    /// The first failure, e.g. `read benchmark_data_h_1_object3 got (2) No such file...`.
    var failure: String?
    /// The failure was an operation that got no answer in time: the cluster is not serving.
    var failureTimedOut = false
  }

  private struct Completion {
    var slot: Int
    var index: UInt64
    var object: String
    var failure: ObjectIOError?
    var data: ByteBuffer?
    /// The received bytes' crc as the transport checked it (reads; nil with crcs off).
    var crc: UInt32?
  }

  private let io: any ObjectIO
  private let plan: Plan
  private let environment: RadosBenchEnvironment
  private let presenter: RadosBenchPresenter
  private let payload: RadosBenchPayload
  private let allocator = ByteBufferAllocator()
  /// `benchmark_data_<host>_<pid>_object`, formed once rather than for every op.
  private let objectPrefix: String

  private let condition = NSCondition()
  // Guarded by `condition` (written by completions and the loop, read by the reporter).
  private var started: UInt64 = 0
  private var finished: UInt64 = 0
  private var inFlight = 0
  private var latency = RadosBenchLatencyStats()
  private var ready: [Completion] = []

  /// Completions issue the next ops themselves (real runs); guarded by `condition` then.
  private var directIssue = false
  private var stop: UInt64 = 0

  // The loop's thread only (or under `condition` when `directIssue`).
  private var slotBuffers: [ByteBuffer?]
  private var random: RadosBenchRandom
  private var mismatches = 0
  private var failure: String?
  private var failureTimedOut = false

  init(
    io: any ObjectIO, plan: Plan, naming: RadosBenchNaming, environment: RadosBenchEnvironment,
    presenter: RadosBenchPresenter
  ) {
    self.io = io
    self.plan = plan
    self.environment = environment
    self.presenter = presenter
    payload = RadosBenchPayload(opSize: Int(plan.opSize))
    objectPrefix = naming.prefix(pid: plan.pid) + "_object"
    slotBuffers = Array(repeating: nil, count: plan.concurrency)
    random = RadosBenchRandom(seed: environment.randomSeed)
  }

  func run() -> Outcome {
    let clock = environment.clock
    let start = clock.now()
    let reporter = RadosBenchReporter(
      opSize: plan.opSize, clock: clock, start: start, presenter: presenter,
      localTime: environment.localTime, snapshot: { [self] in snapshot() })
    reporter.begin(environment.reporting)
    let stop = start + UInt64(max(plan.seconds, 0)) * 1_000_000_000
    let initial = min(UInt64(plan.concurrency), plan.opLimit ?? UInt64.max)
    if environment.issueFromCompletions {
      // Real runs: each completion issues its slot's next op itself, on the I/O thread, so an
      // op costs no hand-off to this thread and back; this thread only waits for the drain.
      self.stop = stop
      directIssue = true
      condition.lock()
      let window = Int(initial)
      condition.unlock()
      for slot in 0..<window { issueLocked(slot: slot, lockHeld: false) }
      condition.lock()
      while inFlight > 0 { condition.wait() }
      condition.unlock()
    } else {
      for slot in 0..<Int(initial) { issue(slot: slot) }
    }
    while !directIssue {
      if environment.reporting == .inline { reporter.poll() }
      condition.lock()
      while ready.isEmpty && inFlight > 0 { condition.wait() }
      if ready.isEmpty {
        condition.unlock()
        break
      }
      let batch = ready
      ready.removeAll(keepingCapacity: true)
      condition.unlock()
      for completion in batch {
        handle(completion)
        if failure == nil && mayIssue(stop: stop) { issue(slot: completion.slot) }
      }
    }
    let end = clock.now()
    let table = reporter.finish()
    condition.lock()
    defer { condition.unlock() }
    return Outcome(
      nanoseconds: end &- start, started: started, finished: finished, latency: latency,
      table: table, mismatches: mismatches, failure: failure, failureTimedOut: failureTimedOut)
  }

  private func snapshot() -> RadosBenchSnapshot {
    condition.lock()
    defer { condition.unlock() }
    var counters = RadosBenchSnapshot()
    counters.started = started
    counters.finished = finished
    counters.inFlight = inFlight
    counters.lastLatency = latency.last
    counters.avgLatency = latency.mean
    counters.minLatency = latency.min
    counters.maxLatency = latency.max
    counters.secondLatency = latency.takeSecond()
    return counters
  }

  private func mayIssue(stop: UInt64) -> Bool {
    // rados: `while (seconds && now < stop)`, so 0 seconds runs only the first window.
    guard plan.seconds > 0, environment.clock.now() < stop else { return false }
    if let limit = plan.opLimit, started >= limit { return false }
    return true
  }

  private func issue(slot: Int) {
    // `started` is written only on this thread, so reading it here needs no lock.
    let index = plan.mode == .rand ? random.next() % plan.indexSpace : started
    let object = objectPrefix + String(index / plan.writesPerObject)
    let offset = plan.opSize * (index % plan.writesPerObject)
    condition.lock()
    started += 1
    inFlight += 1
    condition.unlock()
    let clock = environment.clock
    switch plan.mode {
    case .write:
      var buffer: ByteBuffer
      let crc: UInt32
      if let reused = slotBuffers[slot] {
        // Drop the slot's reference first so the stamp copies only if the I/O still holds it.
        slotBuffers[slot] = nil
        buffer = reused
        crc = payload.stamp(&buffer, for: index)
      } else {
        buffer = payload.make(for: index, allocator: allocator)
        crc = payload.crc(for: index)
      }
      slotBuffers[slot] = buffer
      let issued = clock.now()
      io.write(object, offset: offset, data: buffer, crc: crc) {
        [self] result in
        let done = clock.now()
        complete(
          Completion(slot: slot, index: index, object: object, failure: result.failure),
          nanoseconds: done &- issued)
      }
    case .seq, .rand:
      let issued = clock.now()
      io.readWithCRC(object, offset: offset, length: plan.opSize) { [self] result in
        let done = clock.now()
        var completion = Completion(slot: slot, index: index, object: object)
        switch result {
        case .success(let read): (completion.data, completion.crc) = read
        case .failure(let error): completion.failure = error
        }
        complete(completion, nanoseconds: done &- issued)
      }
    }
  }

  /// The direct path's issue: picks the op under the lock, starts it outside.
  private func issueLocked(slot: Int, lockHeld: Bool) {
    if !lockHeld { condition.lock() }
    let index = plan.mode == .rand ? random.next() % plan.indexSpace : started
    started += 1
    inFlight += 1
    var buffer: ByteBuffer?
    var crc: UInt32 = 0
    if plan.mode == .write {
      if var reused = slotBuffers[slot] {
        slotBuffers[slot] = nil
        crc = payload.stamp(&reused, for: index)
        buffer = reused
      } else {
        buffer = payload.make(for: index, allocator: allocator)
        crc = payload.crc(for: index)
      }
      slotBuffers[slot] = buffer
    }
    condition.unlock()
    let object = objectPrefix + String(index / plan.writesPerObject)
    let offset = plan.opSize * (index % plan.writesPerObject)
    let clock = environment.clock
    let issued = clock.now()
    if let buffer {
      io.write(object, offset: offset, data: buffer, crc: crc) {
        [self] result in
        finishDirect(
          Completion(slot: slot, index: index, object: object, failure: result.failure),
          nanoseconds: clock.now() &- issued)
      }
    } else {
      io.readWithCRC(object, offset: offset, length: plan.opSize) { [self] result in
        let done = clock.now()
        var completion = Completion(slot: slot, index: index, object: object)
        switch result {
        case .success(let read): (completion.data, completion.crc) = read
        case .failure(let error): completion.failure = error
        }
        finishDirect(completion, nanoseconds: done &- issued)
      }
    }
  }

  /// The direct path's completion: counts it, verifies it, issues the slot's next op.
  private func finishDirect(_ completion: Completion, nanoseconds: UInt64) {
    var mismatch = false
    if completion.failure == nil, plan.mode.isRead, plan.verify, let data = completion.data {
      mismatch = !payload.matches(data, crc: completion.crc, index: completion.index)
    }
    condition.lock()
    inFlight -= 1
    if let error = completion.failure {
      if failure == nil {
        let verb = plan.mode == .write ? "write" : "read"
        failure = "\(verb) \(completion.object) got \(error)"
        failureTimedOut = error.code == ObjectIOError.timedOutCode
      }
    } else {
      finished += 1
      latency.record(nanoseconds: nanoseconds)
    }
    if mismatch { mismatches += 1 }
    let again = failure == nil && mayIssue(stop: stop)
    if again {
      issueLocked(slot: completion.slot, lockHeld: true)  // unlocks
    } else {
      if inFlight == 0 { condition.broadcast() }
      condition.unlock()
    }
    if mismatch { presenter.problem("\(completion.object) is not correct!") }
  }

  /// Runs in the I/O's completion, on any thread.
  private func complete(_ completion: Completion, nanoseconds: UInt64) {
    condition.lock()
    inFlight -= 1
    if completion.failure == nil {
      finished += 1
      latency.record(nanoseconds: nanoseconds)
    }
    ready.append(completion)
    condition.signal()
    condition.unlock()
  }

  private func handle(_ completion: Completion) {
    if let error = completion.failure {
      if failure == nil {
        let verb = plan.mode == .write ? "write" : "read"
        failure = "\(verb) \(completion.object) got \(error)"
        failureTimedOut = error.code == ObjectIOError.timedOutCode
      }
      return
    }
    guard plan.mode.isRead, plan.verify, let data = completion.data else { return }
    if !payload.matches(data, crc: completion.crc, index: completion.index) {
      mismatches += 1
      presenter.problem("\(completion.object) is not correct!")
    }
  }
}

extension Result {
  fileprivate var failure: Failure? {
    if case .failure(let error) = self { return error }
    return nil
  }
}
