import Foundation

/// Removing what bench runs wrote: `write`'s own cleanup, and `cleanup [--run-name NAME]
/// [--prefix PREFIX]`, which uses the metadata object when there is one (the objects
/// `benchmark_data_<this host>_<pid>_object0..N-1`, then the metadata) and otherwise lists the
/// pool for names starting with the prefix (`Warning: using slow linear search`), as rados does.
public enum RadosBenchCleanup {
  /// Removes `names` with up to `concurrency` removes in flight. A missing object counts as
  /// removed (rados ignores ENOENT here); any other failure stops the removal and is returned.
  static func remove(
    _ names: some Sequence<String>, io: any ObjectIO, concurrency: Int
  ) -> Result<Int, ObjectIOError> {
    let window = DispatchSemaphore(value: max(concurrency, 1))
    let group = DispatchGroup()
    let tally = RadosBenchRemoveTally()
    for name in names {
      window.wait()
      if tally.failure != nil {
        window.signal()
        break
      }
      group.enter()
      io.remove(name) { result in
        tally.record(result)
        window.signal()
        group.leave()
      }
    }
    group.wait()
    if let failure = tally.failure { return .failure(failure) }
    return .success(tally.removed)
  }

  /// `Removed 1 object`, `Removed 12 objects`.
  static func removedLine(_ count: Int) -> String {
    "Removed \(count) object\(count == 1 ? "" : "s")"
  }

  /// The `cleanup` command. Returns the exit status.
  public static func run(
    io: any ObjectIO, runName: String?, prefix: String?, concurrency: Int,
    environment: RadosBenchEnvironment, output: any RadosBenchOutput
  ) -> Int32 {
    let naming = RadosBenchNaming(hostname: environment.hostname)
    let metadataName = RadosBenchNaming.metadataObject(runName: runName)
    let prefix = prefix ?? naming.prefixWithoutPID
    guard prefix.hasPrefix(RadosBenchNaming.prefixBase) else {
      output.standardError(
        "Specified --prefix invalid, it must begin with \"\(RadosBenchNaming.prefixBase)\"")
      return 1
    }
    switch RadosBenchMetadataStore.fetch(io: io, name: metadataName) {
    case .success(let metadata):
      let names = (0..<metadata.numObjects).lazy.map {
        naming.objectName($0, pid: metadata.pid)
      }
      switch remove(names, io: io, concurrency: concurrency) {
      case .success(let count):
        if case .failure(let error) = io.removeSync(metadataName), !error.isNotFound {
          output.standardError("error during cleanup: removing \(metadataName): \(error)")
          return 1
        }
        output.standardOutput(removedLine(count))
        return 0
      case .failure(let error):
        output.standardError("error during cleanup: \(error)")
        return 1
      }
    case .failure(.missing):
      output.standardOutput("Warning: using slow linear search")
      let listed: [String]
      switch io.listSync(prefix: prefix) {
      case .success(let names): listed = names.filter { $0.hasPrefix(prefix) }
      case .failure(let error):
        output.standardError("error during cleanup: listing objects: \(error)")
        return 1
      }
      switch remove(listed, io: io, concurrency: concurrency) {
      case .success(let count):
        output.standardOutput(removedLine(count))
        return 0
      case .failure(let error):
        output.standardError("error during cleanup: \(error)")
        return 1
      }
    case .failure(let problem):
      output.standardError("error during cleanup: \(problem.description(metadataName))")
      return 1
    }
  }
}

/// What concurrent removes report back.
private final class RadosBenchRemoveTally: @unchecked Sendable {
  private let lock = NSLock()
  private var removedCount = 0
  private var firstFailure: ObjectIOError?

  func record(_ result: Result<Void, ObjectIOError>) {
    lock.lock()
    defer { lock.unlock() }
    switch result {
    case .success: removedCount += 1
    case .failure(let error) where error.isNotFound: removedCount += 1
    case .failure(let error): firstFailure = firstFailure ?? error
    }
  }

  var removed: Int {
    lock.lock()
    defer { lock.unlock() }
    return removedCount
  }

  var failure: ObjectIOError? {
    lock.lock()
    defer { lock.unlock() }
    return firstFailure
  }
}
