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

  /// The CRC (from `seed`) of each `blockSize` bytes of `bytes`, the last piece possibly
  /// shorter, into `out`, which must hold at least that many values. Blocks run side by side,
  /// so many small blocks cost about what one pass over all the bytes does.
  @inline(__always)
  public static func checksums(
    _ bytes: UnsafeRawBufferPointer, blockSize: Int, seed: UInt32,
    into out: UnsafeMutableBufferPointer<UInt32>
  ) {
    precondition(blockSize > 0 && out.count >= (bytes.count + blockSize - 1) / blockSize)
    guard let base = bytes.baseAddress, let target = out.baseAddress else { return }
    loligo_crc32c_blocks(seed, base, bytes.count, blockSize, target)
  }

  /// CRC of the readable bytes of `buffer`.
  @inline(__always)
  public static func checksum(_ buffer: ByteBuffer, seed: UInt32) -> UInt32 {
    buffer.withUnsafeReadableBytes { checksum($0, seed: seed) }
  }

  public static func checksum(_ string: String, seed: UInt32) -> UInt32 {
    checksum(Array(string.utf8), seed: seed)
  }

  /// The reflected Castagnoli polynomial.
  static let polynomial: UInt32 = 0x82F6_3B78

  /// A linear map on the 32-bit register, as the images of its 32 unit vectors.
  public struct Shift: Sendable {
    var columns: [UInt32]

    /// The register after `count` zero bytes are fed in (`count >= 0`).
    public init(zeroBytes count: Int) {
      precondition(count >= 0)
      // One zero bit: shift right, fold the polynomial back in when a one falls out.
      var square = (0..<32).map { bit -> UInt32 in
        bit == 0 ? CRC32C.polynomial : UInt32(1) << (bit - 1)
      }
      for _ in 0..<3 { square = Shift.compose(square, square) }  // 1 -> 2 -> 4 -> 8 bits
      var result = (0..<32).map { UInt32(1) << $0 }  // identity
      var remaining = count
      while remaining > 0 {
        if remaining & 1 == 1 { result = Shift.compose(square, result) }
        remaining >>= 1
        if remaining > 0 { square = Shift.compose(square, square) }
      }
      columns = result
    }

    /// Applies the map to `register`.
    @inline(__always)
    public func callAsFunction(_ register: UInt32) -> UInt32 {
      var out: UInt32 = 0
      var bits = register
      var bit = 0
      while bits != 0 {
        if bits & 1 == 1 { out ^= columns[bit] }
        bits >>= 1
        bit += 1
      }
      return out
    }

    /// `outer` after `inner`.
    static func compose(_ outer: [UInt32], _ inner: [UInt32]) -> [UInt32] {
      let map = Shift(columns: outer)
      return inner.map { map($0) }
    }

    private init(columns: [UInt32]) { self.columns = columns }
  }

  /// The CRC of `a` followed by `b`, from the CRC of `a` (any seed), the CRC of `b` computed
  /// with seed 0, and a shift over `b`'s length. Lets a checksum of a long known pattern be
  /// found without reading it (the register is linear in its input).
  @inline(__always)
  public static func combine(_ crcA: UInt32, _ crcBFromZero: UInt32, shift: Shift) -> UInt32 {
    shift(crcA) ^ crcBFromZero
  }

  /// A `Shift` as four 256-entry tables, applied in four lookups (the map is linear, so the
  /// image of a register is the xor of the images of its bytes). For folding many crcs of equal
  /// blocks into the crc of their concatenation (the object stores' block checksums).
  public struct ShiftTable: Sendable {
    private let table: [UInt32]

    public init(_ shift: Shift) {
      var table = [UInt32](repeating: 0, count: 1024)
      for byte in 0..<4 {
        for value in 0..<256 { table[byte << 8 | value] = shift(UInt32(value) << (8 * byte)) }
      }
      self.table = table
    }

    public init(zeroBytes count: Int) { self.init(Shift(zeroBytes: count)) }

    @inline(__always)
    public func callAsFunction(_ register: UInt32) -> UInt32 {
      table.withUnsafeBufferPointer { t in
        t[Int(register & 0xFF)] ^ t[256 | Int(register >> 8 & 0xFF)]
          ^ t[512 | Int(register >> 16 & 0xFF)] ^ t[768 | Int(register >> 24)]
      }
    }
  }
}
