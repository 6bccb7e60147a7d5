import Foundation
import LoligoPlacement
import NIOConcurrencyHelpers
import NIOCore

/// Objects in RAM (`osd_objectstore = memstore`): the default for messenger-bound runs, where
/// the store must not be the bottleneck. A transaction is checked, then applied under one lock,
/// and commits before `submit` returns. Whole-object writes keep the received buffer as is (no
/// copy); reads return slices (no copy).
public final class MemStore: ObjectStore, @unchecked Sendable {  // objects under `lock`
  public let kind = "memstore"
  /// Largest object, a bound on what one client can make this process hold.
  public let maxObjectSize: UInt64

  final class Object {
    var data: ByteBuffer = ByteBuffer() {
      didSet { crc = nil }
    }
    /// crc32c (seed -1) of `data` when it came with one; any change to `data` forgets it.
    var crc: UInt32?
    var xattrs: [String: ByteBuffer] = [:]
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

  public init(maxObjectSize: UInt64 = 1 << 30, capacity: UInt64 = 1 << 30) {
    self.maxObjectSize = maxObjectSize
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
        let whole = offset == 0 && data.readableBytes >= target.data.readableBytes
        resize(target) { MemStore.write(data, at: Int(offset), into: &$0.data) }
        if whole { target.crc = crc }
      case .writeFull(let c, let o, let data, let crc):
        let target = object(c, o)
        target.mtime = now
        resize(target) { $0.data = MemStore.owned(data) }
        target.crc = crc
      case .truncate(let c, let o, let size):
        let target = object(c, o)
        target.mtime = now
        resize(target) { MemStore.truncate(&$0.data, to: Int(size)) }
      case .remove(let c, let o):
        release(store[c]?[o].map { [$0] } ?? [])
        store[c]?[o] = nil
      case .setXattr(let c, let o, let name, let value):
        object(c, o).xattrs[name] = MemStore.owned(value)
      case .removeXattr(let c, let o, let name):
        store[c]?[o]?.xattrs[name] = nil
      case .setOmap(let c, let o, let values):
        let target = object(c, o)
        for (key, value) in values { target.omap[key] = MemStore.owned(value) }
      case .removeOmapKeys(let c, let o, let keys):
        if let target = store[c]?[o] { for key in keys { target.omap[key] = nil } }
      }
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
    try locked { () throws(StoreError) -> (data: ByteBuffer, crc: UInt32?) in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      guard let object = collection[o] else { throw .noSuchObject(o) }
      let size = UInt64(object.data.readableBytes)
      guard offset < size else { return (ByteBuffer(), nil) }
      let count = min(length ?? size, size - offset)
      let slice = object.data.getSlice(
        at: object.data.readerIndex + Int(offset), length: Int(count))!
      return (slice, offset == 0 && count == size ? object.crc : nil)
    }
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
      return value
    }
  }

  public func xattrs(_ c: PGID, _ o: ObjectID) throws(StoreError) -> [String: ByteBuffer] {
    try locked { () throws(StoreError) -> [String: ByteBuffer] in
      guard let collection = store[c] else { throw .noSuchCollection(c) }
      guard let object = collection[o] else { throw .noSuchObject(o) }
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

  private func locked<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
    lock.lock()
    defer { lock.unlock() }
    return try body()
  }
}
