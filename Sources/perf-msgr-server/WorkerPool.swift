import Foundation

/// The server's "worker threads": each has its own queue, and a connection's messages always
/// go to the same worker (as an OSD's PG shards keep one PG on one thread), so replies on one
/// connection keep their order.
// immutable after init; each queue under its `condition`
final class WorkerPool: @unchecked Sendable {
  private final class Worker: @unchecked Sendable {  // its fields under `condition`
    let condition = NSCondition()
    var queue: [() -> Void] = []
    var spare: [() -> Void] = []
    var stopping = false
  }

  private let workers: [Worker]
  private var threads: [Thread] = []

  init(threads count: Int, name: String) {
    workers = (0..<count).map { _ in Worker() }
    for (index, worker) in workers.enumerated() {
      let thread = Thread { WorkerPool.run(worker) }
      thread.name = "\(name)-\(index)"
      threads.append(thread)
      thread.start()
    }
  }

  var isEmpty: Bool { workers.isEmpty }

  /// Queues `work` on the worker for `shard`.
  func submit(shard: UInt64, _ work: @escaping () -> Void) {
    let worker = workers[Int(shard % UInt64(workers.count))]
    worker.condition.lock()
    worker.queue.append(work)
    let wasEmpty = worker.queue.count == 1
    worker.condition.unlock()
    if wasEmpty { worker.condition.signal() }
  }

  func stop() {
    for worker in workers {
      worker.condition.lock()
      worker.stopping = true
      worker.condition.unlock()
      worker.condition.signal()
    }
  }

  private static func run(_ worker: Worker) {
    var batch: [() -> Void] = []
    while true {
      worker.condition.lock()
      while worker.queue.isEmpty && !worker.stopping { worker.condition.wait() }
      if worker.stopping {
        worker.condition.unlock()
        return
      }
      swap(&batch, &worker.queue)
      worker.condition.unlock()
      for work in batch { work() }
      batch.removeAll(keepingCapacity: true)
    }
  }
}
