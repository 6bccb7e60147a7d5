import Foundation
import LoligoCore
import LoligoKV
import LoligoPlacement
import NIOCore

extension DurableStore {
  /// One pass of the commit thread: records changed so far (visible to later transactions of
  /// the same pass), files to fsync, file changes to make after the commit, files to unlink.
  ///
  /// File bytes a committed record may show (below the committed size, or anywhere in a file
  /// this pass truncates) change only after the batch, in order (`afterCommit`); bytes past
  /// both the committed size and what earlier transactions of the pass wrote are written now.
  /// Block crcs are computed as the data is staged, over the bytes a reader will see after the
  /// commit: the new data for blocks a write covers, the staged view (`view`) for blocks it
  /// covers in part, whose surviving old bytes are checked against their crc first.
  struct CommitPass {
    let store: DurableStore
    var records: [[UInt8]: ObjectRecord?] = [:]
    var collections: [PGID: Bool] = [:]
    var batch = KVTransaction()
    var dirtyFiles = Set<UInt64>()
    var unlinkAfter: [UInt64] = []
    /// The committed size of each file-backed object the pass loaded, by file.
    var committedSizes: [UInt64: UInt64] = [:]
    /// Files the pass truncates after the commit: later writes to them wait for it too.
    var truncated = Set<UInt64>()
    /// Changes to files once the batch is durable, in order.
    var afterCommit: [FileChange] = []

    enum FileChange {
      /// A deferred overwrite, also in the batch under `key` (replayed at mount).
      case write(key: [UInt8], file: UInt64, offset: UInt64, data: ByteBuffer)
      case truncate(file: UInt64, size: UInt64)

      var file: UInt64 {
        switch self {
        case .write(_, let file, _, _), .truncate(let file, _): return file
        }
      }
    }

    /// An object as the pass finds it.
    enum Lookup {
      case absent
      case present(ObjectRecord)
      /// Its record fails its checks: nothing it says (size, file, crcs) can be used.
      case damaged
    }

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

    mutating func lookup(_ c: PGID, _ o: ObjectID) throws(StoreError) -> Lookup {
      let key = DurableStoreKeys.object(c, o)
      if let cached = records[key] { return cached.map(Lookup.present) ?? .absent }
      let loaded: ObjectRecord?
      do {
        loaded = try store.loadRecord(key, o)
      } catch .corrupt {
        return .damaged
      }
      guard let loaded else { return .absent }
      if loaded.fileID != 0 && committedSizes[loaded.fileID] == nil {
        committedSizes[loaded.fileID] = loaded.size
      }
      return .present(loaded)
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
        switch try lookup(c, o) {
        case .damaged: return  // left as it is: it fails its reads until repaired
        case .absent: put(c, o, ObjectRecord(mtime: now))
        case .present(var r):
          r.mtime = now
          put(c, o, r)
        }
      case .write(let c, let o, let offset, let data, _):
        try requireCollection(c)
        try write(c, o, offset: offset, data: data, replace: false, now: now)
      case .writeFull(let c, let o, let data, _):
        try requireCollection(c)
        try write(c, o, offset: 0, data: data, replace: true, now: now)
      case .truncate(let c, let o, let size):
        try requireCollection(c)
        guard size <= store.maxObjectSize else { throw .tooLarge("truncate to \(size)") }
        try truncate(c, o, to: size, now: now)
      case .remove(let c, let o):
        try requireCollection(c)
        switch try lookup(c, o) {
        case .absent: return
        case .present(let r): if r.fileID != 0 { unlinkAfter.append(r.fileID) }
        case .damaged: break  // its file, unknown, goes with the orphans once none is damaged
        }
        put(c, o, nil)
        batch.deleteRange(
          from: DurableStoreKeys.attrPrefix(c, o, kind: .xattr),
          to: DurableStoreKeys.attrEnd(c, o, kind: .xattr))
        batch.deleteRange(
          from: DurableStoreKeys.attrPrefix(c, o, kind: .omap),
          to: DurableStoreKeys.attrEnd(c, o, kind: .omap))
      case .setXattr(let c, let o, let name, let value):
        try requireCollection(c)
        if case .absent = try lookup(c, o) { put(c, o, ObjectRecord(mtime: now)) }
        batch.put(DurableStoreKeys.attr(c, o, kind: .xattr, name), CheckedValue.encode(value))
      case .removeXattr(let c, let o, let name):
        try requireCollection(c)
        batch.delete(DurableStoreKeys.attr(c, o, kind: .xattr, name))
      case .setOmap(let c, let o, let values):
        try requireCollection(c)
        if case .absent = try lookup(c, o) { put(c, o, ObjectRecord(mtime: now)) }
        for (key, value) in values {
          batch.put(DurableStoreKeys.attr(c, o, kind: .omap, key), CheckedValue.encode(value))
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
      var r: ObjectRecord
      switch try lookup(c, o) {
      case .present(let found): r = found
      case .absent: r = ObjectRecord()
      case .damaged:
        // A part written over unknown bytes would vouch for them: the object stays damaged
        // (failing its reads until repaired). A whole new content replaces it; its old file,
        // unknown, goes with the orphans once no record is damaged.
        guard replace else { return }
        r = ObjectRecord()
      }
      // A write that replaces everything visible goes to a fresh place: a new file, or inline.
      let whole = replace || (offset == 0 && end >= r.size)
      if whole {
        if r.fileID != 0 { unlinkAfter.append(r.fileID) }
        r.fileID = 0
        r.inline = []
        r.size = 0
      }
      // Checksums: the store's for new content; a part keeps the object's own (none if it was
      // written with them off); none at all when they are off now.
      let shift: UInt8 =
        !store.checksums.enabled ? 0 : r.size == 0 ? store.checksums.blockShift : r.csumShift
      if shift != r.csumShift {
        r.csumShift = shift
        r.csums = []
      }
      // Bytes between the end and `offset` read as zeros: written as part of the data, so
      // they are placed and checksummed like it (even over bytes an old, longer file left).
      let oldSize = r.size
      var data = data
      var offset = offset
      if offset > oldSize {
        var padded = ByteBufferAllocator().buffer(capacity: Int(end - oldSize))
        padded.writeRepeatingByte(0, count: Int(offset - oldSize))
        padded.writeImmutableBuffer(data)
        data = padded
        offset = oldSize
      }
      let damaged = try checkSurvivingBlocks(r, from: offset, to: end)
      let newSize = max(oldSize, end)
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
        // Bytes a committed record may show, or earlier transactions of this pass wrote, change
        // after the commit (deferred); bytes past all of them are not visible yet: written now.
        let inPlaceFrom =
          truncated.contains(r.fileID) ? .max : max(oldSize, committedSizes[r.fileID] ?? 0)
        if offset < min(end, inPlaceFrom) {
          let overlap = data.getSlice(
            at: data.readerIndex, length: Int(min(end, inPlaceFrom) - offset))!
          deferWrite(file: r.fileID, offset: offset, data: overlap)
        }
        if end > max(offset, inPlaceFrom) {
          let start = max(offset, inPlaceFrom)
          if grown[r.fileID] == nil { grown[r.fileID] = inPlaceFrom }
          let tail = data.getSlice(
            at: data.readerIndex + Int(start - offset), length: Int(end - start))!
          try store.writeFile(r.fileID, offset: start, data: tail)
          dirtyFiles.insert(r.fileID)
        }
      }
      r.size = newSize
      r.mtime = now
      if shift != 0 {
        try updateCRCs(&r, from: offset, to: end, data: data, damaged: damaged)
      }
      put(c, o, r)
    }

    /// Blocks of `r` where old bytes survive next to the change `from..<to`, checked against
    /// their crcs before the change: the ones that fail.
    func checkSurvivingBlocks(_ r: ObjectRecord, from: UInt64, to: UInt64) throws(StoreError)
      -> Set<Int>
    {
      guard r.csumShift != 0 && r.size > 0 else { return [] }
      let shift = r.csumShift
      let block = UInt64(1) << shift
      var edges: Set<UInt64> = []
      if from % block != 0 && from <= r.size { edges.insert(from) }
      if to % block != 0 && to < r.size { edges.insert(to) }
      var damaged = Set<Int>()
      for edge in edges {
        let index = Int(edge >> shift)
        let start = UInt64(index) << shift
        let old = try view(r, from: start, to: min(start + block, r.size))
        let bad = old.withUnsafeReadableBytes {
          BlockCRC.firstMismatch($0, first: index, shift: shift, crcs: r.csums) != nil
        }
        if bad { damaged.insert(index) }
      }
      return damaged
    }

    /// The crcs of the blocks from the one holding `from` to the one holding the last byte
    /// changed (`r` is staged): from `data` (which starts at `from`) where a block lies in it,
    /// else from the staged view. `damaged` blocks get crcs that cannot match.
    func updateCRCs(
      _ r: inout ObjectRecord, from: UInt64, to: UInt64, data: ByteBuffer?, damaged: Set<Int>
    ) throws(StoreError) {
      let shift = r.csumShift
      let block = UInt64(1) << shift
      let count = BlockCRC.count(size: r.size, shift: shift)
      if r.csums.count > count { r.csums.removeLast(r.csums.count - count) }
      if r.csums.count < count { r.csums += [UInt32](repeating: 0, count: count - r.csums.count) }
      let first = Int(from >> shift)
      let last = min(count, Int((max(to, from + 1) + block - 1) >> shift))
      guard first < last else { return }
      // Blocks that lie in `data` whole, in one pass over it.
      var inData = 0..<0
      if let data {
        let lower = Int((from + block - 1) >> shift)
        let upper = min(last, r.size <= to ? last : Int(to >> shift))
        if lower < upper {
          inData = lower..<upper
          let start = Int((UInt64(lower) << shift) - from)
          let end = Int(min(UInt64(upper) << shift, r.size) - from)
          let crcs = data.withUnsafeReadableBytes {
            BlockCRC.compute(UnsafeRawBufferPointer(rebasing: $0[start..<end]), shift: shift)
          }
          r.csums.replaceSubrange(inData, with: crcs)
        }
      }
      for index in first..<last where !inData.contains(index) {
        let start = UInt64(index) << shift
        let end = min(start + block, r.size)
        r.csums[index] = CRC32C.checksum(try view(r, from: start, to: end), seed: BlockCRC.seed)
      }
      for index in damaged where first <= index && index < last {
        r.csums[index] = BlockCRC.poisoned(r.csums[index])
      }
    }

    mutating func truncate(_ c: PGID, _ o: ObjectID, to size: UInt64, now: UInt64)
      throws(StoreError)
    {
      var r: ObjectRecord
      switch try lookup(c, o) {
      case .damaged: return  // stays damaged (see `write`)
      case .absent: r = ObjectRecord()
      case .present(let found): r = found
      }
      if size > r.size {
        // Growing: zeros written like any write (committed bytes are never touched early).
        put(c, o, r)
        try write(
          c, o, offset: r.size, data: ByteBuffer(repeating: 0, count: Int(size - r.size)),
          replace: false, now: now)
        return
      }
      if !store.checksums.enabled {
        r.csumShift = 0
        r.csums = []
      }
      if size < r.size {
        if r.csumShift != 0 {
          // The new last block is shorter: its crc covers what is left of it.
          let damaged = try checkSurvivingBlocks(r, from: size, to: r.size)
          let old = r.size
          r.size = size
          try updateCRCs(&r, from: size, to: old, data: nil, damaged: damaged)
        }
        if r.fileID == 0 {
          r.inline.removeSubrange(Int(size)...)
        } else {
          afterCommit.append(.truncate(file: r.fileID, size: size))
          truncated.insert(r.fileID)
        }
      }
      r.size = size
      r.mtime = now
      put(c, o, r)
    }

    /// Bytes `from..<to` of the object as a reader will see them once this pass commits: the
    /// inline data, or the file with this pass's later changes laid over it.
    func view(_ r: ObjectRecord, from: UInt64, to: UInt64) throws(StoreError) -> ByteBuffer {
      if r.fileID == 0 { return ByteBuffer(bytes: r.inline[Int(from)..<Int(to)]) }
      var buffer = ByteBufferAllocator().buffer(capacity: Int(to - from))
      if let error = store.readFile(r.fileID, offset: from, count: Int(to - from), into: &buffer) {
        throw .io("read \(store.filePath(r.fileID)): \(String(cString: strerror(error)))")
      }
      for change in afterCommit where change.file == r.fileID {
        switch change {
        case .write(_, _, let offset, let data):
          let start = max(from, offset)
          let end = min(to, offset + UInt64(data.readableBytes))
          guard start < end else { continue }
          buffer.setBuffer(
            data.getSlice(at: data.readerIndex + Int(start - offset), length: Int(end - start))!,
            at: buffer.readerIndex + Int(start - from))
        case .truncate(_, let size):
          guard size < to else { continue }
          let start = max(from, size)
          buffer.setRepeatingByte(
            0, count: Int(to - start), at: buffer.readerIndex + Int(start - from))
        }
      }
      return buffer
    }

    /// Records an overwrite of file bytes in the batch; it reaches the file after the commit
    /// (or at the next mount).
    mutating func deferWrite(file: UInt64, offset: UInt64, data: ByteBuffer) {
      let number = store.allocateDeferred(&batch)
      var value = ByteBufferAllocator().buffer(capacity: 8 + data.readableBytes)
      value.writeInteger(offset, endianness: .little)
      value.writeImmutableBuffer(data)
      let key = DurableStoreKeys.deferred(file: file, number: number)
      batch.put(key, Array(value.readableBytesView))
      afterCommit.append(.write(key: key, file: file, offset: offset, data: data))
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
    /// overwrites), then the file changes, in order, and the unlinks.
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
      // Readers that find record and bytes disagreeing wait for the end of this.
      store.applyLock.lock()
      defer { store.applyLock.unlock() }
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
      var keys: [[UInt8]] = []
      for change in afterCommit {
        if case .write(let key, _, _, _) = change { keys.append(key) }
        guard !unlinkAfter.contains(change.file) else { continue }
        switch change {
        case .write(_, let file, let offset, let data):
          try store.writeFile(file, offset: offset, data: data)
          synced.insert(file)
        case .truncate(let file, let size):
          // Not replayed at mount: bytes past a committed size are never read.
          store.truncateFile(file, to: size)
        }
      }
      for id in synced { try store.syncFile(id) }
      store.noteApplied(keys)
      for id in unlinkAfter { try? FileManager.default.removeItem(atPath: store.filePath(id)) }
    }
  }
}
