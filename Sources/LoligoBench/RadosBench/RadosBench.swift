import Foundation
import NIOCore

/// `loligo bench SECONDS write|seq|rand`: rados bench over an `ObjectIO`. Reads the previous
/// write's metadata for `seq`, `rand` and `--reuse-bench`, runs the op loop with its
/// per-second table, prints the summary, and for `write` stores the metadata and (unless
/// `--no-cleanup`) removes the objects again.
public struct RadosBench {
  public let io: any ObjectIO
  public let options: RadosBenchOptions
  public let environment: RadosBenchEnvironment
  public let output: any RadosBenchOutput

  public init(
    io: any ObjectIO, options: RadosBenchOptions, environment: RadosBenchEnvironment,
    output: any RadosBenchOutput
  ) {
    self.io = io
    self.options = options
    self.environment = environment
    self.output = output
  }

  public func run() -> RadosBenchReport {
    let presenter = RadosBenchPresenter(
      output: output, format: options.format, showTime: options.showTime,
      localTime: environment.localTime)
    let naming = RadosBenchNaming(hostname: environment.hostname)
    let metadataName = RadosBenchNaming.metadataObject(runName: options.runName)
    let mode = options.mode
    // rados prints whether each write carries an allocation hint. ObjectIO has no hint
    // operation, so none is sent, whatever --no-hints says.
    presenter.notice("hints = 0")

    var opSize = options.opSize
    var objectSize = options.objectSize
    var pid = environment.pid
    var writtenOps: UInt64 = 0
    if mode.isRead || options.reuseBench {
      switch RadosBenchMetadataStore.fetch(io: io, name: metadataName) {
      case .success(let metadata):
        opSize = metadata.opSize
        objectSize = metadata.objectSize
        pid = metadata.pid
        writtenOps = UInt64(metadata.numOps)
      case .failure(.missing):
        presenter.problem(
          options.reuseBench && mode == .write
            ? "Must write data before using reuse_bench for a write benchmark!"
            : "Must write data before running a read benchmark!")
        return RadosBenchReport(status: 1)
      case .failure(let failure):
        presenter.problem("error during benchmark: \(failure.description(metadataName))")
        return RadosBenchReport(status: 1)
      }
      if mode.isRead && writtenOps == 0 {
        presenter.problem("Must write data before running a read benchmark!")
        return RadosBenchReport(status: 1)
      }
    }
    if let limits = options.limits,
      let refusal = limits.refusal(
        mode: mode, opSize: opSize, concurrentIOs: options.concurrentIOs,
        names: .commandLine(
          blockSize: nil, opSize: opSize, concurrentIOs: options.concurrentIOs))
    {
      presenter.problem(refusal)
      return RadosBenchReport(status: 1)
    }
    let writesPerObject = max(objectSize / opSize, 1)
    let prefix = naming.prefix(pid: pid)
    if mode == .write {
      presenter.notice(
        "Maintaining \(options.concurrentIOs) concurrent writes of \(opSize) bytes to objects "
          + "of size \(objectSize) for up to \(options.seconds) seconds or "
          + "\(options.maxObjects) objects")
      presenter.notice("Object prefix: \(prefix)")
    }
    presenter.begin(head: [
      ("concurrent_ios", .int(Int64(options.concurrentIOs))),
      ("object_size", .uint(objectSize)), ("op_size", .uint(opSize)),
      ("seconds_to_run", .int(Int64(options.seconds))),
      ("max_objects", .uint(mode == .write ? options.maxObjects : 0)),
      ("object_prefix", .string(prefix)),
    ])

    let opLimit: UInt64?
    switch mode {
    case .write:
      let (cap, overflow) = options.maxObjects.multipliedReportingOverflow(by: writesPerObject)
      opLimit = options.maxObjects > 0 && !overflow ? cap : nil
    case .seq: opLimit = writtenOps
    case .rand: opLimit = nil
    }
    let plan = RadosBenchEngine.Plan(
      mode: mode, opSize: opSize, writesPerObject: writesPerObject,
      concurrency: options.concurrentIOs, seconds: options.seconds, opLimit: opLimit,
      indexSpace: writtenOps, pid: pid, verify: options.verify)
    let outcome = RadosBenchEngine(
      io: io, plan: plan, naming: naming, environment: environment, presenter: presenter
    ).run()

    if let failure = outcome.failure {
      presenter.finish(summary: nil)
      presenter.problem("error during benchmark: \(failure)")
      if mode == .write && options.cleanup && outcome.failureTimedOut {
        // Removing would wait out the same timeout: leave the objects for a later cleanup.
        presenter.problem(
          "not cleaning up: the cluster did not answer in time; remove the objects later with "
            + "'cleanup --prefix \(naming.prefix(pid: pid))'")
      } else if mode == .write && options.cleanup {
        // The objects were written under names only this run knows (no metadata is stored
        // for a failed run), so remove them now rather than leave them for a linear search.
        let objects = (outcome.started + writesPerObject - 1) / writesPerObject
        cleanUp(objects: objects, pid: pid, naming: naming, presenter: presenter)
      }
      return RadosBenchReport(status: 1, rows: outcome.table.rows)
    }

    let summary = RadosBenchSummary(
      mode: mode, totalTime: Double(outcome.nanoseconds) / 1e9, ops: outcome.finished,
      opSize: opSize, objectSize: objectSize, table: outcome.table, latency: outcome.latency,
      mismatches: outcome.mismatches)
    presenter.finish(summary: summary)
    var report = RadosBenchReport(status: 0, summary: summary, rows: outcome.table.rows)

    if mode == .write {
      let metadata = RadosBenchMetadata(
        objectSize: objectSize, numOps: Int32(clamping: outcome.finished), pid: pid,
        opSize: opSize)
      if case .failure(let error) = RadosBenchMetadataStore.store(
        metadata, io: io, name: metadataName)
      {
        presenter.problem("error during benchmark: writing \(metadataName): \(error)")
        report.status = 1
      } else if options.cleanup {
        if !cleanUp(
          objects: metadata.numObjects, pid: pid, naming: naming, presenter: presenter)
        {
          report.status = 1
        } else if case .failure(let error) = io.removeSync(metadataName), !error.isNotFound {
          presenter.problem("error during cleanup: removing \(metadataName): \(error)")
          report.status = 1
        }
      }
    }

    if let location = options.results {
      let parameters = RadosBenchResult.Parameters(
        mode: mode, pool: options.pool, seconds: options.seconds,
        concurrentIOs: options.concurrentIOs, opSize: opSize, objectSize: objectSize,
        maxObjects: mode == .write ? options.maxObjects : 0, runName: metadataName,
        objectPrefix: prefix, verify: options.verify, cleanup: options.cleanup)
      do {
        let path = try RadosBenchResult.write(
          location, parameters: parameters, summary: summary,
          latency: outcome.latency, rows: outcome.table.rows)
        report.resultPath = path
        presenter.problem("Result: \(path)")
      } catch {
        presenter.problem("cannot write results: \(error)")
        report.status = 1
      }
    }

    if outcome.mismatches > 0 {
      // rados returns EIO when any read came back wrong.
      presenter.problem(
        "error during benchmark: \(outcome.mismatches) of \(outcome.finished) reads returned "
          + "wrong data: (5) Input/output error")
      report.status = 1
    }
    return report
  }

  /// write's own cleanup, with rados's messages. Returns false after a failed remove.
  @discardableResult
  private func cleanUp(
    objects: UInt64, pid: Int32, naming: RadosBenchNaming, presenter: RadosBenchPresenter
  ) -> Bool {
    let start = environment.clock.now()
    presenter.notice("Cleaning up (deleting benchmark objects)")
    let names = (0..<objects).lazy.map { naming.objectName($0, pid: pid) }
    switch RadosBenchCleanup.remove(names, io: io, concurrency: options.concurrentIOs) {
    case .success(let count):
      presenter.notice(RadosBenchCleanup.removedLine(count))
      let seconds = Double(environment.clock.now() &- start) / 1e9
      presenter.notice(
        "Clean up completed and total clean up time :\(RadosBenchNumberFormat.general(seconds))")
      return true
    case .failure(let error):
      presenter.problem("error during cleanup: \(error)")
      return false
    }
  }
}
