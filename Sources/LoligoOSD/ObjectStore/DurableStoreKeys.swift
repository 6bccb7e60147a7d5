import LoligoCore
import LoligoPlacement
import NIOCore

/// Key layout of the durable store's RocksDB (`<c>` is the collection `pool.seed`, `<o>` is
/// `namespace NUL name`):
///
///     C<c>                      collection marker
///     O<c>/<o>                  object record: size, mtime, file id (0 = data inline), inline data
///     X<c>/<o> NUL <attr>       xattr value
///     M<c>/<o> NUL <key>        omap value
///     Snext_file_id             last file id handed out (u64, little endian)
///     Snext_deferred            last deferred-write number handed out (u64, little endian)
///     W<file>/<n>               a deferred overwrite of file bytes: offset (u64) + data
enum DurableStoreKeys {
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

/// What RocksDB holds for one object: the value of its `O` key.
struct ObjectRecord: Equatable {
  var size: UInt64 = 0
  var mtime: UInt64 = 0
  /// 0 when the data is inline.
  var fileID: UInt64 = 0
  var inline: [UInt8] = []

  func encoded() -> [UInt8] {
    var b = ByteBuffer()
    b.writeVersioned(version: 1, compat: 1) { b in
      b.writeLE(size)
      b.writeLE(mtime)
      b.writeLE(fileID)
      b.writeBlob(inline)
    }
    return Array(b.readableBytesView)
  }

  init(size: UInt64 = 0, mtime: UInt64 = 0, fileID: UInt64 = 0, inline: [UInt8] = []) {
    self.size = size
    self.mtime = mtime
    self.fileID = fileID
    self.inline = inline
  }

  init?(decoding bytes: [UInt8]) {
    var b = ByteBuffer(bytes: bytes)
    guard
      let record = try? b.readVersioned(
        "object record", supported: 1,
        { b, _ -> ObjectRecord in
          ObjectRecord(
            size: try b.readLE(UInt64.self), mtime: try b.readLE(UInt64.self),
            fileID: try b.readLE(UInt64.self),
            inline: Array(try b.readBlob(limit: DurableStore.inlineLimit).readableBytesView))
        })
    else { return nil }
    self = record
  }
}
