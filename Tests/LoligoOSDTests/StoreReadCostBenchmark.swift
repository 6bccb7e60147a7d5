import Foundation
import LoligoCore
import LoligoOSD
import LoligoPlacement
import NIOCore
import XCTest

/// The CPU a durable store's read costs with crc32c block checks and with none, on the reading
/// thread alone (CLOCK_THREAD_CPUTIME_ID), so other jobs on the machine barely move it: what
/// the cluster benchmark's throughput figures cannot settle on a shared machine. Each read is
/// what an OSD does for a client read: `readWithCRC`, and with none the crc the messenger then
/// computes over the reply itself. Runs only with `LOLIGO_STORE_BENCH=1`, best in a release
/// build: `LOLIGO_STORE_BENCH=1 swift test -c release --disable-swift-testing --filter
/// StoreReadCostBenchmark`. Prints figures; asserts only that every read returned its object.
final class StoreReadCostBenchmark: XCTestCase {
  let pg = PGID(pool: 1, seed: 0)

  func testReadCostWithAndWithoutChecksums() throws {
    guard ProcessInfo.processInfo.environment["LOLIGO_STORE_BENCH"] == "1" else {
      throw XCTSkip("set LOLIGO_STORE_BENCH=1 to run")
    }
    let base = FileManager.default.temporaryDirectory
      .appendingPathComponent("store-read-cost-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: base) }
    for (size, count, rounds) in [(4096, 20_000, 11), (4 << 20, 64, 11)] {
      var stores: [String: DurableStore] = [:]
      for (label, checksums) in [("crc32c", StoreChecksums.default), ("none", .off)] {
        let directory = base.appendingPathComponent("\(label)-\(size)").path
        try FileManager.default.createDirectory(
          atPath: directory, withIntermediateDirectories: true)
        try DurableStore.mkfs(directory: directory)
        let store = try DurableStore(directory: directory, checksums: checksums)
        var t = StoreTransaction()
        t.append(.createCollection(pg))
        try store.apply(t)
        var bytes = (0..<size).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 11) }
        for index in 0..<count {
          withUnsafeBytes(of: UInt64(index).littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
          var w = StoreTransaction()
          w.append(.writeFull(pg, ObjectID("obj-\(index)"), data: ByteBuffer(bytes: bytes)))
          try store.apply(w)
        }
        stores[label] = store
      }
      defer { for store in stores.values { store.close() } }
      var perOp: [String: [Double]] = ["crc32c": [], "none": []]
      for round in 0..<rounds {
        let order = round % 2 == 0 ? ["crc32c", "none"] : ["none", "crc32c"]
        let names = (0..<count).map { ObjectID("obj-\($0)") }.shuffled()
        for label in order {
          let store = stores[label]!
          let checks = label == "crc32c"
          let started = threadCPUNanoseconds()
          var bytes = 0
          for name in names {
            let (data, known) = try store.readWithCRC(pg, name, offset: 0, length: nil)
            // With none the messenger computes the reply's crc; with crc32c the store's vouches.
            let crc = checks ? known : nil
            let sent = crc ?? CRC32C.checksum(data, seed: 0xFFFF_FFFF)
            if round == 0, checks {
              // Warm-up round, not counted: the crc the store vouches for is the data's.
              XCTAssertEqual(sent, CRC32C.checksum(data, seed: 0xFFFF_FFFF), "\(name)")
            }
            bytes += data.readableBytes
          }
          let spent = threadCPUNanoseconds() - started
          XCTAssertEqual(bytes, size * count, "\(label): a read came back short")
          // The first rounds warm caches and wait out RocksDB's compactions after the writes.
          if round >= 3 { perOp[label]!.append(Double(spent) / Double(count) / 1000) }
        }
      }
      func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
      let on = median(perOp["crc32c"]!)
      let off = median(perOp["none"]!)
      // Rounds side by side (each pair ran back to back): steadier than the two medians.
      let paired = median(zip(perOp["crc32c"]!, perOp["none"]!).map { $0 - $1 })
      print(
        String(
          format:
            "store read cost, %@ objects x %d, %d rounds: crc32c %.2f us/op, none %.2f us/op, "
            + "median of paired differences %+.2f us/op (after 3 warm-up rounds: crc32c %@; none %@)",
          size == 4096 ? "4 KiB" : "4 MiB", count, rounds, on, off, paired,
          perOp["crc32c"]!.map { String(format: "%.2f", $0) }.joined(separator: " "),
          perOp["none"]!.map { String(format: "%.2f", $0) }.joined(separator: " ")))
    }
  }

  func threadCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }
}
