import CLoligoSys
import NIOCore

/// CRC32C (Castagnoli) with Ceph's conventions: the seed is the raw starting register and the
/// result is not inverted (`ceph_crc32c`). ISA-L's `crc32_iscsi` computes exactly that.
/// msgr2 uses seed 0 for the preamble and seed 0xFFFFFFFF (`-1`) for segments.
public enum CRC32C {
  public static let segmentSeed: UInt32 = 0xFFFF_FFFF
  public static let preambleSeed: UInt32 = 0

  @inline(__always)
  public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32) -> UInt32 {
    guard let base = bytes.baseAddress else { return seed }
    return loligo_crc32c(seed, base, bytes.count)
  }

  public static func checksum(_ bytes: [UInt8], seed: UInt32) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0, seed: seed) }
  }

  /// CRC of the readable bytes of `buffer`.
  @inline(__always)
  public static func checksum(_ buffer: ByteBuffer, seed: UInt32) -> UInt32 {
    buffer.withUnsafeReadableBytes { checksum($0, seed: seed) }
  }

  public static func checksum(_ string: String, seed: UInt32) -> UInt32 {
    checksum(Array(string.utf8), seed: seed)
  }
}
