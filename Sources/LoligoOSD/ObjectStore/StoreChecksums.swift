import LoligoCore
import NIOCore

/// How a store checksums object data: `osd_store_csum_type` and `osd_store_csum_block`, as
/// BlueStore's `bluestore_csum_type` and csum chunk. With crc32c, each block of an object's
/// data (block `i` is bytes `i*B ..< min((i+1)*B, size)`, the last one possibly short) has a
/// crc32c (seed -1, Ceph's convention) kept with the object's metadata; a read verifies every
/// block it touches, so it never returns a byte its block's crc does not vouch for. With none,
/// nothing is computed or checked.
public struct StoreChecksums: Sendable, Equatable {
  /// log2 of the block size; 0 when checksums are off.
  public let blockShift: UInt8

  public static let off = StoreChecksums(shift: 0)
  /// BlueStore's default: crc32c over 4 KiB blocks.
  public static let `default` = StoreChecksums(shift: 12)
  public static let minimumShift: UInt8 = 12
  public static let maximumShift: UInt8 = 20

  public var enabled: Bool { blockShift != 0 }
  public var blockSize: Int { enabled ? 1 << Int(blockShift) : 0 }

  init(shift: UInt8) { blockShift = shift }

  /// crc32c over blocks of `blockSize` bytes (a power of two, 4 KiB ... 1 MiB).
  public static func crc32c(blockSize: Int) -> StoreChecksums {
    precondition(
      blockSize.nonzeroBitCount == 1 && blockSize >= 1 << minimumShift
        && blockSize <= 1 << maximumShift, "checksum block \(blockSize)")
    return StoreChecksums(shift: UInt8(blockSize.trailingZeroBitCount))
  }

  /// From the OSD's configuration (already checked by the options' kinds).
  public init(config: Config) {
    if config.string(.osdStoreCsumType) == "none" {
      self = .off
    } else {
      self = .crc32c(blockSize: config.int(.osdStoreCsumBlock))
    }
  }
}

/// The arithmetic of block checksums, shared by both stores.
enum BlockCRC {
  static let seed: UInt32 = 0xFFFF_FFFF

  static func hex(_ crc: UInt32) -> String { "0x" + String(crc, radix: 16) }

  /// What a block's crc becomes when the bytes it merges with failed their own check: never
  /// equal to the crc of the bytes written, so the damage stays visible (a partial overwrite
  /// must not launder it into a fresh crc) until the block is written whole or repaired.
  @inline(__always)
  static func poisoned(_ crc: UInt32) -> UInt32 { ~crc }

  /// Blocks of an object of `size` bytes.
  @inline(__always)
  static func count(size: UInt64, shift: UInt8) -> Int {
    Int((size + (UInt64(1) << shift) - 1) >> shift)
  }

  /// The crc of each block of `bytes`, which start at a block boundary.
  static func compute(_ bytes: UnsafeRawBufferPointer, shift: UInt8) -> [UInt32] {
    let block = 1 << Int(shift)
    let count = (bytes.count + block - 1) / block
    return [UInt32](unsafeUninitializedCapacity: count) { out, initialized in
      CRC32C.checksums(bytes, blockSize: block, seed: seed, into: out)
      initialized = count
    }
  }

  static func compute(_ buffer: ByteBuffer, shift: UInt8) -> [UInt32] {
    buffer.withUnsafeReadableBytes { compute($0, shift: shift) }
  }

  /// Checks `bytes` (blocks `first`, `first + 1`, ... of the object, the last possibly short)
  /// against `crcs`; the first block that fails, with its stored and computed crc.
  static func firstMismatch(
    _ bytes: UnsafeRawBufferPointer, first: Int, shift: UInt8, crcs: [UInt32]
  ) -> (block: Int, stored: UInt32, computed: UInt32)? {
    let block = 1 << Int(shift)
    let count = (bytes.count + block - 1) / block
    return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: max(count, 1)) { computed in
      CRC32C.checksums(bytes, blockSize: block, seed: seed, into: computed)
      for offset in 0..<count {
        let index = first + offset
        guard index < crcs.count, crcs[index] == computed[offset] else {
          return (index, index < crcs.count ? crcs[index] : 0, computed[offset])
        }
      }
      return nil
    }
  }

  /// A block whose bytes do not match its crc.
  struct Mismatch: Error {
    let block: Int
    let stored: UInt32
    let computed: UInt32
  }

  /// Verifies `bytes` (blocks `first`, `first + 1`, ... of the object, the last possibly
  /// short) against `crcs` and gives the crc (seed -1) of all of them. The whole blocks are
  /// checked at once: one crc32c pass over them (as fast as crc32c goes, where block by block
  /// is slower) against the crc their stored crcs fold into. That is as strict as checking each
  /// block: damage in one block always changes the total (the fold shifts each block's crc by
  /// an invertible map), damage in several cancels out only by a 2^-32 chance. On a mismatch
  /// the blocks are checked one by one to say which failed.
  static func check(_ bytes: UnsafeRawBufferPointer, first: Int, shift: UInt8, crcs: [UInt32])
    -> Result<UInt32, Mismatch>
  {
    let whole = bytes.count >> Int(shift)
    let wholeBytes = whole << Int(shift)
    let count = whole + (wholeBytes < bytes.count ? 1 : 0)
    guard first >= 0, first + count <= crcs.count else { return .failure(locate()) }
    var crc = seed
    if whole > 0 {
      crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<wholeBytes]), seed: seed)
      guard crc == fold(first: first, count: whole, shift: shift, crcs: crcs) else {
        return .failure(locate())
      }
    }
    if wholeBytes < bytes.count {
      let tail = UnsafeRawBufferPointer(rebasing: bytes[wholeBytes...])
      let computed = CRC32C.checksum(tail, seed: seed)
      guard computed == crcs[first + whole] else {
        return .failure(
          Mismatch(block: first + whole, stored: crcs[first + whole], computed: computed))
      }
      crc = CRC32C.checksum(tail, seed: crc)
    }
    return .success(crc)

    func locate() -> Mismatch {
      if let bad = firstMismatch(bytes, first: first, shift: shift, crcs: crcs) {
        return Mismatch(block: bad.block, stored: bad.stored, computed: bad.computed)
      }
      // Not reached (a fold that fails has a block that fails); never taken for a pass.
      return Mismatch(block: first, stored: 0, computed: 0)
    }
  }

  /// The crc (seed -1) of `count` whole blocks from `first`, from their crcs alone.
  static func fold(first: Int, count: Int, shift: UInt8, crcs: [UInt32]) -> UInt32 {
    let table = tables[Int(shift - StoreChecksums.minimumShift)]
    // crc_w(X) = shift(w) ^ crc_0(X) and crc_0(X) = crc_-1(X) ^ shift(-1), for |X| = block.
    var crc = seed
    crcs.withUnsafeBufferPointer { crcs in
      for index in first..<first + count { crc = table.shift(crc) ^ crcs[index] ^ table.ofSeed }
    }
    return crc
  }

  /// The crc (seed -1) of `bytes` (blocks `first`, ... whose crcs were just verified), from
  /// those crcs: four table lookups per whole block instead of reading the bytes again; a
  /// short last block is run through crc32c once more, seeded with the crc so far.
  static func fold(
    _ bytes: UnsafeRawBufferPointer, first: Int, shift: UInt8, crcs: [UInt32]
  ) -> UInt32 {
    let block = 1 << Int(shift)
    let whole = bytes.count >> Int(shift)
    var crc = fold(first: first, count: whole, shift: shift, crcs: crcs)
    if whole * block < bytes.count {
      crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[(whole * block)...]), seed: crc)
    }
    return crc
  }

  /// The shift over one block and its image of the seed, per block shift (from `minimumShift`).
  static let tables: [(shift: CRC32C.ShiftTable, ofSeed: UInt32)] =
    (StoreChecksums.minimumShift...StoreChecksums.maximumShift).map { shift in
      let table = CRC32C.ShiftTable(zeroBytes: 1 << Int(shift))
      return (table, table(seed))
    }
}
