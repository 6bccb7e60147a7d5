import LoligoCore
import XCTest

@testable import LoligoBench

/// The sizes a run may ask for: the write limit comes from the smallest of three options,
/// the ops in flight from memory; reads are checked once the metadata gives their op size.
final class RadosBenchLimitsTests: XCTestCase {
  func names(_ opSize: String, _ concurrency: Int) -> RadosBenchLimits.Names {
    RadosBenchLimits.Names(opSize: "-b \(opSize)", concurrency: "-t \(concurrency)")
  }

  func testTheSmallestOptionSetsTheWriteLimit() throws {
    let defaults = WriteSizeLimit(config: Config())
    XCTAssertEqual(defaults.bytes, 90 << 20)
    XCTAssertEqual(defaults.option, .osdMaxWriteSize)
    XCTAssertNil(defaults.refusal(of: 90 << 20, what: "-b 90M"))
    XCTAssertEqual(
      defaults.refusal(of: 1 << 30, what: "-b 1G"),
      "-b 1G: a write of 1 GiB is more than osd_max_write_size allows (90 MiB, the largest "
        + "write an OSD accepts)")

    var config = Config()
    try config.set("osd_max_write_size", "2048")
    try config.set("ms_max_message_size", "64K")
    let message = WriteSizeLimit(config: config)
    XCTAssertEqual(message.option, .msMaxMessageSize)
    XCTAssertEqual(message.bytes, 60 << 10, "room is left for the op's header")
    XCTAssertTrue(
      message.refusal(of: 64 << 10, what: "x")?.contains("ms_max_message_size allows") ?? false)

    try config.set("ms_max_message_size", "128M")
    try config.set("ms_max_queued_bytes", "1M")
    let queued = WriteSizeLimit(config: config)
    XCTAssertEqual(queued.option, .msMaxQueuedBytes)
    XCTAssertEqual(
      queued.refusal(of: 5 << 20, what: "standard input", sizeIsLowerBound: true),
      "standard input: a write of more than 1 MiB is more than ms_max_queued_bytes allows "
        + "(1 MiB, what one connection may hold queued)")
  }

  func testOpsInFlightAreBoundedByMemory() {
    let limits = RadosBenchLimits(write: WriteSizeLimit(config: Config()), inFlightBytes: 1 << 30)
    XCTAssertNil(
      limits.refusal(mode: .write, opSize: 4 << 20, concurrentIOs: 256, names: names("4M", 256)))
    XCTAssertEqual(
      limits.refusal(mode: .write, opSize: 4 << 20, concurrentIOs: 257, names: names("4M", 257)),
      "-t 257 x -b 4M = 1028 MiB in flight, more than the 1 GiB a bench may hold (half of this "
        + "machine's memory)")
    // Reads are bounded by memory only: the write limit is the write's business.
    XCTAssertNil(
      limits.refusal(mode: .seq, opSize: 100 << 20, concurrentIOs: 10, names: names("100M", 10)))
    XCTAssertNotNil(
      limits.refusal(mode: .rand, opSize: 100 << 20, concurrentIOs: 11, names: names("100M", 11)))
    XCTAssertNotNil(
      limits.refusal(mode: .seq, opSize: .max, concurrentIOs: 2, names: names("huge", 2)),
      "a product that overflows is refused, not wrapped")
    XCTAssertGreaterThan(RadosBenchLimits.halfOfPhysicalMemory(), 16 << 20)
  }

  /// A read takes its op size from what write left: the run checks it before any op.
  func testARunRefusesReadsOfTooManyLargeOps() throws {
    let clock = ManualClock()
    let io = BenchTest.pool(clock: clock)
    let write = try BenchTest.options(.write, seconds: 1) {
      $0.blockSize = "64K"
      $0.concurrentIOs = "1"
      $0.noCleanup = true
    }
    XCTAssertEqual(BenchTest.run(io, write, clock: clock).0.status, 0)
    let reads = io.count(.read)
    var seq = try BenchTest.options(.seq) { $0.concurrentIOs = "32" }
    seq.limits = RadosBenchLimits(write: WriteSizeLimit(config: Config()), inFlightBytes: 1 << 20)
    let (report, output) = BenchTest.run(io, seq, clock: clock)
    XCTAssertEqual(report.status, 1)
    XCTAssertEqual(
      output.stderr,
      [
        "-t 32 x ops of 64 KiB = 2 MiB in flight, more than the 1 MiB a bench may hold (half of "
          + "this machine's memory)"
      ])
    XCTAssertEqual(io.count(.read), reads + 1, "the metadata only")
  }

  func testByteCountsReadAsPeopleWriteThem() {
    XCTAssertEqual(byteCountText(1), "1 byte")
    XCTAssertEqual(byteCountText(1000), "1000 bytes")
    XCTAssertEqual(byteCountText(4096), "4 KiB")
    XCTAssertEqual(byteCountText(90 << 20), "90 MiB")
    XCTAssertEqual(byteCountText(3 << 29), "1.5 GiB")
    XCTAssertEqual(byteCountText(4 << 40), "4 TiB")
    XCTAssertEqual(byteCountText(1028 << 20), "1028 MiB", "not 1.0 GiB")
    XCTAssertEqual(byteCountText((1 << 30) + 1), "1.0 GiB")
  }
}
