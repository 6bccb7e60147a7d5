import Foundation
import LoligoCore
import LoligoPlacement
import NIOConcurrencyHelpers
import NIOCore

/// Objects in RAM (`osd_objectstore = memstore`): the default for messenger-bound runs, where
/// the store must not be the bottleneck. A transaction is checked, then applied under one lock,
/// and commits before `submit` returns. Whole-object writes keep the received buffer as is (no
/// copy); reads return slices (no copy).
///
/// Data is checked as in the durable store (`StoreChecksums`): a read verifies what it
/// returns. A whole object written with its crc (the messenger's, of the received data) keeps
/// just that crc: nothing is computed on the write, and a whole-object read verifies the
/// object against it in one pass and hands it on, so the messenger does not compute it again.
/// Block crcs are worked out (and checked against that crc) only when a partial read or write
/// needs them. Attribute values carry their own crc.
public final class MemStore: ObjectStore, @unchecked Sendable {  // objects under `lock`
  public let kind = "memstore"
  /// Largest object, a bound on what one client can make this process hold.
  public let maxObjectSize: UInt64
  public let checksums: StoreChecksums

  final class Object {
    var data = ByteBuffer()
    /// crc32c (seed -1) of all of `data` when known: given with a whole write.
    var crc: UInt32?
    /// crc32c of each block of `data` (checksums on): known whenever `crc` is not.
    var blockCRCs: [UInt32]?
    var xattrs: [String: ByteBuffer] = [:]
    /// crc32c (seed -1) of each attribute value.
    var xattrCRCs: [String: UInt32] = [:]
    var omap: [String: ByteBuffer] = [:]
    var mtime: UInt64 = 0
  }

  /// The size it reports (`memstore_device_bytes`): RAM has no file system to ask.
  public let capacity: UInt64

  private let lock = NIOLock()
  private var store: [PGID: [ObjectID: Object]] = [:]
  /// Bytes of object data held, kept as transactions apply (summing them per call would
  /// cost a walk of every object on each write).
  private var dataBytes: UInt64 = 0

  public init(
    maxObjectSize: UInt64 = 1 << 30, checksums: StoreChecksums = .default,
    capacity: UInt64 = 1 << 30
  ) {
    self.maxObjectSize = maxObjectSize
    self.checksums = checksums
    self.capacity = capacity
  }

  public func space() -> StoreSpace {
    let used = lock.withLock { dataBytes }
    return StoreSpace(total: capacity, available: capacity > used ? capacity - used : 0)
  }

  public func submit(
    _ transaction: StoreTransaction,
    onCommit: @escaping @Sendable (Result<Void, StoreError>) -> Void
  ) {
    let result: Result<Void, StoreError>
    do throws(StoreError) {
      try locked { () throws(StoreError) in
        try check(transaction)
        apply(transaction)
      }
      result = .success(())
    } catch {
      result = .failure(error)
    }
    onCommit(result)
  }

  /// Refuses a transaction that would fail part way: all or nothing.
  private func check(_ transaction: StoreTransaction) throws(StoreError) {
    var created = Set<PGID>()
    var removed = Set<PGID>()
    func exists(_ c: PGID) -> Bool {
      created.contains(c) || (store[c] != nil && !removed.contains(c))
    }
    for operation in transaction.operations {
      switch operation {
      case .createCollection(let c):
        if exists(c) { throw .collectionExists(c) }
        created.insert(c)
        removed.remove(c)
      case .ensureCollection(let c):
        if !exists(c) {
          created.insert(c)
          removed.remove(c)
        }
      case .removeCollection(let c):
        if !exists(c) { throw .noSuchCollection(c) }
        removed.insert(c)
        created.remove(c)
      case .removeObjects(let c, _):
        if !exists(c) { throw .noSuchCollection(c) }
      case .touch(let c, _), .remove(let c, _), .removeXattr(let c, _, _),
        .setXattr(let c, _, _, _), .setOmap(let c, _, _), .removeOmapKeys(let c, _, _):
        if !exists(c) { throw .noSuchCollection(c) }
      case .write(let c, _, let offset, let data, _):
        if !exists(c) { throw .noSuchCollection(c) }
        if offset > maxObjectSize || offset + UInt64(data.readableBytes) > maxObjectSize {
          throw .tooLarge("write past \(maxObjectSize) bytes")
        }
      case .writeFull(let c, _, let data, _):
        if !exists(c) { throw .noSuchCollection(c) }
        if UInt64(data.readableBytes) > maxObjectSize {
          throw .tooLarge("object over \(maxObjectSize) bytes")
        }
      case .truncate(let c, _, let size):
        if !exists(c) { throw .noSuchCollection(c) }
        if size > maxObjectSize { throw .tooLarge("truncate past \(maxObjectSize) bytes") }
      }
    }
  }

  private func object(_ c: PGID, _ o: ObjectID) -> Object {
    if let existing = store[c]?[o] { return existing }
    let created = Object()
    store[c]![o] = created
    return created
  }

  private func apply(_ transaction: StoreTransaction) {
    let now = UInt64(Date().timeIntervalSince1970 * 1e9)
    for operation in transaction.operations {
      switch operation {
      case .createCollection(let c):
        store[c] = [:]
      case .ensureCollection(let c):
        if store[c] == nil { store[c] = [:] }
      case .removeCollection(let c):
        release(store[c]?.values.map { $0 } ?? [])
        store[c] = nil
      case .removeObjects(let c, let kept):
        release(store[c]?.filter { $0.key != kept }.map(\.value) ?? [])
        store[c] = store[c]?.filter { $0.key == kept }
      case .touch(let c, let o):
        object(c, o).mtime = now
      case .write(let c, let o, let offset, let data, let crc):
        let target = object(c, o)
        target.mtime = now
        if offset == 0 && data.readableBytes >= target.data.readableBytes {
          replace(target, with: data, crc: crc)  // the whole object
        } else {
          // Bytes between the old end and `offset` become zeros: changed too.
          let from = min(Int(offset), target.data.readableBytes)
          change(target, from: from, to: Int(offset) + data.readableBytes) {
            MemStore.write(data, at: Int(offset), into: &$0)
          }
        }
      case .writeFull(let c, let o, let data, let crc):
        let target = object(c, o)
        target.mtime = now
        replace(target, with: data, crc: crc)
      case .truncate(let c, let o, let size):
        let target = object(c, o)
        target.mtime = now
        let old = target.data.readableBytes
        change(target, from: min(old, Int(size)), to: max(old, Int(size))) {
          MemStore.truncate(&$0, to: Int(size))
        }
      case .remove(let c, let o):
        release(store[c]?[o].map { [$0] } ?? [])
        store[c]?[o] = nil
      case .setXattr(let c, let o, let name, let value):
        let target = object(c, o)
        target.xattrs[name] = MemStore.owned(value)
        target.xattrCRCs[name] = CRC32C.checksum(value, seed: BlockCRC.seed)
      case .removeXattr(let c, let o, let name):
        store[c]?[o]?.xattrs[name] = nil
        store[c]?[o]?.xattrCRCs[name] = nil
      case .setOmap(let c, let o, let values):
        let target = object(c, o)
        for (key, value) in values { target.omap[key] = MemStore.owned(value) }
      case .removeOmapKeys(let c, let o, let keys):
        if let target = store[c]?[o] { for key in keys { target.omap[key] = nil } }
      }
    }
  }

  // MARK: checksums (under the lock)

  /// New content for the whole object: its crc when given, else its block crcs.
  private func replace(_ target: Object, with data: ByteBuffer, crc: UInt32?) {
    resize(target) { $0.data = MemStore.owned(data) }
    target.crc = crc
    target.blockCRCs =
      checksums.enabled && crc == nil ? BlockCRC.compute(data, shift: checksums.blockShift) : nil
  }

  /// Changes bytes `from..<to` of the object (and what follows, for a truncate) with `body`;
  /// the block crcs follow. The blocks only partly changed are checked first: one that fails
  /// keeps failing (its new crc is poisoned) rather than vouching for damaged bytes.
  private func change(
    _ target: Object, from: Int, to: Int, _ body: (inout ByteBuffer) -> Void
  ) {
    guard checksums.enabled else {
      target.crc = nil
      resize(target) { body(&$0.data) }
      return
    }
    // Worked out while the whole crc is still known, so damage is not taken for data.
    var crcs = blockCRCs(target)
    target.crc = nil
    let shift = checksums.blockShift
    let block = checksums.blockSize
    let oldSize = target.data.readableBytes
    // Blocks where old bytes survive next to changed ones.
    var damaged = Set<Int>()
    for edge in Set([from, to])
    where edge % block != 0 && (edge == from ? from <= oldSize : to < oldSize) {
      let index = edge / block
      let start = index * block
      let end = min(start + block, oldSize)
      let bad = target.data.withUnsafeReadableBytes {
        BlockCRC.firstMismatch(
          UnsafeRawBufferPointer(rebasing: $0[start..<end]), first: index, shift: shift,
          crcs: crcs) != nil
      }
      if bad { damaged.insert(index) }
    }
    resize(target) { body(&$0.data) }
    let newSize = target.data.readableBytes
    let count = BlockCRC.count(size: UInt64(newSize), shift: shift)
    if crcs.count > count { crcs.removeLast(crcs.count - count) }
    if crcs.count < count { crcs += [UInt32](repeating: 0, count: count - crcs.count) }
    // Every block from the one holding `from` to the one holding the last changed byte (a
    // shrink's new last block included).
    let first = from / block
    let last = min(count, (max(to, from + 1) + block - 1) / block)
    if first < last {
      let computed = target.data.withUnsafeReadableBytes {
        BlockCRC.compute(
          UnsafeRawBufferPointer(rebasing: $0[first * block..<min(last * block, newSize)]),
          shift: shift)
      }
      crcs.replaceSubrange(first..<last, with: computed)
      for index in damaged where first <= index && index < last {
        crcs[index] = BlockCRC.poisoned(crcs[index])
      }
    }
    target.blockCRCs = crcs
  }

  /// The object's block crcs, worked out from its data when only the whole crc is known; if
  /// the data no longer matches that crc, every block is marked bad (where the damage lies is
  /// unknown).
  private func blockCRCs(_ target: Object) -> [UInt32] {
    if let known = target.blockCRCs { return known }
    let shift = checksums.blockShift
    var crcs = BlockCRC.compute(target.data, shift: shift)
    if let whole = target.crc,
      target.data.withUnsafeReadableBytes({
        BlockCRC.fold($0, first: 0, shift: shift, crcs: crcs)
      }) != whole
    {
      crcs = crcs.map(BlockCRC.poisoned)
    }
    target.blockCRCs = crcs
    return crcs
  }

  /// Checks bytes `offset..<offset+count` of `data` (a whole object) against its whole crc
  /// or its block crcs; the crc of exactly those bytes when it comes free (the whole object, or
  /// whole blocks). Runs outside the lock, on values.
  private func verify(
    _ data: ByteBuffer, crc: UInt32?, blocks: [UInt32]?, _ o: ObjectID, offset: Int, count: Int
  ) throws(StoreError) -> UInt32? {
    let size = data.readableBytes
    let whole = offset == 0 && count == size
    guard checksums.enabled else { return whole ? crc : nil }
    if whole, let crc {
      let computed = CRC32C.checksum(data, seed: BlockCRC.seed)
      guard computed == crc else {
        throw .corrupt(
          "\(o): data (bytes 0..<\(size)) fails its crc32c (stored \(BlockCRC.hex(crc)), "
            + "read \(BlockCRC.hex(computed)))")
      }
      return crc
    }
    guard let blocks else { return nil }  // not reached: the caller works them out
    let shift = checksums.blockShift
    let block = checksums.blockSize
    let first = offset / block
    let start = first * block
    let end = min(size, (offset + count + block - 1) / block * block)
    let checked = data.withUnsafeReadableBytes {
      BlockCRC.check(
        UnsafeRawBufferPointer(rebasing: $0[start..<end]), first: first, shift: shift, crcs: blocks)
    }
    switch checked {
    case .success(let crc): return start == offset && end == offset + count ? crc : nil
    case .failure(let bad):
      let at = bad.block * block
      throw .corrupt(
        "\(o): data at offset \(at) (bytes \(at)..<\(min(at + block, size))) fails its "
          + "crc32c (stored \(BlockCRC.hex(bad.stored)), read \(BlockCRC.hex(bad.computed)))")
    }
  }

  /// Changes an object's data, keeping `dataBytes` in step.
  private func resize(_ target: Object, _ change: (Object) -> Void) {
    let before = UInt64(target.data.readableBytes)
    change(target)
    dataBytes = dataBytes - min(before, dataBytes) + UInt64(target.data.readableBytes)
  }

  private func release(_ objects: [Object]) {
    let freed = objects.reduce(0) { $0 + UInt64($1.data.readableBytes) }
    dataBytes -= min(freed, dataBytes)
  }

  static func write(_ data: ByteBuffer, at offset: Int, into content: inout ByteBuffer) {
    let end = offset + data.readableBytes
    if offset == 0 && end >= content.readableBytes {
      content = owned(data)  // the whole object: keep the received bytes
      return
    }
    // Own a contiguous copy starting at index 0, large enough for the write.
    var owned = ByteBufferAllocator().buffer(capacity: max(end, content.readableBytes))
    owned.writeImmutableBuffer(content)
    if end > owned.writerIndex {
      owned.writeRepeatingByte(0, count: end - owned.writerIndex)
    }
    owned.setBuffer(data, at: offset)
    content = owned
  }

  /// Received data as kept: the slice itself when it has its buffer (nearly) to itself, else a
  /// copy, so a small object does not pin a large receive buffer shared with other messages.
  static func owned(_ data: ByteBuffer) -> ByteBuffer {
    guard data.storageCapacity > 2 * data.readableBytes + 4096 else { return data }
    var copy = ByteBufferAllocator().buffer(capacity: data.readableBytes)
    copy.writeImmutableBuffer(data)
    return copy
  }

  static func truncate(_ content: inout ByteBuffer, to size: Int) {
    if size <= content.readableBytes {
      content = content.getSlice(at: content.readerIndex, length: size)!
    } else {
      var owned = ByteBufferAllocator().buffer(capacity: size)
      owned.writeImmutableBuffer(content)
      owned.writeRepeatingByte(0, count: size - owned.writerIndex)
      content = owned
    }
  }

  public func read(_ c: PGID, _ o: ObjectID, offset: UInt64, length: UInt64?) throws(StoreError)
    -> ByteBuffer
  {
    try readWithCRC(c, o, offset: offset, length: length).data
  }

  public func readWithCRC(_ c: PGID, _ o: ObjectID, offset: UInt64, length: UInt64?)
    throws(StoreError) -> (data: ByteBuffer, crc: UInt32?)
  {
    let (data, crc, blocks) = try locked {
      () throws(StoreError) -> (ByteBuffer, UInt32?, [UInt32]?) in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      guard let object = collection[o] else { throw .noSuchObject(o) }
      let size = UInt64(object.data.readableBytes)
      let whole = offset == 0 && (length ?? size) >= size
      // A part needs block crcs; a whole object with its crc does not.
      let needsBlocks = checksums.enabled && offset < size && !(whole && object.crc != nil)
      return (object.data, object.crc, needsBlocks ? blockCRCs(object) : object.blockCRCs)
    }
    let size = UInt64(data.readableBytes)
    guard offset < size else { return (ByteBuffer(), nil) }
    let count = min(length ?? size, size - offset)
    // Verified outside the lock: a 4 MiB crc must not hold up every other op.
    let known = try verify(
      data, crc: crc, blocks: blocks, o, offset: Int(offset), count: Int(count))
    return (data.getSlice(at: data.readerIndex + Int(offset), length: Int(count))!, known)
  }

  public func stat(_ c: PGID, _ o: ObjectID) throws(StoreError) -> ObjectStat {
    try locked { () throws(StoreError) -> ObjectStat in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      guard let object = collection[o] else { throw .noSuchObject(o) }
      return ObjectStat(size: UInt64(object.data.readableBytes), mtime: object.mtime)
    }
  }

  public func xattr(_ c: PGID, _ o: ObjectID, _ name: String) throws(StoreError) -> ByteBuffer {
    try locked { () throws(StoreError) -> ByteBuffer in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      guard let object = collection[o] else { throw .noSuchObject(o) }
      guard let value = object.xattrs[name] else { throw .noSuchAttribute(name) }
      try checkAttribute(object, o, name, value)
      return value
    }
  }

  private func checkAttribute(_ object: Object, _ o: ObjectID, _ name: String, _ value: ByteBuffer)
    throws(StoreError)
  {
    let computed = CRC32C.checksum(value, seed: BlockCRC.seed)
    guard computed == object.xattrCRCs[name] else {
      throw .corrupt("\(o): attribute \(name) fails its crc32c")
    }
  }

  public func xattrs(_ c: PGID, _ o: ObjectID) throws(StoreError) -> [String: ByteBuffer] {
    try locked { () throws(StoreError) -> [String: ByteBuffer] in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      guard let object = collection[o] else { throw .noSuchObject(o) }
      for (name, value) in object.xattrs { try checkAttribute(object, o, name, value) }
      return object.xattrs
    }
  }

  public func omap(_ c: PGID, _ o: ObjectID, keys: [String]) throws(StoreError)
    -> [String: ByteBuffer]
  {
    try locked { () throws(StoreError) -> [String: ByteBuffer] in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      guard let object = collection[o] else { throw .noSuchObject(o) }
      if keys.isEmpty { return object.omap }
      return object.omap.filter { keys.contains($0.key) }
    }
  }

  public func list(_ c: PGID, after cursor: ObjectID?, limit: Int) throws(StoreError) -> [ObjectID]
  {
    try locked { () throws(StoreError) -> [ObjectID] in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      let sorted = collection.keys.filter { cursor == nil || $0 > cursor! }.sorted()
      return Array(sorted.prefix(limit))
    }
  }

  public func usage(_ c: PGID) throws(StoreError) -> (objects: Int, bytes: UInt64) {
    try locked { () throws(StoreError) -> (objects: Int, bytes: UInt64) in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      return (collection.count, collection.values.reduce(0) { $0 + UInt64($1.data.readableBytes) })
    }
  }

  public func collections() throws(StoreError) -> [PGID] {
    lock.withLock { store.keys.sorted() }
  }

  public func collectionExists(_ c: PGID) -> Bool {
    lock.withLock { store[c] != nil }
  }

  public func close() {}

  // MARK: injected errors

  public func injectDataError(_ c: PGID, _ o: ObjectID, offset: UInt64) throws(StoreError)
    -> StoreDamage
  {
    try locked { () throws(StoreError) -> StoreDamage in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      guard let object = collection[o] else { throw .noSuchObject(o) }
      let size = object.data.readableBytes
      guard offset < UInt64(size) else {
        throw .invalid("offset \(offset) is past the end of \(o) (\(size) bytes)")
      }
      // A copy of our own: the bytes may be shared with a received message or a reader.
      var damaged = ByteBufferAllocator().buffer(capacity: size)
      damaged.writeImmutableBuffer(object.data)
      let length = min(4, size - Int(offset))
      for at in Int(offset)..<Int(offset) + length {
        damaged.setInteger(damaged.getInteger(at: at, as: UInt8.self)! ^ 0xFF, at: at)
      }
      object.data = damaged  // crcs left as they were
      // Unchecked (none), the whole crc is only what the messenger sends: it must describe
      // the bytes served, or the client would see a damaged frame rather than these bytes.
      if !checksums.enabled { object.crc = nil }
      return StoreDamage(
        kind: "data", location: "object data in RAM", offset: offset, length: length)
    }
  }

  public func injectMetadataError(_ c: PGID, _ o: ObjectID) throws(StoreError) -> StoreDamage {
    try locked { () throws(StoreError) -> StoreDamage in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      guard let object = collection[o] else { throw .noSuchObject(o) }
      // The version attribute the OSD keeps on every object, else any attribute.
      guard
        let name = object.xattrs["_v"] != nil ? "_v" : object.xattrs.keys.sorted().first,
        let value = object.xattrs[name], value.readableBytes > 0
      else { throw .invalid("\(o) has no attribute to damage") }
      var damaged = ByteBufferAllocator().buffer(capacity: value.readableBytes)
      damaged.writeImmutableBuffer(value)
      damaged.setInteger(damaged.getInteger(at: 0, as: UInt8.self)! ^ 0xFF, at: 0)
      object.xattrs[name] = damaged  // its crc left as it was
      return StoreDamage(kind: "metadata", location: "attribute \(name)", length: 1)
    }
  }

  private func locked<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }
}
