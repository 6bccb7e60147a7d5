import Foundation
import LoligoMessages
import LoligoPlacement
import NIOCore
import XCTest

@testable import LoligoOSD

/// Every field of an op comes from a peer (a client, or a primary for a replica): random
/// codes, offsets, lengths, names and payloads run through the OSD's op execution against
/// both stores, where each must be refused with an errno or done, never trap.
final class HostileOpTests: XCTestCase {
  let pg = PGID(pool: 1, seed: 7)

  /// Values that sit on the edges of every bound an op is checked against.
  static let edges: [UInt64] = [
    0, 1, 4095, 4096, OSDOpExecution.maxObjectSize - 1, OSDOpExecution.maxObjectSize,
    OSDOpExecution.maxObjectSize + 1, UInt64(Int.max), UInt64(Int.max) + 1, 1 << 63, .max - 1,
    .max,
  ]

  func testRandomOpsAreRefusedOrDoneOnBothStores() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "hostile-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: directory) }
    try DurableStore.mkfs(directory: directory.path)
    // Stores smaller than the OSD's limit keep objects small here; ops between the two
    // limits meet the stores' own checks.
    let stores: [any ObjectStore] = [
      MemStore(maxObjectSize: 1 << 20),
      try DurableStore(directory: directory.path, maxObjectSize: 1 << 20),
    ]
    for store in stores {
      defer { store.close() }
      try store.apply(transaction(.createCollection(pg)))
      var random = SystemRandomNumberGenerator()
      var refused = 0
      for round in 0..<600 {
        let ops = (0..<Int.random(in: 1...3, using: &random)).map { _ in
          randomOperation(using: &random)
        }
        var data = ByteBuffer()
        for op in ops {
          data.writeBytes((0..<Int(op.payloadLength)).map { UInt8(truncatingIfNeeded: $0) })
        }
        let object = ObjectID("o\(round % 5)")
        let payloads = OSDOpExecution.payloads(ops, data: data)
        do {
          if let t = try OSDOpExecution.transaction(
            ops, payloads: payloads, pg: pg, object: object)
          {
            do { try store.apply(t) } catch { refused += 1 }
          }
        } catch {
          XCTAssertLessThan(error.code, 0)
          refused += 1
        }
        let (results, out, _, _) = OSDOpExecution.reads(
          ops, payloads: payloads, pg: pg, object: object, store: store)
        XCTAssertEqual(results.count, ops.count)
        XCTAssertEqual(results.reduce(0) { $0 + Int($1.outLength) }, out.readableBytes)
      }
      XCTAssertGreaterThan(refused, 0, "\(store.kind): the edges must be refused sometimes")
    }
  }

  private func randomOperation(using random: inout SystemRandomNumberGenerator) -> OSDOperation {
    let codes: [OSDOpCode] = [
      .read, .stat, .omapGetValues, .getXattr, .listObjects, .write, .writeFull, .truncate,
      .delete, .create, .omapSetValues, .setXattr,
    ]
    let pick = { (random: inout SystemRandomNumberGenerator) -> UInt64 in
      Bool.random(using: &random)
        ? HostileOpTests.edges.randomElement(using: &random)!
        : UInt64.random(in: 0...(1 << 20), using: &random)
    }
    let names = ["", "a", String(repeating: "x", count: 300), "_", "\u{0}"]
    return OSDOperation(
      code: codes.randomElement(using: &random)!, offset: pick(&random), length: pick(&random),
      payloadLength: UInt32.random(in: 0...64, using: &random),
      name: names.randomElement(using: &random)!)
  }

  private func transaction(_ ops: StoreTransaction.Operation...) -> StoreTransaction {
    var t = StoreTransaction()
    for op in ops { t.append(op) }
    return t
  }
}
