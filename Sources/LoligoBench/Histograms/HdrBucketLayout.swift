/// Where each value's count sits in an HdrHistogram's counts array, as every HdrHistogram
/// implementation lays it out (the encoding stores counts by this index, so it must match
/// Java's and C's exactly, not just the Swift package's).
///
/// Bucket 0 holds values 0 ..< 2·halfCount in steps of the unit (`2^unitMagnitude`); each next
/// bucket doubles the step and holds only its upper half, the lower half being the previous
/// buckets' range.
public struct HdrBucketLayout: Sendable, Equatable {
  public let lowestDiscernibleValue: UInt64
  public let highestTrackableValue: UInt64
  public let significantDigits: Int
  let unitMagnitude: Int
  let subBucketHalfCountMagnitude: Int
  let subBucketHalfCount: Int
  let subBucketMask: UInt64
  /// Entries in the counts array: (buckets + 1) × halfCount.
  public let countsLength: Int

  /// Layouts above this many counts are refused: 8 MiB of counts, far beyond any latency
  /// histogram (ours: 28,672), and a bound on what a hostile header can make us allocate.
  public static let maxCountsLength = 1 << 20

  /// The largest lowest discernible value accepted. The Swift package finds a layout's unit
  /// through a floating-point log2, which rounds up just below large powers of two (and then
  /// traps on layouts this one accepts); below 2^32 it is exact. Latencies start at 1 ns.
  public static let maxLowestDiscernibleValue: UInt64 = 1 << 32

  /// nil when the parameters are out of range (lowest 1 ... 2^32, highest ≥ 2 × lowest and
  /// < 2^63, 0...5 digits) or the layout exceeds `maxCounts` (decoding: what a header may make
  /// us allocate).
  public init?(
    lowest: UInt64, highest: UInt64, significantDigits digits: Int,
    maxCounts: Int = maxCountsLength
  ) {
    guard lowest >= 1, lowest <= Self.maxLowestDiscernibleValue, highest >= 2 * lowest,
      highest <= UInt64(Int64.max), (0...5).contains(digits)
    else { return nil }
    var largestSingleUnitValue: UInt64 = 2
    for _ in 0..<digits { largestSingleUnitValue *= 10 }
    // The power of two that reaches 2·10^digits: unit resolution up to there.
    var subBucketCountMagnitude = 0
    while (UInt64(1) << subBucketCountMagnitude) < largestSingleUnitValue {
      subBucketCountMagnitude += 1
    }
    unitMagnitude = 63 - lowest.leadingZeroBitCount
    subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
    guard unitMagnitude + subBucketHalfCountMagnitude <= 61 else { return nil }
    subBucketHalfCount = 1 << subBucketHalfCountMagnitude
    subBucketMask = (UInt64(2 * subBucketHalfCount) - 1) << unitMagnitude

    var smallestUntrackable = UInt64(2 * subBucketHalfCount) << unitMagnitude
    var buckets = 1
    while smallestUntrackable <= highest {
      if smallestUntrackable > UInt64(Int64.max) / 2 {
        buckets += 1
        break
      }
      smallestUntrackable <<= 1
      buckets += 1
    }
    let length = (buckets + 1) * subBucketHalfCount
    guard length <= maxCounts else { return nil }
    countsLength = length
    lowestDiscernibleValue = lowest
    highestTrackableValue = highest
    significantDigits = digits
  }

  /// The counts index of `value`'s bucket.
  public func index(of value: UInt64) -> Int {
    let bucket =
      64 - unitMagnitude - subBucketHalfCountMagnitude - 1
      - (value | subBucketMask).leadingZeroBitCount
    let subBucket = Int(value >> UInt64(bucket + unitMagnitude))
    return ((bucket + 1) << subBucketHalfCountMagnitude) + subBucket - subBucketHalfCount
  }

  /// The lowest value that lands at `index`.
  public func value(at index: Int) -> UInt64 {
    var bucket = (index >> subBucketHalfCountMagnitude) - 1
    var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
    if bucket < 0 {
      subBucket -= subBucketHalfCount
      bucket = 0
    }
    return UInt64(subBucket) << UInt64(bucket + unitMagnitude)
  }
}
