import LoligoCore

/// What the durable store's RocksDB holds for one object: the value of its `O` key.
///
///     u8   version (2)
///     u64  size, u64 mtime, u64 file id (0: the data is inline)
///     u8   checksum type (0 none, 1 crc32c), u8 log2 of the checksum block
///     u32  block count, then one u32 crc32c (seed -1) per block of the data
///     u32  inline length
///     u32  crc32c (seed -1) of every byte above: the record's own check
///     ...  inline data
///
/// All integers little endian. The inline data is outside the record's own crc: the block crcs
/// cover it when checksums are on, and with them off nothing reads over the data.
struct ObjectRecord: Equatable {
  static let version: UInt8 = 2
  static let crc32cType: UInt8 = 1

  var size: UInt64 = 0
  var mtime: UInt64 = 0
  /// 0 when the data is inline.
  var fileID: UInt64 = 0
  /// log2 of the checksum block; 0 when the object's data has no checksums (written with
  /// checksums off).
  var csumShift: UInt8 = 0
  /// crc32c of each block of the data; empty when `csumShift` is 0.
  var csums: [UInt32] = []
  var inline: [UInt8] = []

  /// Bytes of the fixed part before the crcs, and where `size` sits (for `peekSize`).
  static let headerBytes = 1 + 8 * 3 + 2 + 4

  func encoded() -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Self.headerBytes + 4 * csums.count + 8 + inline.count)
    func append<T: FixedWidthInteger>(_ value: T) {
      withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    bytes.append(Self.version)
    append(size)
    append(mtime)
    append(fileID)
    bytes.append(csumShift == 0 ? 0 : Self.crc32cType)
    bytes.append(csumShift)
    append(UInt32(csums.count))
    #if _endian(little)
      csums.withUnsafeBytes { bytes.append(contentsOf: $0) }
    #else
      for crc in csums { append(crc) }
    #endif
    append(UInt32(inline.count))
    append(bytes.withUnsafeBytes { CRC32C.checksum($0, seed: BlockCRC.seed) })
    bytes.append(contentsOf: inline)
    return bytes
  }

  /// Decodes a record, or says what is wrong with it: a damaged record is never taken for a
  /// (different) object.
  static func decode(_ bytes: [UInt8], maxObjectSize: UInt64 = 1 << 40) -> Result<
    ObjectRecord, RecordDamage
  > {
    bytes.withUnsafeBytes { raw -> Result<ObjectRecord, RecordDamage> in
      var at = 0
      func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard at + MemoryLayout<T>.size <= raw.count else { return nil }
        defer { at += MemoryLayout<T>.size }
        return T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self))
      }
      guard let version = read(UInt8.self) else { return .failure(.init("empty")) }
      guard version == Self.version else {
        return .failure(.init("unknown record version \(version)"))
      }
      guard let size = read(UInt64.self), let mtime = read(UInt64.self),
        let fileID = read(UInt64.self), let type = read(UInt8.self), let shift = read(UInt8.self),
        let count = read(UInt32.self)
      else { return .failure(.init("truncated header")) }
      guard Int(count) <= (raw.count - at) / 4 else {
        return .failure(.init("\(count) block crcs in \(raw.count) bytes"))
      }
      var csums = [UInt32](repeating: 0, count: Int(count))
      csums.withUnsafeMutableBytes {
        $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[at..<at + 4 * Int(count)]))
      }
      #if !_endian(little)
        csums = csums.map { UInt32(littleEndian: $0) }
      #endif
      at += 4 * Int(count)
      guard let inlineCount = read(UInt32.self) else {
        return .failure(.init("truncated header"))
      }
      let checked = at
      guard let stored = read(UInt32.self) else { return .failure(.init("truncated header")) }
      let computed = CRC32C.checksum(
        UnsafeRawBufferPointer(rebasing: raw[..<checked]), seed: BlockCRC.seed)
      guard computed == stored else {
        return .failure(
          .init("fails its crc32c (stored \(BlockCRC.hex(stored)), read \(BlockCRC.hex(computed)))")
        )
      }
      // The crc holds: what follows are sanity checks on what a bug could have written.
      guard raw.count - at == Int(inlineCount) else {
        return .failure(.init("\(raw.count - at) bytes of inline data, \(inlineCount) recorded"))
      }
      guard size <= maxObjectSize,
        fileID == 0 ? UInt64(inlineCount) == size : inlineCount == 0
      else { return .failure(.init("size \(size) disagrees with its data")) }
      switch type {
      case 0 where shift == 0 && count == 0: break
      case Self.crc32cType
      where (StoreChecksums.minimumShift...StoreChecksums.maximumShift).contains(shift)
        && Int(count) == BlockCRC.count(size: size, shift: shift):
        break
      default:
        return .failure(.init("checksum type \(type) block 2^\(shift) with \(count) crcs"))
      }
      return .success(
        ObjectRecord(
          size: size, mtime: mtime, fileID: fileID, csumShift: shift, csums: csums,
          inline: Array(UnsafeRawBufferPointer(rebasing: raw[at...]))))
    }
  }

  /// The size a record states, without checking it (usage statistics).
  static func peekSize(_ bytes: [UInt8]) -> UInt64? {
    guard bytes.count >= 9, bytes[0] == version else { return nil }
    return bytes.withUnsafeBytes {
      UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 1, as: UInt64.self))
    }
  }
}

/// Why a stored object record cannot be used.
struct RecordDamage: Error, Equatable {
  let reason: String
  init(_ reason: String) { self.reason = reason }
}
