import LoligoPlacement
import XCTest

@testable import LoligoMon

/// Boots (a new up_from unless the boot is a duplicate) and `osd alive` (up_thru).
final class OSDBootAliveTests: XCTestCase {
  func boot(_ osd: Int, _ addr: String, nonce: Int? = nil) -> [String: Any] {
    var fields: [String: Any] = ["prefix": "osd boot", "id": osd, "addr": addr, "host": "h\(osd)"]
    if let nonce { fields["nonce"] = nonce }
    return fields
  }

  func testABootOfAnUpOSDGivesItANewUpFromInOneEpoch() throws {
    let h = try ServiceHarness()
    h.bootOSDs(3)
    _ = h.run(["prefix": "osd pool create", "pool": "p", "pg_num": 4, "size": 3])
    let before = try XCTUnwrap(h.map.entry(1))
    XCTAssertTrue(before.isUp)
    let epoch = h.map.epoch
    // Restarted (no nonce, or another one): down and up again in the same new epoch.
    XCTAssertEqual(h.run(boot(1, "127.0.0.1:7001")).code, 0)
    var after = try XCTUnwrap(h.map.entry(1))
    XCTAssertEqual(h.map.epoch, epoch + 1)
    XCTAssertTrue(after.isUp)
    XCTAssertEqual(after.upFrom, epoch + 1)
    XCTAssertEqual(after.downAt, epoch + 1, "the old instance went down in that epoch")
    XCTAssertGreaterThan(after.upFrom, before.upFrom)
    // With a nonce: the first boot of that instance is new too; a repeat of it is nothing.
    XCTAssertEqual(h.run(boot(1, "127.0.0.1:7001", nonce: 4242)).code, 0)
    after = try XCTUnwrap(h.map.entry(1))
    XCTAssertEqual(after.upFrom, epoch + 2)
    let duplicate = h.run(boot(1, "127.0.0.1:7001", nonce: 4242))
    XCTAssertEqual(duplicate.code, 0)
    XCTAssertEqual(duplicate.status, "osd.1 already up at 127.0.0.1:7001")
    XCTAssertEqual(h.map.epoch, epoch + 2, "a duplicate boot makes no epoch")
    XCTAssertNotNil(h.services.osdmap.preprocessBoot(boot(1, "127.0.0.1:7001", nonce: 4242)))
    // Two copies in one value: one boot.
    let both = h.commit([boot(2, "127.0.0.1:7002", nonce: 7), boot(2, "127.0.0.1:7002", nonce: 7)])
    XCTAssertEqual(both.map(\.code), [0, 0])
    XCTAssertEqual(h.map.entry(2)?.upFrom, epoch + 3)
    XCTAssertEqual(h.map.epoch, epoch + 3)
    // Another nonce, or another address, is a restart.
    for fields in [boot(1, "127.0.0.1:7001", nonce: 4243), boot(1, "127.0.0.1:7101", nonce: 4243)] {
      XCTAssertNil(h.services.osdmap.preprocessBoot(fields))
      let start = h.map.epoch
      XCTAssertEqual(h.run(fields).code, 0)
      XCTAssertEqual(h.map.entry(1)?.upFrom, start + 1)
    }
    // Down, then the same instance boots again: up again, with a new up_from.
    _ = h.run(["prefix": "osd failure", "ids": [1]])
    XCTAssertNil(h.services.osdmap.preprocessBoot(boot(1, "127.0.0.1:7101", nonce: 4243)))
    XCTAssertEqual(h.run(boot(1, "127.0.0.1:7101", nonce: 4243)).code, 0)
    XCTAssertEqual(h.map.entry(1)?.upFrom, h.map.epoch)
    // The nonces survive a restart, so every monitor keeps deciding alike.
    let reloaded = try MonServices(store: h.store)
    XCTAssertEqual(reloaded.osdmap.bootNonces, h.services.osdmap.bootNonces)
    XCTAssertEqual(reloaded.osdmap.bootNonces[1], 4243)
    XCTAssertNotNil(reloaded.osdmap.preprocessBoot(boot(1, "127.0.0.1:7101", nonce: 4243)))
    XCTAssertEqual(h.run(boot(1, "127.0.0.1:7101", nonce: -5)).code, 0, "any 64-bit integer")
    XCTAssertEqual(
      h.run(boot(0, "127.0.0.1:7000").merging(["nonce": "x"]) { $1 }).code,
      Errno.invalid.rawValue)
  }

  func testAliveSetsUpThruToTheNewEpochBatchedAndIdempotent() throws {
    let h = try ServiceHarness()
    h.bootOSDs(3)
    let epoch = h.map.epoch
    XCTAssertEqual(h.map.entry(0)?.upThru, 0)
    // Batched with a pool create and a boot: one epoch, which is osd.0's up_thru.
    let results = h.commit([
      ["prefix": "osd alive", "id": 0, "want": Int(epoch)],
      ["prefix": "osd pool create", "pool": "p", "pg_num": 8, "size": 2],
      boot(3, "127.0.0.1:7003"),
      ["prefix": "osd alive", "id": 3, "want": Int(epoch + 1)],
    ])
    XCTAssertEqual(results.map(\.code), [0, 0, 0, 0])
    XCTAssertEqual(h.map.epoch, epoch + 1)
    XCTAssertEqual(h.map.entry(0)?.upThru, epoch + 1)
    XCTAssertEqual(h.map.entry(3)?.upThru, epoch + 1, "booted in the same value")
    // Already there: nothing changes.
    let again = h.run(["prefix": "osd alive", "id": 0, "want": Int(epoch + 1)])
    XCTAssertEqual(again.code, 0)
    XCTAssertEqual(h.map.epoch, epoch + 1)
    XCTAssertEqual(h.map.entry(0)?.upThru, epoch + 1)
    // Wanting the next epoch makes it.
    XCTAssertEqual(h.run(["prefix": "osd alive", "id": 1, "want": Int(epoch + 2)]).code, 0)
    XCTAssertEqual(h.map.entry(1)?.upThru, epoch + 2)
    XCTAssertEqual(try MonServices(store: h.store).osdmap.map.entry(1)?.upThru, epoch + 2)
    // Refused: down, absent, beyond the next epoch, outside 32 bits, wrong types.
    _ = h.run(["prefix": "osd failure", "ids": [2]])
    let current = Int(h.map.epoch)
    let refused: [([String: Any], Errno)] = [
      (["id": 2, "want": current], .invalid),
      (["id": 9, "want": current], .noEntry),
      (["id": 0, "want": current + 2], .range),
      (["id": 0, "want": 1 << 33], .invalid),
      (["id": 0, "want": -1], .invalid),
      (["id": 1 << 40, "want": current], .invalid),
      (["id": -1, "want": current], .invalid),
      (["id": "0", "want": current], .invalid),
      (["id": 0, "want": "3"], .invalid),
      (["id": 0], .invalid),
    ]
    let epochBefore = h.map.epoch
    for (fields, code) in refused {
      let result = h.run(fields.merging(["prefix": "osd alive"]) { $1 })
      XCTAssertEqual(result.code, code.rawValue, "\(fields): \(result.status)")
    }
    XCTAssertEqual(h.map.epoch, epochBefore)
  }
}
