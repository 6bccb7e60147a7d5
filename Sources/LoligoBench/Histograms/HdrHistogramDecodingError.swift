/// Why a compressed HdrHistogram string was refused.
public enum HdrHistogramDecodingError: Error, Equatable, Sendable {
  /// Not base64, or longer than `HdrHistogramEncoding.maxEncodedLength`.
  case notBase64
  /// Fewer bytes than the headers or the lengths in them say.
  case truncated
  /// The first four bytes are not the cookie expected there (V2 compressed or V2 plain).
  case wrongCookie(UInt32)
  /// Lowest, highest or digits out of range, a layout too large to allocate, or a feature
  /// this decoder does not support (a normalizing index offset).
  case unsupportedParameters
  /// The zlib stream is damaged, cut short, or inflates beyond what the header allows.
  case badCompression
  /// The counts run past the end of the layout, a count is negative where it may not be, or
  /// the counts add up to more than 2^64 - 1.
  case badCounts
}
