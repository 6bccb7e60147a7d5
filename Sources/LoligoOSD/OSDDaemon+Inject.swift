import Foundation
import LoligoDaemon
import LoligoPlacement

/// `injectdataerr POOL OBJECT [OFFSET]` and `injectmdataerr POOL OBJECT` (Ceph's admin commands
/// of those names): damage this OSD's copy of an object through its store, so tests and users
/// can exercise detection and repair (a read of a damaged primary copy is served from a good
/// one and the copy repaired; a deep scrub finds a damaged replica) without knowing the
/// store's layout. POOL is a name or an id.
extension OSDDaemon {
  func registerInjectCommands(_ socket: AdminSocket) {
    socket.register(
      "injectdataerr",
      help: "injectdataerr POOL OBJECT [OFFSET]: flip 4 bytes of this OSD's copy of the object's "
        + "data (from OFFSET, default 0), its checksums left as they were"
    ) { [weak self] words in
      guard let self, words.count == 3 || words.count == 4 else {
        return ["error": "usage: injectdataerr POOL OBJECT [OFFSET]"]
      }
      guard let offset = words.count == 4 ? UInt64(words[3]) : 0 else {
        return ["error": "injectdataerr: bad offset '\(words[3])' (bytes from the start)"]
      }
      return self.inject(pool: words[1], object: words[2]) { pgid, object throws(StoreError) in
        try self.store.injectDataError(pgid, object, offset: offset)
      }
    }
    socket.register(
      "injectmdataerr",
      help: "injectmdataerr POOL OBJECT: damage this OSD's copy of the object's metadata (durable: "
        + "its record; memstore: its version attribute)"
    ) { [weak self] words in
      guard let self, words.count == 3 else {
        return ["error": "usage: injectmdataerr POOL OBJECT"]
      }
      return self.inject(pool: words[1], object: words[2]) { pgid, object throws(StoreError) in
        try self.store.injectMetadataError(pgid, object)
      }
    }
  }

  /// Finds the object's PG in the current map and damages the copy held here; the answer says
  /// what was damaged, or why nothing was.
  func inject(
    pool: String, object name: String,
    _ damage: (PGID, ObjectID) throws(StoreError) -> StoreDamage
  ) -> [String: Any] {
    let found = try? loop.submit { () -> OSDStatusBox in
      guard let map = self.map else { return OSDStatusBox("osd.\(self.id) has no OSD map yet") }
      guard
        let poolID = Int64(pool).flatMap({ map.pool($0) != nil ? $0 : nil })
          ?? map.poolID(named: pool)
      else { return OSDStatusBox("no pool '\(pool)'") }
      guard let pgid = try? map.pg(forObject: name, locator: ObjectLocator(pool: poolID)) else {
        return OSDStatusBox("cannot place '\(name)' in pool '\(pool)'")
      }
      let acting = (try? map.map(pg: pgid))?.acting ?? []
      return OSDStatusBox((pgid, acting))
    }.wait().value
    guard let (pgid, acting) = found as? (PGID, [Int32]) else {
      return ["error": found as? String ?? "osd.\(id) is stopping"]
    }
    let object = ObjectID(name)
    do throws(StoreError) {
      let done = try damage(pgid, object)
      var answer: [String: Any] = [
        "osd": Int(id), "pool": pool, "pgid": "\(pgid)", "object": name, "damaged": done.kind,
        "location": done.location, "bytes": done.length, "objectstore": store.kind,
        "acting": acting.map { Int($0) }, "primary": acting.first == id,
      ]
      if let offset = done.offset { answer["offset"] = Int(offset) }
      return answer
    } catch .noSuchObject, .noSuchCollection {
      return [
        "error":
          "osd.\(id) holds no copy of '\(name)' (pool '\(pool)', pg \(pgid), acting \(acting.map { Int($0) }))"
      ]
    } catch {
      return ["error": "osd.\(id): \(error)"]
    }
  }
}
