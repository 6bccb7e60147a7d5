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
///                    (keys and values: `DurableStoreKeys`, `ObjectRecord`)
///     data/<id>      one file per large object, named by a number from the records
///
/// Objects up to `inlineLimit` bytes keep their data in the record itself, so a small write is
/// one RocksDB write. Larger objects live in `data/<id>`; their bytes are written and fsynced
/// before the record that makes them visible. A single commit thread takes every transaction
/// queued since its last pass, applies them in order, fsyncs the files they touched and writes
/// all their records in one synced RocksDB batch (group commit), then reports the commits in
/// order (`CommitPass`).
///
/// Bytes a record already makes visible are never changed before the batch that changes the
/// record commits, so a crash leaves every object as its last committed transaction left it:
/// a whole-object overwrite goes to a new file (the old one is unlinked after the commit); a
/// partial overwrite of existing bytes is written into the batch as a deferred write (`W` key)
/// and applied to the file after the commit, replayed at mount if the OSD died in between;
/// only bytes past the committed size are written in place beforehand. A crash before the
/// batch leaves, at worst, file bytes no record points to (removed at the next mount).
///
/// Data at rest is checked (`StoreChecksums`, as BlueStore's csums): each record keeps a crc32c
/// per block of the object's data (inline or in its file), written in the same batch as the
/// data change and describing exactly the bytes a reader sees once it commits; every read
/// verifies the blocks it covers and fails with `.corrupt` (EIO to the OSD, which repairs the
/// copy from a good one) rather than return bytes they do not vouch for. Records carry their
/// own crc and attribute and omap values theirs, so damaged metadata is an error too.
// the queue under `queueLock`, `nextFileID` the commit thread's; RocksDB is thread-safe
public final class DurableStore: ObjectStore, @unchecked Sendable {
  public let kind = "durable"
  public static let inlineLimit = 64 << 10
  /// RocksDB's memtable: small objects live in it, and their log beside it, until a flush;
  /// RocksDB's 64 MiB (twice, with the log) would take a good part of a small disk.
  static let memtableBytes = 16 << 20

  public let directory: String
  public let maxObjectSize: UInt64
  public let checksums: StoreChecksums
  let db: RocksDB
  private let dataDirectory: String

  /// Work for the commit thread: transactions, and store maintenance run between passes.
  enum Queued {
    case transaction(StoreTransaction, @Sendable (Result<Void, StoreError>) -> Void)
    case task(() -> Void)
  }

  private let queueLock = NSCondition()
  private var queue: [Queued] = []
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
  /// Held by the commit thread from a pass's batch until its file changes are done. A read whose
  /// record and bytes disagree looks again under it: it may have run between the two.
  let applyLock = NSLock()
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
      t.put(DurableStoreKeys.format, DurableStoreKeys.fileCounter(DurableStoreKeys.currentFormat))
      t.put(DurableStoreKeys.nextFileID, DurableStoreKeys.fileCounter(0))
      try db.apply(t, sync: true)
      db.close()
    } catch {
      throw .io("\(error)")
    }
  }

  /// Opens an existing store and removes data files no record refers to. A store that cannot
  /// be used (no RocksDB, one RocksDB will not open, a counter or format marker that is not
  /// what it must be) is a clear error, never a crash; a damaged object record is found when
  /// the object is read.
  ///
  /// With `stopAtFirstFailure` (an OSD's store), a transaction that fails ends the store's
  /// life: it and every transaction after it fail, none of them reaches the disk, so the
  /// disk holds exactly the transactions before it — what an OSD rebuilds its state from,
  /// since the state it kept in memory counted on the failed one. Without it (tools,
  /// tests), each transaction succeeds or fails on its own.
  public init(
    directory: String, maxObjectSize: UInt64 = 1 << 30, checksums: StoreChecksums = .default,
    stopAtFirstFailure: Bool = false
  ) throws(StoreError) {
    self.directory = directory
    self.dataDirectory = directory + "/data"
    self.maxObjectSize = maxObjectSize
    self.checksums = checksums
    self.stopAtFirstFailure = stopAtFirstFailure
    guard FileManager.default.fileExists(atPath: directory + "/meta") else {
      throw .io("no store at \(directory) (was the OSD created with --mkfs?)")
    }
    let db: RocksDB
    do {
      db = try RocksDB(
        path: directory + "/meta", options: .init(writeBufferSize: Self.memtableBytes))
    } catch {
      throw .corrupt("cannot open \(directory)/meta: \(error)")
    }
    self.db = db
    // Reads through the local `db`: `self` is not whole until `nextFileID` is set.
    func counter(_ key: [UInt8], _ name: String) throws(StoreError) -> UInt64? {
      let raw: [UInt8]?
      do { raw = try db.get(key) } catch { throw .corrupt("\(directory)/meta: \(error)") }
      guard let raw else { return nil }
      guard let value = DurableStoreKeys.fileCounter(decoding: raw) else {
        throw .corrupt("\(directory)/meta: \(name) is damaged (\(raw.count) bytes, not 8)")
      }
      return value
    }
    let format = try counter(DurableStoreKeys.format, "the format marker")
    guard format == DurableStoreKeys.currentFormat else {
      throw .corrupt(
        "\(directory) is a store of format \(format.map(String.init) ?? "1 (no checksums)"), "
          + "this OSD reads format \(DurableStoreKeys.currentFormat): create it again with --mkfs")
    }
    guard let files = try counter(DurableStoreKeys.nextFileID, "the file counter") else {
      throw .corrupt("\(directory)/meta has no file counter")
    }
    nextFileID = files
    nextDeferred = try counter(DurableStoreKeys.nextDeferred, "the deferred-write counter") ?? 0
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory),
      isDirectory.boolValue
    else { throw .corrupt("\(dataDirectory) is missing or not a directory") }
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
    if let refused = enqueue(.transaction(transaction, onCommit)) {
      onCommit(.failure(refused))
    }
  }

  /// Nil once queued, else why not: the store is closing, or (for a transaction) a failure
  /// stopped it.
  private func enqueue(_ item: Queued) -> StoreError? {
    queueLock.lock()
    defer { queueLock.unlock() }
    if stopping { return .io("store is closed") }
    if case .transaction(let transaction, _) = item {
      if let failure { return failure }
      queuedBytes += UInt64(transaction.dataBytes)
    }
    queue.append(item)
    queueLock.signal()
    return nil
  }

  /// Runs `body` on the commit thread between two passes (nothing half applied) and returns
  /// its result.
  func onCommitThread<T>(_ body: @escaping () throws(StoreError) -> T) throws(StoreError) -> T {
    let done = NSCondition()
    var result: Result<T, StoreError>?
    let refused = enqueue(
      .task {
        let value: Result<T, StoreError>
        do throws(StoreError) { value = .success(try body()) } catch { value = .failure(error) }
        done.lock()
        result = value
        done.signal()
        done.unlock()
      })
    if let refused { throw refused }
    done.lock()
    while result == nil { done.wait() }
    done.unlock()
    return try result!.get()
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
      let items = queue
      queue.removeAll(keepingCapacity: true)
      queueLock.unlock()
      var batch: [(StoreTransaction, @Sendable (Result<Void, StoreError>) -> Void)] = []
      for item in items {
        switch item {
        case .transaction(let transaction, let callback):
          batch.append((transaction, callback))
        case .task(let task):
          if !batch.isEmpty { commitOrFail(batch) }
          batch.removeAll()
          task()
        }
      }
      if !batch.isEmpty { commitOrFail(batch) }
    }
  }

  /// Commits the batch, or fails it whole once a failure has stopped the store.
  private func commitOrFail(
    _ batch: [(StoreTransaction, @Sendable (Result<Void, StoreError>) -> Void)]
  ) {
    guard let stopped = stoppedBy else { return commit(batch) }
    settle(bytes: batch.reduce(0) { $0 + $1.0.dataBytes })
    for (_, callback) in batch { callback(.failure(stopped)) }
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
        // A damaged record's writes are dropped: its object fails every read until repaired.
        if case .success(let record) = ObjectRecord.decode(value), record.fileID != 0 {
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

  /// Deletes data files that no object record names (left by a crash mid-commit). None while
  /// a record is damaged: the file it names is unknown, and may be one that a repair or a
  /// salvage still wants.
  private func removeOrphans() throws(StoreError) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dataDirectory)) ?? []
    guard !names.isEmpty else { return }
    var used = Set<UInt64>()
    do {
      for (key, value) in try db.scan(prefix: DurableStoreKeys.objectRecords) {
        switch ObjectRecord.decode(value) {
        case .success(let record):
          if record.fileID != 0 { used.insert(record.fileID) }
        case .failure(let damage):
          Log.shared.error(
            "osd",
            "\(directory): object record \(String(decoding: key, as: UTF8.self)) "
              + "\(damage.reason); keeping every data file")
          return
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

  /// Reads `count` bytes of file `id` from `offset`; bytes past the file's end read as zeros
  /// (a sparse extension). Nil when the file is not there.
  func readFile(_ id: UInt64, offset: UInt64, count: Int, into buffer: inout ByteBuffer)
    -> Int32?
  {
    let fd = open(filePath(id), O_RDONLY)
    guard fd >= 0 else { return errno }
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
    if got < count { buffer.writeRepeatingByte(0, count: count - got) }
    return nil
  }

  // MARK: reads

  func loadRecord(_ key: [UInt8], _ o: ObjectID? = nil) throws(StoreError) -> ObjectRecord? {
    let raw: [UInt8]?
    do {
      raw = try db.get(key)
    } catch {
      throw .io("\(error)")
    }
    guard let raw else { return nil }
    switch ObjectRecord.decode(raw, maxObjectSize: maxObjectSize) {
    case .success(let record): return record
    case .failure(let damage):
      let name = o.map { "\($0)" } ?? String(decoding: key, as: UTF8.self)
      throw .corrupt("the object record of \(name) \(damage.reason)")
    }
  }

  public func usage(_ c: PGID) throws(StoreError) -> (objects: Int, bytes: UInt64) {
    guard collectionExists(c) else { throw .noSuchCollection(c) }
    do {
      var objects = 0
      var bytes: UInt64 = 0
      for (_, value) in try db.scan(prefix: DurableStoreKeys.objectPrefix(c)) {
        // Statistics: the stated size, unchecked (a damaged record is found when read).
        objects += 1
        bytes += ObjectRecord.peekSize(value) ?? 0
      }
      return (objects, bytes)
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
    try readWithCRC(c, o, offset: offset, length: length).data
  }

  /// Reads and verifies; the crc comes with reads of whole blocks (a whole object among them),
  /// folded from the block crcs, so the messenger need not compute it again.
  public func readWithCRC(_ c: PGID, _ o: ObjectID, offset: UInt64, length: UInt64?)
    throws(StoreError) -> (data: ByteBuffer, crc: UInt32?)
  {
    do {
      return try readChecked(c, o, offset: offset, length: length)
    } catch .corrupt {
      // The commit thread may have been between a batch and its file changes (new record, old
      // bytes, or the reverse): once it is done, record and bytes agree unless damaged.
      applyLock.lock()
      defer { applyLock.unlock() }
      return try readChecked(c, o, offset: offset, length: length)
    }
  }

  private func readChecked(_ c: PGID, _ o: ObjectID, offset: UInt64, length: UInt64?)
    throws(StoreError) -> (data: ByteBuffer, crc: UInt32?)
  {
    guard collectionExists(c) else { throw .noSuchCollection(c) }
    guard let r = try loadRecord(DurableStoreKeys.object(c, o), o) else { throw .noSuchObject(o) }
    guard offset < r.size else { return (ByteBuffer(), nil) }
    let count = min(length ?? r.size, r.size - offset)
    let shift = checksums.enabled ? r.csumShift : 0
    // With checksums, whole blocks: a read of part of a block verifies all of it.
    let start = shift == 0 ? offset : (offset >> shift) << shift
    let end =
      shift == 0
      ? offset + count : min(r.size, ((offset + count + (1 << shift) - 1) >> shift) << shift)
    var buffer: ByteBuffer
    if r.fileID == 0 {
      buffer = ByteBuffer(bytes: r.inline[Int(start)..<Int(end)])
    } else {
      buffer = ByteBufferAllocator().buffer(capacity: Int(end - start))
      if let error = readFile(r.fileID, offset: start, count: Int(end - start), into: &buffer) {
        throw .corrupt("data file of \(o) missing: \(String(cString: strerror(error)))")
      }
    }
    guard shift != 0 else { return (buffer, nil) }
    let block = UInt64(1) << shift
    let checked = buffer.withUnsafeReadableBytes {
      BlockCRC.check($0, first: Int(start >> shift), shift: shift, crcs: r.csums)
    }
    let crc: UInt32
    switch checked {
    case .success(let value): crc = value
    case .failure(let bad):
      let at = UInt64(bad.block) << shift
      throw .corrupt(
        "\(o) in \(c): data at offset \(at) (bytes \(at)..<\(min(at + block, r.size))) fails "
          + "its crc32c (stored \(BlockCRC.hex(bad.stored)), read \(BlockCRC.hex(bad.computed)))")
    }
    if start == offset && end == offset + count { return (buffer, crc) }
    return (buffer.getSlice(at: buffer.readerIndex + Int(offset - start), length: Int(count))!, nil)
  }

  public func stat(_ c: PGID, _ o: ObjectID) throws(StoreError) -> ObjectStat {
    guard collectionExists(c) else { throw .noSuchCollection(c) }
    guard let r = try loadRecord(DurableStoreKeys.object(c, o), o) else { throw .noSuchObject(o) }
    return ObjectStat(size: r.size, mtime: r.mtime)
  }

  public func xattr(_ c: PGID, _ o: ObjectID, _ name: String) throws(StoreError) -> ByteBuffer {
    guard try loadRecord(DurableStoreKeys.object(c, o), o) != nil else { throw .noSuchObject(o) }
    do {
      guard let raw = try db.get(DurableStoreKeys.attr(c, o, kind: .xattr, name)) else {
        throw StoreError.noSuchAttribute(name)
      }
      guard let value = CheckedValue.decode(raw) else {
        throw StoreError.corrupt("\(o): attribute \(name) fails its crc32c")
      }
      return value
    } catch let error as StoreError {
      throw error
    } catch {
      throw .io("\(error)")
    }
  }

  public func xattrs(_ c: PGID, _ o: ObjectID) throws(StoreError) -> [String: ByteBuffer] {
    try values(c, o, kind: .xattr, keys: [])
  }

  /// Attribute or omap values (all when `keys` is empty), each checked against its crc.
  private func values(_ c: PGID, _ o: ObjectID, kind: DurableStoreKeys.AttrKind, keys: [String])
    throws(StoreError) -> [String: ByteBuffer]
  {
    guard try loadRecord(DurableStoreKeys.object(c, o), o) != nil else { throw .noSuchObject(o) }
    let entries: [(key: [UInt8], value: [UInt8])]
    let prefix = DurableStoreKeys.attrPrefix(c, o, kind: kind)
    do {
      entries = try db.scan(prefix: prefix)
    } catch {
      throw .io("\(error)")
    }
    var result: [String: ByteBuffer] = [:]
    for (key, raw) in entries {
      let name = String(decoding: key[prefix.count...], as: UTF8.self)
      guard keys.isEmpty || keys.contains(name) else { continue }
      guard let value = CheckedValue.decode(raw) else {
        throw .corrupt(
          "\(o): \(kind == .xattr ? "attribute" : "omap value") \(name) fails its crc32c")
      }
      result[name] = value
    }
    return result
  }

  public func omap(_ c: PGID, _ o: ObjectID, keys: [String]) throws(StoreError)
    -> [String: ByteBuffer]
  {
    try values(c, o, kind: .omap, keys: keys)
  }

  public func list(_ c: PGID, after cursor: ObjectID?, limit: Int) throws(StoreError) -> [ObjectID]
  {
    guard collectionExists(c) else { throw .noSuchCollection(c) }
    // RocksDB holds them by name; listing is in ObjectID's (hash) order.
    let all = try objects(in: c).filter { cursor == nil || $0 > cursor! }.sorted()
    return Array(all.prefix(limit))
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
