import Foundation
import Histogram

/// HdrHistogram's standard "compressed base64" form of a histogram (the `HISTFAA...` strings of
/// its interval logs, read by Java's and C's `HistogramLogReader` and Python's `decode`).
///
/// The V2 encoding, big-endian: cookie `0x1c849313`, payload length, normalizing index offset
/// (0), significant digits (all 32-bit), lowest and highest trackable value (64-bit), the
/// integer-to-double ratio (a 64-bit float, 1.0), then the counts in index order up to the last
/// non-zero one, each a ZigZag LEB128 number where a run of two or more zeros is written as
/// minus its length. The compressed form is cookie `0x1c849314`, the zlib stream's length and
/// the zlib-compressed V2 encoding; base64 of that is the string.
public enum HdrHistogramEncoding {
  static let plainCookie: UInt32 = 0x1c84_9313
  static let compressedCookie: UInt32 = 0x1c84_9314
  static let headerLength = 40
  /// The longest string `decode` reads: far above any histogram of `maxCountsLength` counts
  /// (at most 9 bytes each before compression), and a bound on hostile input.
  public static let maxEncodedLength = 16 << 20

  /// The compressed base64 string of `histogram`.
  public static func encode(_ histogram: Histogram<UInt64>) -> String {
    guard
      let layout = HdrBucketLayout(
        lowest: histogram.lowestDiscernibleValue, highest: histogram.highestTrackableValue,
        significantDigits: Int(histogram.numberOfSignificantValueDigits.rawValue),
        maxCounts: .max)
    else {
      // The package's own histograms start at 1 ns; the Swift package itself traps on far
      // larger lowest values than this refuses.
      preconditionFailure("lowest discernible value above HdrBucketLayout's 2^32")
    }
    var counts: [(index: Int, count: UInt64)] = []
    for bucket in histogram.recordedValues() {
      counts.append((layout.index(of: bucket.value), bucket.count))
    }
    counts.sort { $0.index < $1.index }

    var payload: [UInt8] = []
    var next = 0
    for (index, count) in counts {
      let zeros = index - next
      if zeros == 1 { ZigZagLEB128.append(0, to: &payload) }
      if zeros > 1 { ZigZagLEB128.append(-Int64(zeros), to: &payload) }
      // 2^63 samples cannot be recorded in any run.
      precondition(count <= UInt64(Int64.max), "histogram count beyond 2^63 - 1")
      ZigZagLEB128.append(Int64(count), to: &payload)
      next = index + 1
    }

    var plain: [UInt8] = []
    plain.reserveCapacity(headerLength + payload.count)
    appendBigEndian(plainCookie, to: &plain)
    appendBigEndian(UInt32(payload.count), to: &plain)
    appendBigEndian(UInt32(0), to: &plain)
    appendBigEndian(UInt32(layout.significantDigits), to: &plain)
    appendBigEndian(layout.lowestDiscernibleValue, to: &plain)
    appendBigEndian(layout.highestTrackableValue, to: &plain)
    appendBigEndian((1.0 as Double).bitPattern, to: &plain)
    plain += payload

    let deflated = Zlib.compress(plain)
    var compressed: [UInt8] = []
    appendBigEndian(compressedCookie, to: &compressed)
    appendBigEndian(UInt32(deflated.count), to: &compressed)
    compressed += deflated
    return Data(compressed).base64EncodedString()
  }

  /// The histogram in `text`, exactly as encoded (every count at its index). Any input is
  /// safe: a malformed one throws, and nothing allocates beyond `maxEncodedLength` and
  /// `HdrBucketLayout.maxCountsLength` counts.
  public static func decode(_ text: String) throws(HdrHistogramDecodingError) -> Histogram<UInt64> {
    guard text.utf8.count <= maxEncodedLength, let data = Data(base64Encoded: text) else {
      throw .notBase64
    }
    let bytes = [UInt8](data)
    guard bytes.count >= 8 else { throw .truncated }
    let cookie = readBigEndian(UInt32.self, bytes, at: 0)
    guard cookie == compressedCookie else { throw .wrongCookie(cookie) }
    let deflatedLength = Int(readBigEndian(UInt32.self, bytes, at: 4))
    guard deflatedLength <= bytes.count - 8 else { throw .truncated }
    let limit = headerLength + 9 * HdrBucketLayout.maxCountsLength
    let plain: [UInt8]
    do {
      plain = try Zlib.inflate(Array(bytes[8..<(8 + deflatedLength)]), limit: limit)
    } catch {
      throw .badCompression
    }
    return try decodePlain(plain)
  }

  /// The uncompressed V2 encoding.
  static func decodePlain(_ bytes: [UInt8]) throws(HdrHistogramDecodingError) -> Histogram<
    UInt64
  > {
    guard bytes.count >= headerLength else { throw .truncated }
    let cookie = readBigEndian(UInt32.self, bytes, at: 0)
    guard cookie == plainCookie else { throw .wrongCookie(cookie) }
    let payloadLength = Int(readBigEndian(UInt32.self, bytes, at: 4))
    let normalizingOffset = readBigEndian(UInt32.self, bytes, at: 8)
    let digits = Int(Int32(bitPattern: readBigEndian(UInt32.self, bytes, at: 12)))
    let lowest = readBigEndian(UInt64.self, bytes, at: 16)
    let highest = readBigEndian(UInt64.self, bytes, at: 24)
    guard normalizingOffset == 0,
      let layout = HdrBucketLayout(lowest: lowest, highest: highest, significantDigits: digits),
      let significant = SignificantDigits(rawValue: Int8(digits))
    else { throw .unsupportedParameters }
    // HdrHistogram_c writes the length with the header's 40 bytes in it, and its decoder and
    // Python's read what is there: so do we (the zlib stream already proved its own length).
    let payloadEnd = headerLength + min(payloadLength, bytes.count - headerLength)

    var histogram = Histogram<UInt64>(
      lowestDiscernibleValue: lowest, highestTrackableValue: highest,
      numberOfSignificantValueDigits: significant)
    var total: UInt64 = 0
    var reader = ZigZagLEB128.Reader(bytes: bytes[headerLength..<payloadEnd])
    var index = 0
    var lastCounted: Int?
    while let number = try reader.next() {
      if number < 0 {
        // A run of zeros; Int64.min has no positive counterpart.
        guard number != Int64.min, -number <= Int64(layout.countsLength - index) else {
          throw .badCounts
        }
        index += Int(-number)
        continue
      }
      guard index < layout.countsLength else { throw .badCounts }
      if number > 0 {
        let (sum, overflow) = total.addingReportingOverflow(UInt64(number))
        guard !overflow, histogram.record(layout.value(at: index), count: UInt64(number)) else {
          throw .badCounts
        }
        total = sum
        lastCounted = index
      }
      index += 1
    }
    // Counts went in at their buckets' lowest values; the maximum is the top bucket's highest,
    // as HdrHistogram's own decoders report it (the exact maximum is not in the encoding).
    if let lastCounted {
      histogram.record(histogram.highestEquivalentForValue(layout.value(at: lastCounted)), count: 0)
    }
    return histogram
  }

  static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
  }

  static func readBigEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int)
    -> T
  {
    var value: T = 0
    for byte in bytes[offset..<(offset + MemoryLayout<T>.size)] {
      value = value << 8 | T(byte)
    }
    return value
  }
}
