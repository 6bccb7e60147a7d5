import LoligoPlacement
import XCTest

@testable import LoligoMon

/// `osd set|unset` and what the monitors do under noup, nodown, noout and noin.
final class OSDMapFlagTests: XCTestCase {
  func testSetAndUnsetAreEpochsOnlyWhenTheyChangeSomething() throws {
    let h = try ServiceHarness()
    let start = h.map.epoch
    XCTAssertEqual(h.run(["prefix": "osd set", "key": "noout"]).status, "noout is set")
    XCTAssertEqual(h.map.flags, OSDMapFlags.noOut)
    XCTAssertEqual(h.map.epoch, start + 1)
    XCTAssertEqual(h.run(["prefix": "osd set", "key": "noout"]).code, 0)
    XCTAssertEqual(h.map.epoch, start + 1, "already set: no new epoch")
    XCTAssertEqual(h.run(["prefix": "osd set", "key": "pause"]).code, 0)
    XCTAssertEqual(OSDMapFlags.names(h.map.flags), ["pauserd", "pausewr", "noout"])
    XCTAssertEqual(try h.healthChecks()["OSDMAP_FLAGS"], "pauserd,pausewr,noout flag(s) set")
    let dump = try h.readJSON("osd dump")
    XCTAssertEqual(dump["flags"] as? String, "pauserd,pausewr,noout")
    XCTAssertEqual(dump["flags_set"] as? [String], ["pauserd", "pausewr", "noout"])
    XCTAssertEqual(h.run(["prefix": "osd unset", "key": "pause"]).status, "pause is unset")
    XCTAssertEqual(h.run(["prefix": "osd unset", "key": "noout"]).code, 0)
    XCTAssertEqual(h.map.flags, 0)
    XCTAssertNil(try h.healthChecks()["OSDMAP_FLAGS"])
    for key: Any in ["sortbitwise", "", 5, ["noout"]] {
      XCTAssertEqual(h.run(["prefix": "osd set", "key": key]).code, Errno.invalid.rawValue)
    }
    XCTAssertEqual(h.run(["prefix": "osd set"]).code, Errno.invalid.rawValue)
    XCTAssertEqual(h.map.flags, 0)
    // Survives a restart (the flags are in the map).
    _ = h.run(["prefix": "osd set", "key": "nodown"])
    XCTAssertEqual(try MonServices(store: h.store).osdmap.map.flags, OSDMapFlags.noDown)
  }

  func testNoUpKeepsBootingOSDsDownAndTakesARestartedOneDown() throws {
    let h = try ServiceHarness()
    h.bootOSDs(2)
    _ = h.run(["prefix": "osd set", "key": "noup"])
    let epoch = h.map.epoch
    let fresh = h.run(["prefix": "osd boot", "id": 5, "addr": "127.0.0.1:7005", "host": "h5"])
    XCTAssertEqual(fresh.code, Errno.busy.rawValue)
    XCTAssertTrue(fresh.status.contains("noup"), fresh.status)
    XCTAssertFalse(h.map.exists(5))
    XCTAssertEqual(h.map.epoch, epoch, "a refused boot is no epoch")
    // osd.1 restarted: its old instance is gone, so it is down now, and stays down.
    let restarted = h.run(["prefix": "osd boot", "id": 1, "addr": "127.0.0.1:8001"])
    XCTAssertEqual(restarted.code, Errno.busy.rawValue)
    XCTAssertFalse(h.map.isUp(1))
    XCTAssertEqual(h.map.entry(1)?.downAt, h.map.epoch)
    _ = h.run(["prefix": "osd unset", "key": "noup"])
    XCTAssertEqual(h.run(["prefix": "osd boot", "id": 1, "addr": "127.0.0.1:8001"]).code, 0)
    XCTAssertTrue(h.map.isUp(1))
  }

  func testNoDownIgnoresFailuresAndRefusesOSDDown() throws {
    let h = try ServiceHarness()
    h.bootOSDs(3)
    _ = h.run(["prefix": "osd set", "key": "nodown"])
    let epoch = h.map.epoch
    let failure = h.run(["prefix": "osd failure", "ids": [1], "reporter": 0])
    XCTAssertEqual(failure.code, 0)
    XCTAssertTrue(failure.status.contains("nodown"), failure.status)
    let down = h.run(["prefix": "osd down", "ids": [2]])
    XCTAssertEqual(down.code, Errno.busy.rawValue)
    XCTAssertTrue(down.status.contains("nodown flag is set"), down.status)
    XCTAssertEqual(h.map.epoch, epoch)
    XCTAssertEqual(h.map.osds.filter(\.isUp).count, 3)
    XCTAssertEqual(h.run(["prefix": "osd down", "ids": [9]]).code, Errno.noEntry.rawValue)
    _ = h.run(["prefix": "osd unset", "key": "nodown"])
    XCTAssertEqual(h.run(["prefix": "osd down", "ids": [2]]).code, 0)
    XCTAssertFalse(h.map.isUp(2))
  }

  func testNoOutStopsTheAutomaticOut() throws {
    let h = try ServiceHarness()
    h.bootOSDs(3)
    _ = h.run(["prefix": "osd failure", "ids": [1]], stamp: 2000)
    XCTAssertEqual(h.services.osdmap.dueForOut(now: 2700, interval: 600), [1])
    _ = h.run(["prefix": "osd set", "key": "noout"])
    XCTAssertEqual(h.services.osdmap.dueForOut(now: 2700, interval: 600), [])
    // A proposal already on its way when noout was set marks nothing out either.
    let late = h.run(["prefix": "osd out", "ids": [1], "auto": true], stamp: 2700)
    XCTAssertTrue(late.status.contains("noout"), late.status)
    XCTAssertTrue(h.map.isIn(1))
    // An explicit out still works.
    XCTAssertEqual(h.run(["prefix": "osd out", "ids": [2]]).code, 0)
    XCTAssertFalse(h.map.isIn(2))
    _ = h.run(["prefix": "osd unset", "key": "noout"])
    XCTAssertEqual(h.services.osdmap.dueForOut(now: 2700, interval: 600), [1])
  }

  func testAutoOutIsMarkedInAtBootUnlessNoIn() throws {
    let h = try ServiceHarness()
    h.bootOSDs(3)
    _ = h.run(["prefix": "osd failure", "ids": [1, 2]], stamp: 2000)
    _ = h.run(["prefix": "osd out", "ids": [1, 2], "auto": true], stamp: 2700)
    XCTAssertFalse(h.map.isIn(1))
    XCTAssertEqual(h.map.entry(1)?.state.contains(.autoOut), true)
    _ = h.run(["prefix": "osd out", "ids": [0]])  // by hand: stays out at its next boot
    _ = h.run(["prefix": "osd set", "key": "noin"])
    let noin = h.run(["prefix": "osd boot", "id": 1, "addr": "127.0.0.1:9001"])
    XCTAssertEqual(noin.code, 0)
    XCTAssertTrue(h.map.isUp(1))
    XCTAssertFalse(h.map.isIn(1), "noin: an automatically out OSD is not marked in")
    let fresh = h.run(["prefix": "osd boot", "id": 3, "addr": "127.0.0.1:9003", "host": "h3"])
    XCTAssertTrue(fresh.status.contains("noin"), fresh.status)
    XCTAssertFalse(h.map.isIn(3))
    XCTAssertEqual(h.map.entry(3)?.state.contains(.new), true)
    _ = h.run(["prefix": "osd unset", "key": "noin"])
    _ = h.run(["prefix": "osd boot", "id": 2, "addr": "127.0.0.1:9002"])
    XCTAssertTrue(h.map.isIn(2), "automatically out, booted without noin: in again")
    XCTAssertEqual(h.map.entry(2)?.state.contains(.autoOut), false)
    _ = h.run(["prefix": "osd boot", "id": 3, "addr": "127.0.0.1:9013"])
    XCTAssertTrue(h.map.isIn(3), "new, booted without noin: in")
    _ = h.run(["prefix": "osd failure", "ids": [0]])
    _ = h.run(["prefix": "osd boot", "id": 0, "addr": "127.0.0.1:9000"])
    XCTAssertFalse(h.map.isIn(0), "marked out by hand: stays out")
  }
}
