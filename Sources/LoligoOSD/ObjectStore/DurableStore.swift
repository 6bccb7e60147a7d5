import Foundation
import LoligoCore
import LoligoKV
import LoligoPlacement
import NIOConcurrencyHelpers
import NIOCore

/// Objects on the local disk (`osd_objectstore = durable`): every acknowledged write survives a
/// kill -9 of the OSD.
///
/// Layout under the OSD's data directory:
///
///     meta/          RocksDB: collections, object records, xattrs, omap, counters
///                    (keys and values: `DurableStoreKeys`)
///     data/<id>      one file per large object, named by a number from the records
///
/// Objects up to `inlineLimit` bytes keep their data in the record itself, so a small write is
/// one RocksDB write. Larger objects live in `data/<id>`; their bytes are written and fsynced
/// before the record that makes them visible. A single commit thread takes every transaction
/// queued since its last pass, applies them in order, fsyncs the files they touched and writes
/// all their records in one synced RocksDB batch (group commit), then reports the commits in
/// order.
///
/// Bytes a record already makes visible are never changed before the batch that changes the
/// record commits, so a crash leaves every object as its last committed transaction left it:
/// a whole-object overwrite goes to a new file (the old one is unlinked after the commit); a
/// partial overwrite of existing bytes is written into the batch as a deferred write (`W` key)
/// and applied to the file after the commit, replayed at mount if the OSD died in between;
/// only bytes past the committed size are written in place beforehand. A crash before the
/// batch leaves, at worst, file bytes no record points to (removed at the next mount).
// the queue under `queueLock`, `nextFileID` the commit thread's; RocksDB is thread-safe
public final class DurableStore: ObjectStore, @unchecked Sendable {
  public let kind = "durable"
  public static let inlineLimit = 64 << 10
  /// RocksDB's memtable: small objects live in it, and their log beside it, until a flush;
  /// RocksDB's 64 MiB (twice, with the log) would take a good part of a small disk.
  static let memtableBytes = 16 << 20

  public let directory: String
  public let maxObjectSize: UInt64
  private let db: RocksDB
  private let dataDirectory: String

  private let queueLock = NSCondition()
  private var queue: [(StoreTransaction, @Sendable (Result<Void, StoreError>) -> Void)] = []
  private var stopping = false
  /// Data bytes submitted and not yet committed: counted as used by `space()`, so room is
  /// not promised twice while the commit thread catches up.
  private var queuedBytes: UInt64 = 0
  /// With `stopAtFirstFailure`, the failure that stopped the store: every later transaction
  /// fails with it.
  private var failure: StoreError?
  /// Whether the first failed transaction stops the store (see `init`).
  public let stopAtFirstFailure: Bool
  private var thread: Thread?
  private var nextFileID: UInt64
  private var nextDeferred: UInt64 = 0
  /// Deferred-write keys applied to their files, deleted with the next pass's batch (keeping
  /// them until then is harmless: replaying one rewrites the same bytes).
  private var appliedDeferred: [[UInt8]] = []
  /// Tests: fail every pass after its in-place file writes and before its batch, as if the OSD
  /// died there.
  var failBeforeCommit = false
  /// Tests: commit each pass's batch, then stop short of applying its deferred overwrites (as
  /// if the OSD died between the two).
  var stopAfterCommit = false

  /// Creates an empty store (`--mkfs`); fails if one exists.
  public static func mkfs(directory: String) throws(StoreError) {
    do {
      try FileManager.default.createDirectory(
        atPath: directory + "/data", withIntermediateDirectories: true)
    } catch {
      throw .io("cannot create \(directory)/data: \(error.localizedDescription)")
    }
    do {
      let db = try RocksDB(
        path: directory + "/meta", options: .init(createIfMissing: true, errorIfExists: true))
      var t = KVTransaction()
      t.put(DurableStoreKeys.nextFileID, DurableStoreKeys.fileCounter(0))
      try db.apply(t, sync: true)
      db.close()
    } catch {
      throw .io("\(error)")
    }
  }

  /// Opens an existing store and removes data files no record refers to.
  ///
  /// With `stopAtFirstFailure` (an OSD's store), a transaction that fails ends the store's
  /// life: it and every transaction after it fail, none of them reaches the disk, so the
  /// disk holds exactly the transactions before it — what an OSD rebuilds its state from,
  /// since the state it kept in memory counted on the failed one. Without it (tools,
  /// tests), each transaction succeeds or fails on its own.
  public init(directory: String, maxObjectSize: UInt64 = 1 << 30, stopAtFirstFailure: Bool = false)
    throws(StoreError)
  {
    self.directory = directory
    self.dataDirectory = directory + "/data"
    self.maxObjectSize = maxObjectSize
    self.stopAtFirstFailure = stopAtFirstFailure
    do {
      db = try RocksDB(
        path: directory + "/meta", options: .init(writeBufferSize: Self.memtableBytes))
    } catch {
      throw .io("\(error) (was the OSD created with --mkfs?)")
    }
    guard let raw = try? db.get(DurableStoreKeys.nextFileID),
      let counter = DurableStoreKeys.fileCounter(decoding: raw)
    else {
      throw .corrupt("\(directory)/meta has no file counter")
    }
    nextFileID = counter
    if let raw = try? db.get(DurableStoreKeys.nextDeferred),
      let value = DurableStoreKeys.fileCounter(decoding: raw)
    {
      nextDeferred = value
    }
    try replayDeferred()
    try removeOrphans()
    let thread = Thread { [unowned self] in self.commitLoop() }
    thread.name = "store-commit"
    self.thread = thread
    thread.start()
  }

  public func close() {
    queueLock.lock()
    stopping = true
    queueLock.broadcast()
    queueLock.unlock()
    while thread?.isFinished == false { usleep(1000) }
    db.close()
  }

  public func submit(
    _ transaction: StoreTransaction,
    onCommit: @escaping @Sendable (Result<Void, StoreError>) -> Void
  ) {
    queueLock.lock()
    if stopping || failure != nil {
      let error = failure ?? .io("store is closed")
      queueLock.unlock()
      onCommit(.failure(error))
      return
    }
    queue.append((transaction, onCommit))
    queuedBytes += UInt64(transaction.dataBytes)
    queueLock.signal()
    queueLock.unlock()
  }

  /// The file system's size and free bytes (statvfs of the store's directory), less what is
  /// queued.
  public func space() -> StoreSpace {
    var fs = statvfs()
    guard statvfs(directory, &fs) == 0 else { return StoreSpace(total: 0, available: 0) }
    let unit = UInt64(fs.f_frsize)
    queueLock.lock()
    let queued = queuedBytes
    queueLock.unlock()
    let free = UInt64(fs.f_bavail) * unit
    return StoreSpace(
      total: UInt64(fs.f_blocks) * unit, available: free > queued ? free - queued : 0)
  }

  /// The failure that stopped the store, if one did.
  public var stoppedBy: StoreError? {
    queueLock.lock()
    defer { queueLock.unlock() }
    return failure
  }

  // MARK: commit thread

  private func commitLoop() {
    while true {
      queueLock.lock()
      while queue.isEmpty && !stopping { queueLock.wait() }
      if queue.isEmpty && stopping {
        queueLock.unlock()
        return
      }
      let batch = queue
      queue.removeAll(keepingCapacity: true)
      let stopped = failure
      queueLock.unlock()
      if let stopped {
        settle(bytes: batch.reduce(0) { $0 + $1.0.dataBytes })
        for (_, callback) in batch { callback(.failure(stopped)) }
      } else {
        commit(batch)
      }
    }
  }

  /// Applies a batch of transactions; each succeeds or fails on its own (or, stopping at the
  /// first failure, those after a failed one fail with it), all successful ones become
  /// durable together.
  private func commit(_ batch: [(StoreTransaction, @Sendable (Result<Void, StoreError>) -> Void)]) {
    var pass = CommitPass(store: self)
    var results: [Result<Void, StoreError>] = []
    var stoppedBy: StoreError?
    for (transaction, _) in batch {
      if let stoppedBy {
        results.append(.failure(stoppedBy))
        continue
      }
      let result = pass.apply(transaction)
      if stopAtFirstFailure, case .failure(let error) = result { stoppedBy = error }
      results.append(result)
    }
    do throws(StoreError) {
      try pass.finish()
    } catch {
      if stopAtFirstFailure { stoppedBy = stoppedBy ?? error }
      results = batch.map { _ in .failure(stoppedBy ?? error) }
    }
    // Stopped before anyone hears of the failure: nothing submitted later can commit.
    settle(bytes: batch.reduce(0) { $0 + $1.0.dataBytes }, failure: stoppedBy)
    for (index, (_, callback)) in batch.enumerated() { callback(results[index]) }
  }

  /// A batch is done: its bytes are no longer queued; a failure stops the store.
  private func settle(bytes: Int, failure stoppedBy: StoreError? = nil) {
    queueLock.lock()
    queuedBytes -= min(queuedBytes, UInt64(bytes))
    if let stoppedBy, failure == nil { failure = stoppedBy }
    queueLock.unlock()
  }

  /// One pass of the commit thread: records changed so far (visible to later transactions of
  /// the same pass), files to fsync, files to unlink after the commit.
  struct CommitPass {
    let store: DurableStore
    var records: [[UInt8]: ObjectRecord?] = [:]
    var collections: [PGID: Bool] = [:]
    var batch = KVTransaction()
    var dirtyFiles = Set<UInt64>()
    var unlinkAfter: [UInt64] = []
    var truncateAfter: [(UInt64, UInt64)] = []
    /// Overwrites to apply to files once the batch is durable, in order.
    var deferred: [(key: [UInt8], file: UInt64, offset: UInt64, data: ByteBuffer)] = []
    /// Files this pass created, and the size each file it wrote past the end had before:
    /// what a failure gives back at once (on a full device, the space the failed write took).
    var created: [UInt64] = []
    var grown: [UInt64: UInt64] = [:]

    init(store: DurableStore) { self.store = store }

    mutating func apply(_ transaction: StoreTransaction) -> Result<Void, StoreError> {
      // Work on copies so a failing transaction leaves this pass as it was.
      var scratch = self
      do throws(StoreError) {
        for operation in transaction.operations { try scratch.apply(operation) }
      } catch {
        scratch.undoFiles(since: self)
        return .failure(error)
      }
      self = scratch
      return .success(())
    }

    /// Removes the files created and cuts the files grown since `earlier` (no record points
    /// at those bytes).
    func undoFiles(since earlier: CommitPass) {
      for id in created.dropFirst(earlier.created.count) {
        try? FileManager.default.removeItem(atPath: store.filePath(id))
      }
      for (id, size) in grown where earlier.grown[id] == nil && !created.contains(id) {
        store.truncateFile(id, to: size)
      }
    }

    func collectionExists(_ c: PGID) -> Bool {
      if let known = collections[c] { return known }
      return (try? store.db.get(DurableStoreKeys.collection(c))) != nil
    }

    /// The collection's objects as this pass sees them: on disk, plus and minus its changes.
    func objects(in c: PGID) throws(StoreError) -> [ObjectID] {
      var found = Set(try store.objects(in: c))
      let prefix = DurableStoreKeys.objectPrefix(c)
      for (key, record) in records where key.starts(with: prefix) {
        guard let o = DurableStoreKeys.objectID(fromKey: key, c) else { continue }
        if record == nil { found.remove(o) } else { found.insert(o) }
      }
      return found.sorted()
    }

    mutating func record(_ c: PGID, _ o: ObjectID) throws(StoreError) -> ObjectRecord? {
      let key = DurableStoreKeys.object(c, o)
      if let cached = records[key] { return cached }
      return try store.loadRecord(key)
    }

    mutating func put(_ c: PGID, _ o: ObjectID, _ record: ObjectRecord?) {
      let key = DurableStoreKeys.object(c, o)
      records[key] = .some(record)
      if let record { batch.put(key, record.encoded()) } else { batch.delete(key) }
    }

    mutating func apply(_ operation: StoreTransaction.Operation) throws(StoreError) {
      let now = UInt64(Date().timeIntervalSince1970 * 1e9)
      switch operation {
      case .createCollection(let c):
        if collectionExists(c) { throw .collectionExists(c) }
        collections[c] = true
        batch.put(DurableStoreKeys.collection(c), [1])
      case .ensureCollection(let c):
        if !collectionExists(c) {
          collections[c] = true
          batch.put(DurableStoreKeys.collection(c), [1])
        }
      case .removeCollection(let c):
        if !collectionExists(c) { throw .noSuchCollection(c) }
        for o in try objects(in: c) { try apply(.remove(c, o)) }
        collections[c] = false
        batch.delete(DurableStoreKeys.collection(c))
      case .removeObjects(let c, let kept):
        try requireCollection(c)
        for o in try objects(in: c) where o != kept { try apply(.remove(c, o)) }
      case .touch(let c, let o):
        try requireCollection(c)
        var r = try record(c, o) ?? ObjectRecord()
        r.mtime = now
        put(c, o, r)
      case .write(let c, let o, let offset, let data, _):
        try requireCollection(c)
        try write(c, o, offset: offset, data: data, replace: false, now: now)
      case .writeFull(let c, let o, let data, _):
        try requireCollection(c)
        try write(c, o, offset: 0, data: data, replace: true, now: now)
      case .truncate(let c, let o, let size):
        try requireCollection(c)
        guard size <= store.maxObjectSize else { throw .tooLarge("truncate to \(size)") }
        var r = try record(c, o) ?? ObjectRecord()
        if size > r.size {
          // Growing: zeros written like any write (committed bytes are never touched early).
          put(c, o, r)
          try write(
            c, o, offset: r.size, data: ByteBuffer(repeating: 0, count: Int(size - r.size)),
            replace: false, now: now)
          return
        }
        if r.fileID == 0 {
          r.inline.removeSubrange(Int(size)...)
        } else {
          truncateAfter.append((r.fileID, size))
        }
        r.size = size
        r.mtime = now
        put(c, o, r)
      case .remove(let c, let o):
        try requireCollection(c)
        guard let r = try record(c, o) else { return }
        if r.fileID != 0 { unlinkAfter.append(r.fileID) }
        put(c, o, nil)
        batch.deleteRange(
          from: DurableStoreKeys.attrPrefix(c, o, kind: .xattr),
          to: DurableStoreKeys.attrEnd(c, o, kind: .xattr))
        batch.deleteRange(
          from: DurableStoreKeys.attrPrefix(c, o, kind: .omap),
          to: DurableStoreKeys.attrEnd(c, o, kind: .omap))
      case .setXattr(let c, let o, let name, let value):
        try requireCollection(c)
        if try record(c, o) == nil { put(c, o, ObjectRecord(mtime: now)) }
        batch.put(DurableStoreKeys.attr(c, o, kind: .xattr, name), Array(value.readableBytesView))
      case .removeXattr(let c, let o, let name):
        try requireCollection(c)
        batch.delete(DurableStoreKeys.attr(c, o, kind: .xattr, name))
      case .setOmap(let c, let o, let values):
        try requireCollection(c)
        if try record(c, o) == nil { put(c, o, ObjectRecord(mtime: now)) }
        for (key, value) in values {
          batch.put(DurableStoreKeys.attr(c, o, kind: .omap, key), Array(value.readableBytesView))
        }
      case .removeOmapKeys(let c, let o, let keys):
        try requireCollection(c)
        for key in keys { batch.delete(DurableStoreKeys.attr(c, o, kind: .omap, key)) }
      }
    }

    func requireCollection(_ c: PGID) throws(StoreError) {
      if !collectionExists(c) { throw .noSuchCollection(c) }
    }

    mutating func write(
      _ c: PGID, _ o: ObjectID, offset: UInt64, data: ByteBuffer, replace: Bool, now: UInt64
    ) throws(StoreError) {
      // Offset first: one near 2^64 would overflow the end.
      let end = offset <= store.maxObjectSize ? offset + UInt64(data.readableBytes) : .max
      guard end <= store.maxObjectSize else { throw .tooLarge("write past \(store.maxObjectSize)") }
      var r = try record(c, o) ?? ObjectRecord()
      let newSize = replace ? end : max(r.size, end)
      // A write that replaces everything visible goes to a fresh place: a new file, or inline.
      if r.fileID != 0 && (replace || (offset == 0 && end >= r.size)) {
        unlinkAfter.append(r.fileID)
        r.fileID = 0
        r.inline = []
        r.size = 0
      }
      if replace && r.fileID == 0 { r.inline = [] }
      if r.fileID == 0 && newSize <= UInt64(DurableStore.inlineLimit) {
        if r.inline.count < Int(end) {
          r.inline += [UInt8](repeating: 0, count: Int(end) - r.inline.count)
        }
        data.withUnsafeReadableBytes { bytes in
          r.inline.replaceSubrange(Int(offset)..<Int(end), with: bytes)
        }
      } else {
        if r.fileID == 0 {
          if r.inline.isEmpty && r.size == 0 {
            r.fileID = try store.allocateFileID(&batch)
            created.append(r.fileID)
            try store.writeFile(r.fileID, offset: 0, data: ByteBuffer(), create: true)
            dirtyFiles.insert(r.fileID)
          } else {
            try moveToFile(&r)
          }
        }
        // Bytes the committed record shows change only after the commit (deferred); bytes
        // past it are not visible yet and are written now.
        let visible = min(end, r.size)
        if offset < visible {
          let overlap = data.getSlice(at: data.readerIndex, length: Int(visible - offset))!
          deferWrite(file: r.fileID, offset: offset, data: overlap)
        }
        if end > max(offset, r.size) {
          if grown[r.fileID] == nil { grown[r.fileID] = r.size }
          let start = max(offset, r.size)
          let tail = data.getSlice(
            at: data.readerIndex + Int(start - offset), length: Int(end - start))!
          if start > r.size {
            // The gap reads as zeros even over bytes an old, longer file left behind.
            try store.writeFile(
              r.fileID, offset: r.size, data: ByteBuffer(repeating: 0, count: Int(start - r.size)))
          }
          try store.writeFile(r.fileID, offset: start, data: tail)
          dirtyFiles.insert(r.fileID)
        }
      }
      r.size = newSize
      r.mtime = now
      put(c, o, r)
    }

    /// Records an overwrite of committed file bytes in the batch; it reaches the file after
    /// the commit (or at the next mount).
    mutating func deferWrite(file: UInt64, offset: UInt64, data: ByteBuffer) {
      let number = store.allocateDeferred(&batch)
      var value = ByteBufferAllocator().buffer(capacity: 8 + data.readableBytes)
      value.writeInteger(offset, endianness: .little)
      value.writeImmutableBuffer(data)
      let key = DurableStoreKeys.deferred(file: file, number: number)
      batch.put(key, Array(value.readableBytesView))
      deferred.append((key, file, offset, data))
    }

    /// Gives an inline object a file holding its current bytes.
    mutating func moveToFile(_ r: inout ObjectRecord) throws(StoreError) {
      let id = try store.allocateFileID(&batch)
      created.append(id)
      try store.writeFile(id, offset: 0, data: ByteBuffer(bytes: r.inline), create: true)
      dirtyFiles.insert(id)
      r.fileID = id
      r.inline = []
    }

    /// Makes the pass durable: new file bytes first, then the records (with the deferred
    /// overwrites), then those overwrites and the other deferred cleanups.
    mutating func finish() throws(StoreError) {
      do throws(StoreError) {
        for id in dirtyFiles { try store.syncFile(id) }
      } catch {
        undoFiles(since: CommitPass(store: store))
        throw error
      }
      if store.failBeforeCommit { throw .io("simulated crash before the commit") }
      let applied = store.takeAppliedDeferred()
      for key in applied { batch.delete(key) }
      do {
        try store.db.apply(batch, sync: true)
      } catch {
        // Nothing of the pass is committed: its files go, and the applied deferred writes
        // are deleted with the next batch.
        undoFiles(since: CommitPass(store: store))
        store.noteApplied(applied)
        throw DurableStore.storeError(error)
      }
      if store.stopAfterCommit { throw .io("simulated crash after the commit") }
      var synced = Set<UInt64>()
      for write in deferred where !unlinkAfter.contains(write.file) {
        try store.writeFile(write.file, offset: write.offset, data: write.data)
        synced.insert(write.file)
      }
      for id in synced { try store.syncFile(id) }
      store.noteApplied(deferred.map(\.key))
      for (id, size) in truncateAfter { store.truncateFile(id, to: size) }
      for id in unlinkAfter { try? FileManager.default.removeItem(atPath: store.filePath(id)) }
    }
  }

  // MARK: files

  func filePath(_ id: UInt64) -> String { "\(dataDirectory)/\(String(id, radix: 16))" }

  func allocateDeferred(_ batch: inout KVTransaction) -> UInt64 {
    nextDeferred += 1
    batch.put(DurableStoreKeys.nextDeferred, DurableStoreKeys.fileCounter(nextDeferred))
    return nextDeferred
  }

  /// Commit thread only.
  func takeAppliedDeferred() -> [[UInt8]] {
    let keys = appliedDeferred
    appliedDeferred.removeAll()
    return keys
  }

  /// Commit thread only.
  func noteApplied(_ keys: [[UInt8]]) { appliedDeferred += keys }

  /// Applies deferred overwrites a crash left between their commit and their file write, in
  /// order, bounded by each object's committed size; then forgets them.
  private func replayDeferred() throws(StoreError) {
    do {
      let pending = try db.scan(prefix: DurableStoreKeys.deferredWrites)
      guard !pending.isEmpty else { return }
      var sizes: [UInt64: UInt64] = [:]
      for (_, value) in try db.scan(prefix: DurableStoreKeys.objectRecords) {
        if let record = ObjectRecord(decoding: value), record.fileID != 0 {
          sizes[record.fileID] = record.size
        }
      }
      var touched = Set<UInt64>()
      var cleanup = KVTransaction()
      for (key, value) in pending {
        cleanup.delete(key)
        guard let file = DurableStoreKeys.deferredFile(fromKey: key), let size = sizes[file],
          value.count >= 8
        else { continue }
        var buffer = ByteBuffer(bytes: value)
        let offset = buffer.readInteger(endianness: .little, as: UInt64.self)!
        guard offset < size else { continue }
        let length = min(buffer.readableBytes, Int(size - offset))
        try writeFile(
          file, offset: offset, data: buffer.getSlice(at: buffer.readerIndex, length: length)!)
        touched.insert(file)
      }
      for file in touched { try syncFile(file) }
      try db.apply(cleanup, sync: true)
    } catch let error as StoreError {
      throw error
    } catch {
      throw .io("\(error)")
    }
  }

  func allocateFileID(_ batch: inout KVTransaction) throws(StoreError) -> UInt64 {
    nextFileID += 1
    batch.put(DurableStoreKeys.nextFileID, DurableStoreKeys.fileCounter(nextFileID))
    return nextFileID
  }

  func writeFile(_ id: UInt64, offset: UInt64, data: ByteBuffer, create: Bool = false)
    throws(StoreError)
  {
    let fd = open(filePath(id), O_WRONLY | (create ? O_CREAT : 0), 0o644)
    guard fd >= 0 else { throw Self.fileError("open \(filePath(id))", errno) }
    defer { Foundation.close(fd) }
    let total = data.readableBytes
    let failure: Int32 = data.withUnsafeReadableBytes { bytes in
      var written = 0
      while written < total {
        let n = pwrite(
          fd, bytes.baseAddress! + written, total - written, off_t(offset) + off_t(written))
        if n < 0 {
          if errno == EINTR { continue }
          return errno
        }
        written += n
      }
      return 0
    }
    if failure != 0 { throw Self.fileError("write \(filePath(id))", failure) }
  }

  /// A file call's errno as a store error: ENOSPC (and EDQUOT) say the device is full.
  static func fileError(_ what: String, _ code: Int32) -> StoreError {
    let text = "\(what): \(String(cString: strerror(code)))"
    return code == ENOSPC || code == EDQUOT ? .noSpace(text) : .io(text)
  }

  /// A RocksDB error as a store error; RocksDB words ENOSPC as the system does.
  static func storeError(_ error: KVError) -> StoreError {
    let text = "\(error)"
    return text.contains(String(cString: strerror(ENOSPC))) ? .noSpace(text) : .io(text)
  }

  func extendFile(_ id: UInt64, to size: UInt64) throws(StoreError) {
    guard truncate(filePath(id), off_t(size)) == 0 else {
      throw .io("truncate \(filePath(id)): \(String(cString: strerror(errno)))")
    }
  }

  func truncateFile(_ id: UInt64, to size: UInt64) {
    _ = truncate(filePath(id), off_t(size))
  }

  func syncFile(_ id: UInt64) throws(StoreError) {
    let fd = open(filePath(id), O_RDONLY)
    guard fd >= 0 else { throw .io("open \(filePath(id)): \(String(cString: strerror(errno)))") }
    defer { Foundation.close(fd) }
    guard fdatasync(fd) == 0 else { throw Self.fileError("fdatasync \(filePath(id))", errno) }
  }

  /// Deletes data files that no object record names (left by a crash mid-commit).
  private func removeOrphans() throws(StoreError) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory)) ?? []
    guard !names.isEmpty else { return }
    var used = Set<UInt64>()
    do {
      for (_, value) in try db.scan(prefix: DurableStoreKeys.objectRecords) {
        if let record = ObjectRecord(decoding: value), record.fileID != 0 {
          used.insert(record.fileID)
        }
      }
    } catch {
      throw .io("\(error)")
    }
    for name in names {
      guard let id = UInt64(name, radix: 16), !used.contains(id) else { continue }
      try? FileManager.default.removeItem(atPath: filePath(id))
    }
  }

  // MARK: reads

  func loadRecord(_ key: [UInt8]) throws(StoreError) -> ObjectRecord? {
    let raw: [UInt8]?
    do {
      raw = try db.get(key)
    } catch {
      throw .io("\(error)")
    }
    guard let raw else { return nil }
    guard let record = ObjectRecord(decoding: raw) else { throw .corrupt("bad object record") }
    return record
  }

  public func usage(_ c: PGID) throws(StoreError) -> (objects: Int, bytes: UInt64) {
    guard collectionExists(c) else { throw .noSuchCollection(c) }
    do {
      var objects = 0
      var bytes: UInt64 = 0
      for (_, value) in try db.scan(prefix: DurableStoreKeys.objectPrefix(c)) {
        guard let record = ObjectRecord(decoding: value) else {
          throw StoreError.corrupt("bad object record")
        }
        objects += 1
        bytes += record.size
      }
      return (objects, bytes)
    } catch let error as StoreError {
      throw error
    } catch {
      throw .io("\(error)")
    }
  }

  func objects(in c: PGID) throws(StoreError) -> [ObjectID] {
    do {
      return try db.scan(prefix: DurableStoreKeys.objectPrefix(c)).compactMap {
        DurableStoreKeys.objectID(fromKey: $0.key, c)
      }
    } catch {
      throw .io("\(error)")
    }
  }

  public func read(_ c: PGID, _ o: ObjectID, offset: UInt64, length: UInt64?) throws(StoreError)
    -> ByteBuffer
  {
    guard collectionExists(c) else { throw .noSuchCollection(c) }
    guard let r = try loadRecord(DurableStoreKeys.object(c, o)) else { throw .noSuchObject(o) }
    guard offset < r.size else { return ByteBuffer() }
    let count = Int(min(length ?? r.size, r.size - offset))
    if r.fileID == 0 {
      return ByteBuffer(bytes: r.inline[Int(offset)..<Int(offset) + count])
    }
    var buffer = ByteBufferAllocator().buffer(capacity: count)
    let fd = open(filePath(r.fileID), O_RDONLY)
    guard fd >= 0 else {
      throw .corrupt("data file of \(o) missing: \(String(cString: strerror(errno)))")
    }
    defer { Foundation.close(fd) }
    let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
      var done = 0
      while done < count {
        let n = pread(fd, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        done += n
      }
      return done
    }
    if got < count {
      // Bytes past the end of the file read as zeros (a sparse extension).
      buffer.writeRepeatingByte(0, count: count - got)
    }
    return buffer
  }

  public func stat(_ c: PGID, _ o: ObjectID) throws(StoreError) -> ObjectStat {
    guard collectionExists(c) else { throw .noSuchCollection(c) }
    guard let r = try loadRecord(DurableStoreKeys.object(c, o)) else { throw .noSuchObject(o) }
    return ObjectStat(size: r.size, mtime: r.mtime)
  }

  public func xattr(_ c: PGID, _ o: ObjectID, _ name: String) throws(StoreError) -> ByteBuffer {
    guard try loadRecord(DurableStoreKeys.object(c, o)) != nil else { throw .noSuchObject(o) }
    do {
      guard let value = try db.get(DurableStoreKeys.attr(c, o, kind: .xattr, name)) else {
        throw StoreError.noSuchAttribute(name)
      }
      return ByteBuffer(bytes: value)
    } catch let error as StoreError {
      throw error
    } catch {
      throw .io("\(error)")
    }
  }

  public func xattrs(_ c: PGID, _ o: ObjectID) throws(StoreError) -> [String: ByteBuffer] {
    guard try loadRecord(DurableStoreKeys.object(c, o)) != nil else { throw .noSuchObject(o) }
    do {
      let prefix = DurableStoreKeys.attrPrefix(c, o, kind: .xattr)
      var result: [String: ByteBuffer] = [:]
      for (key, value) in try db.scan(prefix: prefix) {
        result[String(decoding: key[prefix.count...], as: UTF8.self)] = ByteBuffer(bytes: value)
      }
      return result
    } catch {
      throw .io("\(error)")
    }
  }

  public func omap(_ c: PGID, _ o: ObjectID, keys: [String]) throws(StoreError)
    -> [String: ByteBuffer]
  {
    guard try loadRecord(DurableStoreKeys.object(c, o)) != nil else { throw .noSuchObject(o) }
    do {
      let prefix = DurableStoreKeys.attrPrefix(c, o, kind: .omap)
      var result: [String: ByteBuffer] = [:]
      for (key, value) in try db.scan(prefix: prefix) {
        let name = String(decoding: key[prefix.count...], as: UTF8.self)
        if keys.isEmpty || keys.contains(name) { result[name] = ByteBuffer(bytes: value) }
      }
      return result
    } catch {
      throw .io("\(error)")
    }
  }

  public func list(_ c: PGID, after cursor: ObjectID?, limit: Int) throws(StoreError) -> [ObjectID]
  {
    guard collectionExists(c) else { throw .noSuchCollection(c) }
    let all = try objects(in: c)  // already in key order: (namespace, name)
    return Array(all.filter { cursor == nil || $0 > cursor! }.prefix(limit))
  }

  public func collections() throws(StoreError) -> [PGID] {
    do {
      return try db.scan(prefix: DurableStoreKeys.collections).compactMap {
        DurableStoreKeys.collection(fromKey: $0.key)
      }.sorted()
    } catch {
      throw .io("\(error)")
    }
  }

  public func collectionExists(_ c: PGID) -> Bool {
    ((try? db.get(DurableStoreKeys.collection(c))) ?? nil) != nil
  }
}
