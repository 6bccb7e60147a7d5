import Foundation
import LoligoKV
import LoligoPlacement
import NIOCore

/// Damage on purpose (`injectdataerr`, `injectmdataerr`): bytes flipped where the store keeps
/// them, its checks left as they are, so detection and repair can be exercised without knowing
/// the layout. Run on the commit thread between passes, so no write in flight undoes it.
extension DurableStore {
  public func injectDataError(_ c: PGID, _ o: ObjectID, offset: UInt64) throws(StoreError)
    -> StoreDamage
  {
    try onCommitThread { () throws(StoreError) -> StoreDamage in
      guard self.collectionExists(c) else { throw .noSuchCollection(c) }
      let key = DurableStoreKeys.object(c, o)
      guard var r = try self.loadRecord(key, o) else { throw .noSuchObject(o) }
      guard offset < r.size else {
        throw .invalid("offset \(offset) is past the end of \(o) (\(r.size) bytes)")
      }
      let length = Int(min(4, r.size - offset))
      if r.fileID == 0 {
        for at in Int(offset)..<Int(offset) + length { r.inline[at] ^= 0xFF }
        // The record's own crc leaves the inline data out: only the block crcs see this.
        var t = KVTransaction()
        t.put(key, r.encoded())
        do { try self.db.apply(t, sync: true) } catch { throw .io("\(error)") }
        return StoreDamage(
          kind: "data", location: "inline data in the object record", offset: offset,
          length: length)
      }
      var bytes = ByteBuffer()
      if let error = self.readFile(r.fileID, offset: offset, count: length, into: &bytes) {
        throw .io("read \(self.filePath(r.fileID)): \(String(cString: strerror(error)))")
      }
      for at in 0..<length {
        bytes.setInteger(bytes.getInteger(at: at, as: UInt8.self)! ^ 0xFF, at: at)
      }
      try self.writeFile(r.fileID, offset: offset, data: bytes)
      try self.syncFile(r.fileID)
      return StoreDamage(
        kind: "data", location: "data file \(self.filePath(r.fileID))", offset: offset,
        length: length)
    }
  }

  public func injectMetadataError(_ c: PGID, _ o: ObjectID) throws(StoreError) -> StoreDamage {
    try onCommitThread { () throws(StoreError) -> StoreDamage in
      guard self.collectionExists(c) else { throw .noSuchCollection(c) }
      let key = DurableStoreKeys.object(c, o)
      let raw: [UInt8]?
      do { raw = try self.db.get(key) } catch { throw .io("\(error)") }
      guard var raw, raw.count > 1 else { throw .noSuchObject(o) }
      raw[1] ^= 0xFF  // the low byte of the size; the record's crc no longer holds
      var t = KVTransaction()
      t.put(key, raw)
      do { try self.db.apply(t, sync: true) } catch { throw .io("\(error)") }
      return StoreDamage(kind: "metadata", location: "object record (its size)", length: 1)
    }
  }
}
