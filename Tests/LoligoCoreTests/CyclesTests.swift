import XCTest

@testable import LoligoCore

final class CyclesTests: XCTestCase {
  func testCalibrationOnThisMachineIsSane() {
    let calibration = Cycles.calibration
    switch calibration.source {
    case .tsc:
      XCTAssertGreaterThan(calibration.cyclesPerSecond, 1e6)
      XCTAssertLessThan(calibration.cyclesPerSecond, 1e11)
      XCTAssertNil(calibration.fallbackReason)
    case .monotonic:
      XCTAssertEqual(calibration.cyclesPerSecond, 1e9)
      XCTAssertNotNil(calibration.fallbackReason)
    }
  }

  func testTSCUsedWhenInvariantFlagsPresent() {
    let env = Cycles.Environment(
      cpuFlags: ["fpu", "constant_tsc", "nonstop_tsc"], forceMonotonic: false, counterFrequency: 0)
    let calibration = Cycles.calibrate(environment: env)
    #if arch(x86_64)
      XCTAssertEqual(calibration.source, .tsc)
      XCTAssertGreaterThanOrEqual(calibration.windows, 2, "needs two agreeing windows")
    #endif
  }

  func testFallsBackWithoutInvariantTSC() {
    let env = Cycles.Environment(
      cpuFlags: ["fpu", "constant_tsc"], forceMonotonic: false, counterFrequency: 0)
    let calibration = Cycles.calibrate(environment: env)
    #if arch(x86_64)
      XCTAssertEqual(calibration.source, .monotonic)
      XCTAssertEqual(calibration.cyclesPerSecond, 1e9)
      XCTAssertTrue(calibration.fallbackReason?.contains("nonstop_tsc") ?? false)
    #endif
  }

  func testForcedMonotonic() {
    let env = Cycles.Environment(cpuFlags: nil, forceMonotonic: true, counterFrequency: 0)
    let calibration = Cycles.calibrate(environment: env)
    XCTAssertEqual(calibration.source, .monotonic)
    XCTAssertTrue(calibration.description.contains("CLOCK_MONOTONIC_RAW"))
  }

  func testParseCPUFlags() {
    let text = "processor\t: 0\nflags\t\t: fpu tsc constant_tsc nonstop_tsc rdtscp\nbogomips : 1\n"
    XCTAssertEqual(
      Cycles.parseCPUFlags(text), ["fpu", "tsc", "constant_tsc", "nonstop_tsc", "rdtscp"])
    XCTAssertNil(Cycles.parseCPUFlags("processor : 0\n"))
  }

  func testConversionsRoundTrip() {
    for ns: UInt64 in [0, 1_000, 123_456_789, 10_000_000_000] {
      let cycles = Cycles.fromNanoseconds(ns)
      let back = Cycles.toNanoseconds(cycles)
      XCTAssertLessThanOrEqual(back > ns ? back - ns : ns - back, 2, "ns \(ns)")
    }
    XCTAssertEqual(Cycles.toMicroseconds(Cycles.fromNanoseconds(5_999)), 5)
    XCTAssertEqual(Cycles.toSeconds(Cycles.fromSeconds(2.5)), 2.5, accuracy: 1e-6)
  }

  /// The counter advances with real time at the calibrated rate (10 ms ± 50 %; a busy VM may
  /// stretch the sleep, never shorten it).
  func testCounterTracksTime() {
    let start = Cycles.now()
    usleep(10_000)
    let elapsed = Cycles.toNanoseconds(Cycles.now() &- start)
    XCTAssertGreaterThanOrEqual(elapsed, 9_000_000)
    XCTAssertLessThan(elapsed, 1_000_000_000)
  }
}
