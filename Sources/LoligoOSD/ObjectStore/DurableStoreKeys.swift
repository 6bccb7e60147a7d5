import LoligoCore
import LoligoPlacement
import NIOCore

/// Key layout of the durable store's RocksDB (`<c>` is the collection `pool.seed`, `<o>` is
/// `namespace NUL name`):
///
///     C<c>                      collection marker
///     O<c>/<o>                  object record (`ObjectRecord`): size, mtime, file id (0 = data
///                               inline), block crcs, inline data, the record's own crc
///     X<c>/<o> NUL <attr>       xattr value (`CheckedValue`: crc32c + bytes)
///     M<c>/<o> NUL <key>        omap value (`CheckedValue`)
///     Sformat                   the layout's version (u64, little endian): `format`
///     Snext_file_id             last file id handed out (u64, little endian)
///     Snext_deferred            last deferred-write number handed out (u64, little endian)
///     W<file>/<n>               a deferred overwrite of file bytes: offset (u64) + data
enum DurableStoreKeys {
  static let format = Array("Sformat".utf8)
  /// 2: records with block crcs and their own crc, checked attribute and omap values.
  static let currentFormat: UInt64 = 2
  static let nextFileID = Array("Snext_file_id".utf8)
  static let nextDeferred = Array("Snext_deferred".utf8)

  /// Every deferred overwrite begins with this.
  static let deferredWrites: [UInt8] = [UInt8(ascii: "W")]

  /// A deferred overwrite of file `file`; `number` orders those of one file.
  static func deferred(file: UInt64, number: UInt64) -> [UInt8] {
    let f = String(file, radix: 16)
    let n = String(number)
    return deferredWrites
      + Array(
        (String(repeating: "0", count: 16 - f.count) + f + "/"
          + String(repeating: "0", count: 20 - n.count) + n).utf8)
  }

  /// The file a deferred-write key names.
  static func deferredFile(fromKey key: [UInt8]) -> UInt64? {
    let rest = key.dropFirst(deferredWrites.count)
    guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return nil }
    return UInt64(String(decoding: rest[..<slash], as: UTF8.self), radix: 16)
  }

  /// Every collection marker begins with this.
  static let collections: [UInt8] = [UInt8(ascii: "C")]

  /// Every object record begins with this.
  static let objectRecords: [UInt8] = [UInt8(ascii: "O")]

  /// The two per-object key-value spaces.
  enum AttrKind: Character {
    case xattr = "X"
    case omap = "M"
  }

  /// The value of `nextFileID`.
  static func fileCounter(_ value: UInt64) -> [UInt8] {
    Array(ByteBuffer(littleEndian: value).readableBytesView)
  }

  /// The `nextFileID` a value holds; nil unless it is exactly 8 bytes.
  static func fileCounter(decoding value: [UInt8]) -> UInt64? {
    value.count == 8 ? ByteBuffer(bytes: value).littleEndianUInt64 : nil
  }

  static func collection(_ c: PGID) -> [UInt8] { collections + Array("\(c)".utf8) }

  static func collection(fromKey key: [UInt8]) -> PGID? {
    PGID(String(decoding: key.dropFirst(collections.count), as: UTF8.self))
  }

  static func objectPrefix(_ c: PGID) -> [UInt8] { objectRecords + Array("\(c)/".utf8) }

  static func object(_ c: PGID, _ o: ObjectID) -> [UInt8] {
    objectPrefix(c) + Array(o.namespace.utf8) + [0] + Array(o.name.utf8)
  }

  static func objectID(fromKey key: [UInt8], _ c: PGID) -> ObjectID? {
    let rest = key.dropFirst(objectPrefix(c).count)
    guard let nul = rest.firstIndex(of: 0) else { return nil }
    return ObjectID(
      String(decoding: rest[(nul + 1)...], as: UTF8.self),
      namespace: String(decoding: rest[..<nul], as: UTF8.self))
  }

  static func attrPrefix(_ c: PGID, _ o: ObjectID, kind: AttrKind) -> [UInt8] {
    Array("\(kind.rawValue)\(c)/".utf8) + Array(o.namespace.utf8) + [0] + Array(o.name.utf8)
      + [0]
  }

  /// Just past every key with `attrPrefix` (for range deletes).
  static func attrEnd(_ c: PGID, _ o: ObjectID, kind: AttrKind) -> [UInt8] {
    var end = attrPrefix(c, o, kind: kind)
    end[end.count - 1] = 1
    return end
  }

  static func attr(_ c: PGID, _ o: ObjectID, kind: AttrKind, _ name: String) -> [UInt8] {
    attrPrefix(c, o, kind: kind) + Array(name.utf8)
  }
}

/// An xattr or omap value as stored: its crc32c (seed -1, u32 little endian), then its bytes,
/// so a value damaged in the store is an error rather than a wrong version or log entry.
enum CheckedValue {
  static func encode(_ value: ByteBuffer) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(4 + value.readableBytes)
    withUnsafeBytes(of: CRC32C.checksum(value, seed: BlockCRC.seed).littleEndian) {
      bytes.append(contentsOf: $0)
    }
    bytes.append(contentsOf: value.readableBytesView)
    return bytes
  }

  /// The value; nil when it fails its crc (or is too short to hold one).
  static func decode(_ bytes: [UInt8]) -> ByteBuffer? {
    guard bytes.count >= 4 else { return nil }
    return bytes.withUnsafeBytes { raw -> ByteBuffer? in
      let stored = UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self))
      let value = UnsafeRawBufferPointer(rebasing: raw[4...])
      guard CRC32C.checksum(value, seed: BlockCRC.seed) == stored else { return nil }
      return ByteBuffer(bytes: value)
    }
  }
}
