import Foundation
import Histogram
import XCTest

@testable import LoligoBench

/// The compressed base64 form against strings other HdrHistogram implementations wrote, exact
/// round trips and merges, and hostile input.
final class HdrHistogramEncodingTests: XCTestCase {
  /// HdrHistogram_c's standard test histogram (as listed in the Python hdrhistogram test
  /// suite, ENCODE_SAMPLES_HDRHISTOGRAM_C): lowest 1, highest 3,600,000,000, 3 digits, the
  /// value 1000 recorded 10,000 times and 100,000,000 once.
  static let cStandard =
    "HISTFAAAACl4nJNpmSzMwMBgyAABzFCaEURcm7yEwf4DROA8/4I5jNM7mJgAlWkH9g=="
  /// Java's and C's (1, 2048, 3) histogram with 2048 recorded once (byte-identical from
  /// both, per the Go port's interop fixtures).
  static let javaBoundary2048 = "HISTFAAAACB4nJNpmSzMwMDAzAABMJoRQnEw2H+AsP7LMwEARZgDpQ=="

  func testDecodesTheCStandardHistogram() throws {
    let histogram = try HdrHistogramEncoding.decode(Self.cStandard)
    XCTAssertEqual(histogram.lowestDiscernibleValue, 1)
    XCTAssertEqual(histogram.highestTrackableValue, 3_600_000_000)
    XCTAssertEqual(histogram.numberOfSignificantValueDigits, .three)
    XCTAssertEqual(histogram.totalCount, 10_001)
    XCTAssertEqual(histogram.countForValue(1000), 10_000)
    XCTAssertEqual(histogram.countForValue(100_000_000), 1)
    XCTAssertEqual(Array(histogram.recordedValues()).count, 2)
  }

  func testDecodesJavasBoundaryHistogram() throws {
    let histogram = try HdrHistogramEncoding.decode(Self.javaBoundary2048)
    XCTAssertEqual(histogram.highestTrackableValue, 2048)
    XCTAssertEqual(histogram.totalCount, 1)
    XCTAssertEqual(histogram.countForValue(2048), 1)
  }

  /// Our encoder writes, before compression, the very bytes C and Java wrote (compressed
  /// bytes may differ with the zlib build; the encoding inside may not).
  func testEncodesTheSameBytesAsCAndJava() throws {
    var standard = Histogram<UInt64>(
      lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: .three)
    standard.record(1000, count: 10_000)
    standard.record(100_000_000)
    // All but the payload length: C counts the 40-byte header in it (9 + 40 here), Java and
    // we do not; C's and Python's decoders read what is there either way.
    var ours = try plainBytes(HdrHistogramEncoding.encode(standard))
    var theirs = try plainBytes(Self.cStandard)
    XCTAssertEqual(HdrHistogramEncoding.readBigEndian(UInt32.self, ours, at: 4), 9)
    XCTAssertEqual(HdrHistogramEncoding.readBigEndian(UInt32.self, theirs, at: 4), 49)
    ours.replaceSubrange(4..<8, with: [0, 0, 0, 0])
    theirs.replaceSubrange(4..<8, with: [0, 0, 0, 0])
    XCTAssertEqual(ours, theirs)

    var boundary = Histogram<UInt64>(
      lowestDiscernibleValue: 1, highestTrackableValue: 2048,
      numberOfSignificantValueDigits: .three)
    boundary.record(2048)
    XCTAssertEqual(
      try plainBytes(HdrHistogramEncoding.encode(boundary)),
      try plainBytes(Self.javaBoundary2048))
    XCTAssertTrue(HdrHistogramEncoding.encode(boundary).hasPrefix("HISTFAA"))
  }

  func testRoundTripKeepsEveryCount() throws {
    var generator = RadosBenchRandom(seed: 16)
    var original = LatencyHistogram()
    for _ in 0..<50_000 { original.record(nanoseconds: generator.latency()) }
    original.record(nanoseconds: 1)
    original.record(nanoseconds: 100_000_000_000)
    let decoded = try LatencyHistogram(encoded: original.encoded)
    XCTAssertEqual(decoded.count, original.count)
    XCTAssertEqual(buckets(decoded), buckets(original))
    XCTAssertEqual(decoded.summary().p50Us, original.summary().p50Us)
    XCTAssertEqual(decoded.summary().p99Us, original.summary().p99Us)
    XCTAssertEqual(decoded.summary().maxUs, original.summary().maxUs)
    XCTAssertEqual(decoded.histogram.min, original.histogram.min)
    // Empty, too.
    XCTAssertEqual(try LatencyHistogram(encoded: LatencyHistogram().encoded).count, 0)
  }

  /// Our bucket layout is the Swift package's for other parameters too: every count comes back
  /// at its value.
  func testRoundTripAcrossLayouts() throws {
    let layouts: [(UInt64, UInt64, SignificantDigits)] = [
      (1, 2048, .zero), (1000, 3_600_000_000_000, .two), (7, 1 << 40, .four), (1, 1 << 62, .one),
      (1 << 20, 1 << 50, .four), (3, 1 << 24, .five),
    ]
    var generator = RadosBenchRandom(seed: 3)
    for (lowest, highest, digits) in layouts {
      var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: lowest, highestTrackableValue: highest,
        numberOfSignificantValueDigits: digits)
      for _ in 0..<2000 {
        // Up to 2^40: the package's iterators sum value × count in 64 bits.
        let value = generator.next() >> UInt64(24 + generator.next() % 40)
        histogram.record(min(value, highest), count: 1 + generator.next() % 5)
      }
      let decoded = try HdrHistogramEncoding.decode(HdrHistogramEncoding.encode(histogram))
      XCTAssertEqual(decoded.totalCount, histogram.totalCount, "\(lowest) \(highest)")
      XCTAssertEqual(
        decoded.recordedValues().map { [$0.value, $0.count] },
        histogram.recordedValues().map { [$0.value, $0.count] }, "\(lowest) \(highest)")
    }
  }

  func testMergeOfTwoDecodedEqualsOneFedBoth() throws {
    var generator = RadosBenchRandom(seed: 7)
    var first = LatencyHistogram()
    var second = LatencyHistogram()
    var both = LatencyHistogram()
    for index in 0..<40_000 {
      let sample = generator.latency() * (index % 3 == 0 ? 7 : 1)
      if index % 2 == 0 {
        first.record(nanoseconds: sample)
      } else {
        second.record(nanoseconds: sample)
      }
      both.record(nanoseconds: sample)
    }
    let merged = try LatencyHistogram(encoded: first.encoded)
      .merging(LatencyHistogram(encoded: second.encoded))
    XCTAssertEqual(merged.count, both.count)
    XCTAssertEqual(buckets(merged), buckets(both))
    XCTAssertEqual(merged.encoded, both.encoded)

    let other = try LatencyHistogram(encoded: Self.cStandard)
    XCTAssertThrowsError(try first.merging(other)) {
      XCTAssertEqual($0 as? LatencyHistogram.MergeError, .differentLayouts)
    }
  }

  func testEveryTruncationIsAnError() throws {
    var histogram = LatencyHistogram()
    for value in stride(from: UInt64(1000), to: 2_000_000, by: 997) {
      histogram.record(nanoseconds: value)
    }
    let bytes = [UInt8](Data(base64Encoded: histogram.encoded)!)
    for length in 0..<bytes.count {
      let text = Data(bytes[..<length]).base64EncodedString()
      XCTAssertThrowsError(try HdrHistogramEncoding.decode(text), "\(length) bytes")
    }
    // The plain encoding cut, then compressed whole: a cut header is an error; a cut payload
    // (whose length field readers do not trust, see above) an error mid-number, else fewer
    // counts — never a crash, never more.
    let plain = try plainBytes(histogram.encoded)
    for length in 0..<HdrHistogramEncoding.headerLength {
      XCTAssertThrowsError(try HdrHistogramEncoding.decode(wrap(Array(plain[..<length]))))
    }
    for length in HdrHistogramEncoding.headerLength..<plain.count {
      if let cut = try? HdrHistogramEncoding.decode(wrap(Array(plain[..<length]))) {
        XCTAssertLessThan(cut.totalCount, histogram.count)
      }
    }
  }

  func testHostileInputIsACleanError() throws {
    func error(_ text: String) -> HdrHistogramDecodingError? {
      do {
        _ = try HdrHistogramEncoding.decode(text)
        return nil
      } catch { return error }
    }
    XCTAssertEqual(error("not base64 !"), .notBase64)
    XCTAssertEqual(error(String(repeating: "A", count: 17 << 20)), .notBase64)
    // The plain cookie where the compressed one belongs, and the reverse.
    let plain = try plainBytes(Self.cStandard)
    XCTAssertEqual(
      error(Data(plain).base64EncodedString()), .wrongCookie(HdrHistogramEncoding.plainCookie))
    var swapped = plain
    swapped[3] = 0x14
    XCTAssertEqual(error(wrap(swapped)), .wrongCookie(HdrHistogramEncoding.compressedCookie))
    // A compressed length far beyond the bytes there.
    var bytes = [UInt8](Data(base64Encoded: Self.cStandard)!)
    bytes[4] = 0x7F
    XCTAssertEqual(error(Data(bytes).base64EncodedString()), .truncated)
    // Not zlib after a good header.
    var garbage: [UInt8] = [0x1C, 0x84, 0x93, 0x14, 0, 0, 0, 16]
    garbage += [UInt8](repeating: 0xA5, count: 16)
    XCTAssertEqual(error(Data(garbage).base64EncodedString()), .badCompression)
    // A zlib bomb: 64 MiB of zeros inflates past the cap, never into memory.
    XCTAssertEqual(error(wrap([UInt8](repeating: 0, count: 64 << 20))), .badCompression)
    // Header fields out of range.
    XCTAssertEqual(error(wrap(header(payload: 0, digits: 6))), .unsupportedParameters)
    XCTAssertEqual(error(wrap(header(payload: 0, digits: -1))), .unsupportedParameters)
    XCTAssertEqual(error(wrap(header(payload: 0, lowest: 0))), .unsupportedParameters)
    // Just below 2^62: the Swift package's float log2 would trap on it.
    XCTAssertEqual(
      error(wrap(header(payload: 0, lowest: (1 << 62) - 1, highest: UInt64(Int64.max), digits: 0))),
      .unsupportedParameters)
    XCTAssertEqual(error(wrap(header(payload: 0, highest: 1))), .unsupportedParameters)
    XCTAssertEqual(
      error(wrap(header(payload: 0, highest: UInt64(Int64.max), digits: 5))),
      .unsupportedParameters)
    XCTAssertEqual(error(wrap(header(payload: 0, offset: 3))), .unsupportedParameters)
    // A payload length beyond the bytes: read what is there, as C and Python do.
    XCTAssertEqual(
      try HdrHistogramEncoding.decode(wrap(header(payload: 0x7FFF_FFFF))).totalCount, 0)
    // Counts past the layout's end, a zero run of Int64.min, counts summing past 2^64.
    XCTAssertEqual(error(wrap(header(counts: [-1_000_000, 5]))), .badCounts)
    XCTAssertEqual(error(wrap(header(counts: [Int64.min]))), .badCounts)
    XCTAssertEqual(error(wrap(header(counts: [Int64.max, Int64.max, Int64.max]))), .badCounts)
    // A 9-byte number cut short.
    XCTAssertEqual(error(wrap(header(payload: 2) + [0xFF, 0xFF])), .truncated)
    // A well-formed hand-made one decodes.
    let made = try HdrHistogramEncoding.decode(wrap(header(counts: [0, -3, 4])))
    XCTAssertEqual(made.totalCount, 4)
    XCTAssertEqual(made.countForValue(4), 4)
  }

  // MARK: Helpers

  private func plainBytes(_ text: String) throws -> [UInt8] {
    let bytes = try XCTUnwrap(Data(base64Encoded: text))
    return try Zlib.inflate(Array(bytes.dropFirst(8)), limit: 1 << 20)
  }

  /// The compressed base64 form around `plain`.
  private func wrap(_ plain: [UInt8]) -> String {
    let deflated = Zlib.compress(plain)
    var bytes: [UInt8] = []
    HdrHistogramEncoding.appendBigEndian(HdrHistogramEncoding.compressedCookie, to: &bytes)
    HdrHistogramEncoding.appendBigEndian(UInt32(deflated.count), to: &bytes)
    return Data(bytes + deflated).base64EncodedString()
  }

  private func header(
    payload: Int = 0, lowest: UInt64 = 1, highest: UInt64 = 1_000_000, digits: Int32 = 3,
    offset: UInt32 = 0
  ) -> [UInt8] {
    var bytes: [UInt8] = []
    HdrHistogramEncoding.appendBigEndian(HdrHistogramEncoding.plainCookie, to: &bytes)
    HdrHistogramEncoding.appendBigEndian(UInt32(payload), to: &bytes)
    HdrHistogramEncoding.appendBigEndian(offset, to: &bytes)
    HdrHistogramEncoding.appendBigEndian(UInt32(bitPattern: digits), to: &bytes)
    HdrHistogramEncoding.appendBigEndian(lowest, to: &bytes)
    HdrHistogramEncoding.appendBigEndian(highest, to: &bytes)
    HdrHistogramEncoding.appendBigEndian((1.0 as Double).bitPattern, to: &bytes)
    return bytes
  }

  private func header(counts: [Int64]) -> [UInt8] {
    var payload: [UInt8] = []
    for count in counts { ZigZagLEB128.append(count, to: &payload) }
    return header(payload: payload.count) + payload
  }

  private func buckets(_ histogram: LatencyHistogram) -> [[UInt64]] {
    histogram.histogram.recordedValues().map { [$0.value, $0.count] }
  }
}

/// Seeded latencies: mostly 50–500 µs, a tail to 50 ms.
extension RadosBenchRandom {
  fileprivate mutating func latency() -> UInt64 {
    let base = 50_000 + next() % 450_000
    return next() % 100 == 0 ? base * (1 + next() % 100) : base
  }
}
