import Foundation
import NIOCore
import XCTest

@testable import LoligoBench

/// Whole runs over an in-memory pool: write, seq and rand with verification, object layout,
/// metadata, caps, errors, JSON and cleanup. A manual clock that each op advances makes the
/// output deterministic; no test depends on how fast this machine is.
final class RadosBenchRunTests: XCTestCase {
  func testWriteOutputIsRadosTextExactly() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let options = try BenchTest.options(.write) {
      $0.blockSize = "4096"
      $0.concurrentIOs = "2"
      $0.noCleanup = true
    }
    let (report, output) = BenchTest.run(io, options, clock: clock)
    XCTAssertEqual(report.status, 0)
    XCTAssertEqual(output.stderr, [])
    // 2 slots, each op 0.1 s: 10 ops per second, 20 in the 2 s.
    XCTAssertEqual(
      output.stdoutText,
      """
      hints = 0
      Maintaining 2 concurrent writes of 4096 bytes to objects of size 4096 for up to 2 seconds or 0 objects
      Object prefix: benchmark_data_testhost_4242
        sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)
          0       0         0         0         0         0           -           0
          1       0        10        10 0.0390625 0.0390625         0.1         0.1
          2       0        20        20 0.0390625 0.0390625         0.1         0.1
      Total time run:         2
      Total writes made:      20
      Write size:             4096
      Object size:            4096
      Bandwidth (MB/sec):     0.0390625
      Stddev Bandwidth:       0
      Max bandwidth (MB/sec): 0.0390625
      Min bandwidth (MB/sec): 0.0390625
      Average IOPS:           10
      Stddev IOPS:            0
      Max IOPS:               10
      Min IOPS:               10
      Average Latency(s):     0.1
      Stddev Latency(s):      0
      Max latency(s):         0.1
      Min latency(s):         0.1
      p50 latency(s):         0.1
      p99 latency(s):         0.1
      p99.9 latency(s):       0.1

      """)
    XCTAssertEqual(io.names.count, 21, "20 objects and the metadata")
    let metadata = try RadosBenchMetadataStore.fetch(io: io, name: "benchmark_last_metadata").get()
    XCTAssertEqual(
      metadata, RadosBenchMetadata(objectSize: 4096, numOps: 20, pid: 4242, opSize: 4096))
    let payload = RadosBenchPayload(opSize: 4096)
    for index in 0..<20 {
      let bytes = try XCTUnwrap(io.bytes(BenchTest.objectName(index)))
      XCTAssertEqual(
        bytes, Array(payload.make(for: UInt64(index), allocator: .init()).readableBytesView))
    }
  }

  func testSeqOutputAndEarlyEnd() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let write = try BenchTest.options(.write, seconds: 1) {
      $0.blockSize = "4096"
      $0.concurrentIOs = "2"
      $0.noCleanup = true
    }
    XCTAssertEqual(BenchTest.run(io, write, clock: clock).0.status, 0)
    // 10 ops were written; seq reads them (the pool serializes ops) in 1 s of its 10 and stops.
    let (report, output) = BenchTest.run(
      io, try BenchTest.options(.seq, seconds: 10) { $0.concurrentIOs = "2" }, clock: clock)
    XCTAssertEqual(report.status, 0)
    XCTAssertEqual(output.stderr, [])
    XCTAssertEqual(
      Array(output.stdout.prefix(17)),
      [
        "hints = 0",
        "  sec Cur ops   started  finished  avg MB/s  cur MB/s last lat(s)  avg lat(s)",
        "    0       0         0         0         0         0           -           0",
        "    1       0        10        10 0.0390625 0.0390625         0.1         0.1",
        "Total time run:       1",
        "Total reads made:     10",
        "Read size:            4096",
        "Object size:          4096",
        "Bandwidth (MB/sec):   0.0390625",
        "Average IOPS:         10",
        "Stddev IOPS:          0",
        "Max IOPS:             10",
        "Min IOPS:             10",
        "Average Latency(s):   0.1",
        "Max latency(s):       0.1",
        "Min latency(s):       0.1",
        "p50 latency(s):       0.1",
      ])
    XCTAssertEqual(report.summary?.ops, 10)
  }

  func testWriteThenSeqThenRandVerifyEverything() throws {
    for (block, object) in [("4096", nil), ("4096", "16384"), ("1000", "4500")] {
      let clock = ManualClock()
      let io = BenchTest.pool(clock: clock, opTime: 7_000_000)
      let write = try BenchTest.options(.write, seconds: 3) {
        $0.blockSize = block
        $0.objectSize = object
        $0.concurrentIOs = "5"
        $0.noCleanup = true
      }
      let written = BenchTest.run(io, write, clock: clock).0
      XCTAssertEqual(written.status, 0)
      let ops = try XCTUnwrap(written.summary?.ops)
      let opSize = UInt64(block)!
      let perObject = object.map { UInt64($0)! / opSize } ?? 1
      XCTAssertEqual(io.count(.write), Int(ops))
      XCTAssertEqual(io.names.count, Int((ops + perObject - 1) / perObject) + 1)
      // Each object holds its ops back to back.
      let payload = RadosBenchPayload(opSize: Int(opSize))
      let first = try XCTUnwrap(io.bytes(BenchTest.objectName(1)))
      for slot in 0..<Int(perObject) {
        let start = slot * Int(opSize)
        let expected = payload.make(for: perObject + UInt64(slot), allocator: .init())
        XCTAssertEqual(
          Array(first[start..<start + Int(opSize)]), Array(expected.readableBytesView))
      }

      let (seq, seqOutput) = BenchTest.run(
        io, try BenchTest.options(.seq, seconds: 100) { $0.concurrentIOs = "3" }, clock: clock)
      XCTAssertEqual(seq.status, 0, seqOutput.stderr.joined(separator: "\n"))
      XCTAssertEqual(seq.summary?.ops, ops, "seq reads every written op once")
      XCTAssertEqual(seq.summary?.mismatches, 0)
      XCTAssertEqual(seq.summary?.opSize, opSize)
      XCTAssertFalse(seqOutput.stdoutText.contains("not correct"))

      let (rand, randOutput) = BenchTest.run(
        io, try BenchTest.options(.rand, seconds: 2) { $0.concurrentIOs = "3" }, clock: clock)
      XCTAssertEqual(rand.status, 0, randOutput.stderr.joined(separator: "\n"))
      XCTAssertGreaterThan(rand.summary?.ops ?? 0, 0)
      XCTAssertEqual(rand.summary?.mismatches, 0)
      XCTAssertTrue(randOutput.stdoutText.contains("Total reads made:     "))
    }
  }

  func testCorruptObjectIsReportedAndFailsTheRun() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let write = try BenchTest.options(.write, seconds: 1) {
      $0.blockSize = "4K"
      $0.concurrentIOs = "4"
      $0.noCleanup = true
    }
    XCTAssertEqual(BenchTest.run(io, write, clock: clock).0.status, 0)
    io.corrupt(BenchTest.objectName(3), at: 100)
    let (report, output) = BenchTest.run(io, try BenchTest.options(.seq), clock: clock)
    XCTAssertEqual(report.status, 1)
    XCTAssertEqual(report.summary?.mismatches, 1)
    XCTAssertEqual(output.stderr.first, "benchmark_data_testhost_4242_object3 is not correct!")
    XCTAssertTrue(output.stderr.last?.contains("(5) Input/output error") ?? false)
    // --no-verify reads the same without looking.
    let unverified = BenchTest.run(
      io, try BenchTest.options(.seq) { $0.noVerify = true }, clock: clock)
    XCTAssertEqual(unverified.0.status, 0)
  }

  func testReadsNeedAWrite() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    for mode in [RadosBenchMode.seq, .rand] {
      let (report, output) = BenchTest.run(io, try BenchTest.options(mode), clock: clock)
      XCTAssertEqual(report.status, 1)
      XCTAssertEqual(output.stderr, ["Must write data before running a read benchmark!"])
    }
    let reuse = BenchTest.run(
      io, try BenchTest.options(.write) { $0.reuseBench = true }, clock: clock)
    XCTAssertEqual(reuse.0.status, 1)
    XCTAssertEqual(
      reuse.1.stderr, ["Must write data before using reuse_bench for a write benchmark!"])
    XCTAssertEqual(io.count(.write), 0)
  }

  func testMaxObjectsCapsWrites() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let options = try BenchTest.options(.write, seconds: 60) {
      $0.blockSize = "4K"
      $0.objectSize = "16K"
      $0.maxObjects = "3"
      $0.concurrentIOs = "16"
      $0.noCleanup = true
    }
    let (report, output) = BenchTest.run(io, options, clock: clock)
    XCTAssertEqual(report.status, 0)
    XCTAssertEqual(report.summary?.ops, 12, "3 objects of 4 ops, even with 16 slots")
    XCTAssertTrue(
      output.stdout.contains(
        "Maintaining 16 concurrent writes of 4096 bytes to objects of size 16384 for up to 60 seconds or 3 objects"
      ))
    XCTAssertEqual(io.names.filter { $0.hasPrefix("benchmark_data") }.count, 3)
    XCTAssertLessThan(report.summary?.totalTime ?? 60, 60)
  }

  func testZeroSecondsRunsTheFirstWindowOnly() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let (report, _) = BenchTest.run(
      io,
      try BenchTest.options(.write, seconds: 0) {
        $0.blockSize = "4K"
        $0.concurrentIOs = "5"
      },
      clock: clock)
    XCTAssertEqual(report.summary?.ops, 5)
  }

  func testWriteCleansUpByDefault() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let (report, output) = BenchTest.run(
      io,
      try BenchTest.options(.write, seconds: 1) {
        $0.blockSize = "4K"
        $0.concurrentIOs = "4"
      },
      clock: clock)
    XCTAssertEqual(report.status, 0)
    XCTAssertEqual(io.names, [], "objects and metadata removed")
    let tail = Array(output.stdout.suffix(3))
    XCTAssertEqual(tail[0], "Cleaning up (deleting benchmark objects)")
    XCTAssertEqual(tail[1], "Removed 10 objects", "10 ops of 0.1 s, one after the other")
    XCTAssertTrue(tail[2].hasPrefix("Clean up completed and total clean up time :"))
  }

  func testCleanupCommandWithMetadataAndRunName() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let write = try BenchTest.options(.write, seconds: 1) {
      $0.blockSize = "4K"
      $0.objectSize = "8K"
      $0.concurrentIOs = "3"
      $0.noCleanup = true
      $0.runName = "run-a"
    }
    XCTAssertEqual(BenchTest.run(io, write, clock: clock).0.status, 0)
    io.put("unrelated", [1])
    XCTAssertNotNil(io.bytes("run-a"))
    XCTAssertNil(io.bytes("benchmark_last_metadata"))
    // seq with the run name reads that run.
    let seq = BenchTest.run(io, try BenchTest.options(.seq) { $0.runName = "run-a" }, clock: clock)
    XCTAssertEqual(seq.0.status, 0)
    let output = CapturedOutput()
    let status = RadosBenchCleanup.run(
      io: io, runName: "run-a", prefix: nil, concurrency: 4,
      environment: BenchTest.environment(clock: clock), output: output)
    XCTAssertEqual(status, 0)
    XCTAssertEqual(output.stdout, ["Removed 5 objects"], "10 ops of 4K in 8K objects")
    XCTAssertEqual(io.names, ["unrelated"])
  }

  func testCleanupWithoutMetadataSearchesThePrefix() throws {
    let io = InMemoryObjectIO()
    for name in ["benchmark_data_testhost_1_object0", "benchmark_data_testhost_2_object5", "other"]
    {
      io.put(name, [0])
    }
    let output = CapturedOutput()
    let status = RadosBenchCleanup.run(
      io: io, runName: nil, prefix: nil, concurrency: 2,
      environment: BenchTest.environment(clock: ManualClock()), output: output)
    XCTAssertEqual(status, 0)
    XCTAssertEqual(output.stdout, ["Warning: using slow linear search", "Removed 2 objects"])
    XCTAssertEqual(io.names, ["other"])
    let bad = CapturedOutput()
    XCTAssertEqual(
      RadosBenchCleanup.run(
        io: io, runName: nil, prefix: "other", concurrency: 2,
        environment: BenchTest.environment(clock: ManualClock()), output: bad), 1)
    XCTAssertEqual(
      bad.stderr, [#"Specified --prefix invalid, it must begin with "benchmark_data""#])
  }

  func testJSONDocument() throws {
    for format in ["json", "json-pretty"] {
      let clock = ManualClock()
      let io = BenchTest.pool(clock: clock)
      let (report, output) = BenchTest.run(
        io,
        try BenchTest.options(.write, seconds: 3) {
          $0.blockSize = "4K"
          $0.concurrentIOs = "2"
          $0.format = format
          $0.noCleanup = true
        }, clock: clock)
      XCTAssertEqual(report.status, 0)
      XCTAssertEqual(output.stdout, [], "plain text stays out of the document")
      XCTAssertTrue(output.stderr.contains("Object prefix: benchmark_data_testhost_4242"))
      let object = try XCTUnwrap(
        JSONSerialization.jsonObject(with: Data(output.document.utf8)) as? [String: Any])
      XCTAssertEqual(object["concurrent_ios"] as? Int, 2)
      XCTAssertEqual(object["op_size"] as? Int, 4096)
      XCTAssertEqual(object["object_size"] as? Int, 4096)
      XCTAssertEqual(object["object_prefix"] as? String, "benchmark_data_testhost_4242")
      XCTAssertEqual(object["total_writes_made"] as? Int, 30)
      XCTAssertEqual(object["average_iops"] as? Int, 10)
      XCTAssertNotNil(object["stddev_iops"] as? Double)
      let datas = try XCTUnwrap(object["datas"] as? [[String: Any]])
      XCTAssertEqual(datas.map { $0["sec"] as? Int }, [0, 1, 2, 3])
      XCTAssertEqual(datas[2]["finished"] as? Int, 20)
      XCTAssertEqual(datas[2]["cur_bw"] as? Double, 0.0390625)
      XCTAssertTrue(output.document.hasSuffix("}\n"))
      // Re-run the read back with JSON too: seq parses.
      let seq = BenchTest.run(
        io, try BenchTest.options(.seq, seconds: 10) { $0.format = format }, clock: clock)
      let read = try XCTUnwrap(
        JSONSerialization.jsonObject(with: Data(seq.1.document.utf8)) as? [String: Any])
      XCTAssertEqual(read["total_reads_made"] as? Int, 30)
      XCTAssertEqual(read["mismatches"] as? Int, 0)
    }
  }

  func testFailedOpStopsTheRunAndCleansUp() throws {
    let clock = ManualClock()
    let failing = ObjectIOError(code: -28, message: "No space left on device")
    let io = InMemoryObjectIO(
      beforeCompletion: { _, _ in clock.advance(by: 10_000_000) },
      fault: { operation, object in
        operation == .write && object.hasSuffix("_object7") ? failing : nil
      })
    let (report, output) = BenchTest.run(
      io,
      try BenchTest.options(.write, seconds: 5) {
        $0.blockSize = "4K"
        $0.concurrentIOs = "4"
      },
      clock: clock)
    XCTAssertEqual(report.status, 1)
    XCTAssertNil(report.summary)
    XCTAssertTrue(
      output.stderr.contains(
        "error during benchmark: write benchmark_data_testhost_4242_object7 got (28) No space left on device"
      ),
      "\(output.stderr)")
    XCTAssertEqual(io.names, [], "what was written is removed, and no metadata is left")
    // The JSON document is closed without a summary, so it still parses.
    let (_, json) = BenchTest.run(
      io,
      try BenchTest.options(.write, seconds: 5) {
        $0.blockSize = "4K"
        $0.concurrentIOs = "4"
        $0.format = "json"
      }, clock: clock)
    let document = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(json.document.utf8)) as? [String: Any])
    XCTAssertNotNil(document["datas"] as? [Any])
    XCTAssertNil(document["total_writes_made"])
  }

  func testReuseBenchRewritesThePreviousObjects() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let first = try BenchTest.options(.write, seconds: 1) {
      $0.blockSize = "4K"
      $0.concurrentIOs = "2"
      $0.noCleanup = true
    }
    XCTAssertEqual(BenchTest.run(io, first, clock: clock).0.status, 0)
    var environment = BenchTest.environment(clock: clock)
    environment.pid = 777
    let output = CapturedOutput()
    let report = RadosBench(
      io: io,
      options: try BenchTest.options(.write, seconds: 1) {
        $0.reuseBench = true
        $0.concurrentIOs = "2"
        $0.noCleanup = true
      },
      environment: environment, output: output
    ).run()
    XCTAssertEqual(report.status, 0)
    XCTAssertTrue(output.stdout.contains("Object prefix: benchmark_data_testhost_4242"))
    XCTAssertEqual(report.summary?.opSize, 4096, "the sizes of the previous run, not 4M")
    XCTAssertFalse(io.names.contains { $0.contains("_777_") })
  }

  func testShowTimePrefixesLines() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let (_, output) = BenchTest.run(
      io,
      try BenchTest.options(.write, seconds: 1) {
        $0.blockSize = "4K"
        $0.concurrentIOs = "2"
        $0.showTime = true
      }, clock: clock)
    for line in output.stdout {
      XCTAssertTrue(line.hasPrefix(BenchTest.time + " "), line)
    }
  }

  func testResultsDirectory() throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("bench-results-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let (report, _) = BenchTest.run(
      io,
      try BenchTest.options(.write, seconds: 2) {
        $0.blockSize = "4K"
        $0.concurrentIOs = "2"
        $0.resultsDirectory = directory
        $0.pool = "rbd"
      }, clock: clock)
    XCTAssertEqual(report.status, 0)
    let path = try XCTUnwrap(report.resultPath)
    let result = try JSONDecoder().decode(
      RadosBenchResult.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    XCTAssertEqual(result.schema, "loligo.rados-bench/2")
    XCTAssertEqual(result.parameters.pool, "rbd")
    XCTAssertEqual(result.parameters.mode, .write)
    XCTAssertEqual(result.result.ops, 20)
    XCTAssertEqual(result.result.iops, 10)
    XCTAssertEqual(result.result.latency.count, 20)
    let encoded = try XCTUnwrap(result.result.latencyHistogram)
    XCTAssertTrue(encoded.hasPrefix("HISTFAA"))
    let histogram = try LatencyHistogram(encoded: encoded)
    XCTAssertEqual(histogram.count, 20)
    // The exact maximum is not in the encoding: percentiles come back within the 0.1 %.
    XCTAssertEqual(
      histogram.summary().p99Us, result.result.latency.p99Us,
      accuracy: result.result.latency.p99Us / 1000)
    let csv = try String(
      contentsOfFile: URL(fileURLWithPath: path).deletingLastPathComponent()
        .appendingPathComponent("per-second.csv").path, encoding: .utf8)
    let lines = csv.split(separator: "\n")
    XCTAssertEqual(
      lines.first,
      "sec,cur_ops,started,finished,avg_mib_s,cur_mib_s,last_lat_s,avg_lat_s,"
        + "p50_lat_s,p99_lat_s,max_lat_s")
    XCTAssertEqual(lines.count, 4)
    // Ops finished in the first second: its percentiles are there and ordered.
    let second = lines[2].split(separator: ",", omittingEmptySubsequences: false).suffix(3)
      .map { Double($0) }
    XCTAssertEqual(second.count, 3)
    XCTAssertTrue(second.allSatisfy { $0 != nil && $0! > 0 }, "\(lines[2])")
    XCTAssertLessThanOrEqual(second[0]!, second[1]!)
    XCTAssertLessThanOrEqual(second[1]!, second[2]!)

    // A version 1 result (no histogram) still decodes.
    var object = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        as? [String: Any])
    var totals = try XCTUnwrap(object["result"] as? [String: Any])
    totals["latency_histogram_ns"] = nil
    object["result"] = totals
    object["schema"] = "loligo.rados-bench/1"
    let old = try JSONDecoder().decode(
      RadosBenchResult.self, from: JSONSerialization.data(withJSONObject: object))
    XCTAssertNil(old.result.latencyHistogram)
    XCTAssertEqual(old.result.latency.count, 20)
  }

  /// The production path: the status thread, the real clock, completions on other threads.
  func testThreadedRunWithAsynchronousCompletions() throws {
    let queue = DispatchQueue(label: "io", attributes: .concurrent)
    let io = InMemoryObjectIO(
      delivery: .queue(queue), beforeCompletion: { _, _ in usleep(200) })
    var environment = RadosBenchEnvironment.live()
    environment.hostname = BenchTest.hostname
    let write = try BenchTest.options(.write, seconds: 1) {
      $0.blockSize = "4K"
      $0.objectSize = "8K"
      $0.concurrentIOs = "8"
      $0.noCleanup = true
    }
    let output = CapturedOutput()
    let report = RadosBench(io: io, options: write, environment: environment, output: output).run()
    XCTAssertEqual(report.status, 0, output.stderr.joined(separator: "\n"))
    XCTAssertGreaterThan(report.summary?.ops ?? 0, 0)
    XCTAssertTrue(output.stdout.contains(RadosBenchTable.header))
    let seq = RadosBench(
      io: io, options: try BenchTest.options(.seq, seconds: 1), environment: environment,
      output: CapturedOutput()
    ).run()
    XCTAssertEqual(seq.status, 0)
    XCTAssertEqual(seq.summary?.mismatches, 0)
  }

  /// A failure among ops completing on other threads: the run stops issuing, waits for every
  /// op in flight, and ends with an error rather than a hang or a summary.
  func testAsynchronousFailureDrainsInFlightOps() throws {
    let queue = DispatchQueue(label: "io", attributes: .concurrent)
    let io = InMemoryObjectIO(
      delivery: .queue(queue), beforeCompletion: { _, _ in usleep(100) },
      fault: { operation, object in
        operation == .read && object.hasSuffix("_object50")
          ? ObjectIOError(code: -5, message: "Input/output error") : nil
      })
    var environment = RadosBenchEnvironment.live()
    environment.hostname = BenchTest.hostname
    let write = try BenchTest.options(.write, seconds: 30) {
      $0.blockSize = "1K"
      $0.concurrentIOs = "8"
      $0.maxObjects = "200"
      $0.noCleanup = true
    }
    let written = RadosBench(
      io: io, options: write, environment: environment, output: CapturedOutput()
    ).run()
    XCTAssertEqual(written.summary?.ops, 200)
    let output = CapturedOutput()
    let seq = RadosBench(
      io: io, options: try BenchTest.options(.seq, seconds: 30) { $0.concurrentIOs = "8" },
      environment: environment, output: output
    ).run()
    XCTAssertEqual(seq.status, 1)
    XCTAssertNil(seq.summary)
    XCTAssertEqual(
      output.stderr.last,
      "error during benchmark: read benchmark_data_testhost_\(environment.pid)_object50 got (5) Input/output error"
    )
    XCTAssertLessThan(io.count(.read), 200, "no new reads after the failure")
  }
}
