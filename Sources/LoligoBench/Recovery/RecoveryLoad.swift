import Foundation
import NIOCore

/// The recovery step's client load: `concurrency` writes of one block each in flight, each
/// overwriting a block of the prefilled dataset with its next version, the next write issued
/// from the previous one's completion (as rados bench keeps its ops in flight). Each slot owns
/// the objects whose index is its own modulo `concurrency` and writes them one at a time, so
/// the writes to a block are never concurrent and the last acknowledged version of every block
/// is known: the verification reads exactly that back. A slot walks its objects before it moves
/// to the next block, so consecutive writes go to different objects (and PGs).
public final class RecoveryLoad: @unchecked Sendable {
  /// What the load did, once stopped.
  public struct Outcome: Sendable {
    public var acknowledged: UInt64
    public var errors: UInt64
    public var firstError: String?
    /// Per block (object × blocks per object + block): the last version acknowledged, and the
    /// last one sent (higher only when the writes after the acknowledged one failed).
    public var acknowledgedVersions: [UInt32]
    public var sentVersions: [UInt32]
  }

  private let io: any ObjectIO
  private let dataset: RecoveryDataset
  private let concurrency: Int
  private let recorder: LoadLatencyRecorder
  private let lock = NSLock()
  private let drained = DispatchSemaphore(value: 0)
  // Under `lock`.
  private var stopping = false
  private var inFlight = 0
  private var opsBySlot: [Int]
  private var acknowledged: UInt64 = 0
  private var errors: UInt64 = 0
  private var firstError: String?
  private var acknowledgedVersions: [UInt32]
  private var sentVersions: [UInt32]

  public init(
    io: any ObjectIO, dataset: RecoveryDataset, concurrency: Int, recorder: LoadLatencyRecorder
  ) {
    precondition(dataset.objects >= concurrency, "every slot owns at least one object")
    self.io = io
    self.dataset = dataset
    self.concurrency = concurrency
    self.recorder = recorder
    opsBySlot = Array(repeating: 0, count: concurrency)
    acknowledgedVersions = Array(repeating: 0, count: dataset.blocks)
    sentVersions = Array(repeating: 0, count: dataset.blocks)
  }

  public func start() {
    lock.lock()
    inFlight = concurrency
    lock.unlock()
    for slot in 0..<concurrency { issue(slot: slot) }
  }

  /// The first failed write, once one has failed (the load then winds down).
  public var failure: String? {
    lock.lock()
    defer { lock.unlock() }
    return firstError
  }

  /// Stops issuing writes and waits up to `timeout` seconds for those in flight; nil when they
  /// did not all complete in time.
  public func finish(timeout: Double) -> Outcome? {
    lock.lock()
    stopping = true
    let idle = inFlight == 0
    lock.unlock()
    guard idle || drained.wait(timeout: .now() + timeout) == .success else { return nil }
    lock.lock()
    defer { lock.unlock() }
    return Outcome(
      acknowledged: acknowledged, errors: errors, firstError: firstError,
      acknowledgedVersions: acknowledgedVersions, sentVersions: sentVersions)
  }

  /// Sends slot `slot`'s next write. Called without the lock: a completion may run before
  /// `write` returns.
  private func issue(slot: Int) {
    let owned = (dataset.objects - slot + concurrency - 1) / concurrency
    lock.lock()
    let op = opsBySlot[slot]
    opsBySlot[slot] += 1
    let object = slot + concurrency * (op % owned)
    let block = (op / owned) % dataset.blocksPerObject
    let index = object * dataset.blocksPerObject + block
    sentVersions[index] += 1
    let version = sentVersions[index]
    lock.unlock()
    var data = ByteBuffer()
    dataset.fill(&data, object: object, block: block, version: version)
    let started = DispatchTime.now().uptimeNanoseconds
    io.write(
      RecoveryDataset.name(object), offset: UInt64(block * dataset.blockSize), data: data
    ) { [self] result in
      let latency = DispatchTime.now().uptimeNanoseconds - started
      lock.lock()
      switch result {
      case .success:
        acknowledged += 1
        // Writes to a block are sequential (one slot), so this is the newest acknowledged.
        acknowledgedVersions[index] = version
      case .failure(let error):
        errors += 1
        if firstError == nil { firstError = "\(RecoveryDataset.name(object)): \(error)" }
      }
      // The first failure ends the load, as it ends rados bench: the step reports it.
      let again = !stopping && errors == 0
      if !again { inFlight -= 1 }
      let idle = inFlight == 0
      lock.unlock()
      if case .success = result { recorder.record(nanoseconds: latency, bytes: dataset.blockSize) }
      if again {
        issue(slot: slot)
      } else if idle {
        drained.signal()
      }
    }
  }
}
