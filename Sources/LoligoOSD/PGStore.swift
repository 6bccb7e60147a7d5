import LoligoCore
import LoligoMessages
import LoligoPeering
import LoligoPlacement
import NIOCore

/// Where the peering core's state lives in an object store, and the translation of its
/// transactions into store transactions.
///
/// Each PG's collection holds a metadata object in a namespace clients cannot use, whose omap
/// holds `info` (the `PGInfo`), `log.<version>` (one log entry each) and `missing.<object>`
/// (what this copy lacks). Every object written through the core carries its version in the
/// `_v` attribute. All of it changes in the same store transaction as the data it describes.
enum PGStore {
  /// Namespaces starting with NUL are the OSD's own; client ops naming one are refused.
  static let reservedNamespacePrefix = "\u{0}"
  static let metaObject = ObjectID("pgmeta", namespace: "\u{0}loligo")
  static let versionAttribute = "_v"
  static let infoKey = "info"
  static let logPrefix = "log."
  static let missingPrefix = "missing."

  static func isReserved(_ object: ObjectID) -> Bool {
    object.namespace.hasPrefix(reservedNamespacePrefix)
  }

  static func logKey(_ version: EVersion) -> String { logPrefix + version.sortKey }

  /// A key unique per object: the namespace's length first, so no two objects share one.
  static func missingKey(_ object: ObjectID) -> String {
    "\(missingPrefix)\(object.namespace.utf8.count).\(object.namespace)\(object.name)"
  }

  static func encode(_ version: EVersion) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: EVersion.encodedSize)
    version.encode(to: &buffer)
    return buffer
  }

  // MARK: translation

  /// The store transaction for a core transaction. Mutation bodies are the ops this daemon
  /// encoded itself (`ClientMutation`); they were checked before the core saw them.
  static func translate(_ transaction: PGTransaction) throws(OSDOpError) -> StoreTransaction {
    var t = StoreTransaction()
    for operation in transaction.operations {
      switch operation {
      case .create(let pgid):
        t.append(.ensureCollection(pgid))
      case .remove(let pgid):
        t.append(.removeCollection(pgid))
      case .removeAllObjects(let pgid):
        t.append(.removeObjects(pgid, except: metaObject))
      case .mutate(let pgid, let object, let mutation, let version):
        let ops = try ClientMutation.operations(mutation)
        let payloads = OSDOpExecution.payloads(ops, data: mutation.data)
        if let changes = try OSDOpExecution.transaction(
          ops, payloads: payloads, pg: pgid, object: object, dataCRC: mutation.dataCRC)
        {
          t.append(contentsOf: changes)
        }
        if !mutation.deletes {
          t.append(.setXattr(pgid, object, name: versionAttribute, value: encode(version)))
        }
      case .install(let pgid, let object, let snapshot):
        guard let contents = ObjectContents(snapshot.body) else { throw .init(-22) }
        t.append(.remove(pgid, object))
        t.append(.writeFull(pgid, object, data: contents.data, crc: nil))
        for (name, value) in contents.xattrs where name != versionAttribute {
          t.append(.setXattr(pgid, object, name: name, value: value))
        }
        if !contents.omap.isEmpty { t.append(.setOmap(pgid, object, contents.omap)) }
        t.append(
          .setXattr(pgid, object, name: versionAttribute, value: encode(snapshot.version)))
      case .removeObject(let pgid, let object):
        t.append(.remove(pgid, object))
      case .putInfo(let info):
        var value = ByteBuffer()
        info.encode(to: &value)
        t.append(.setOmap(info.pgid, metaObject, [infoKey: value]))
      case .appendLog(let pgid, let entries):
        var values: [String: ByteBuffer] = [:]
        for entry in entries {
          var value = ByteBuffer()
          entry.encode(to: &value)
          values[logKey(entry.version)] = value
        }
        t.append(.setOmap(pgid, metaObject, values))
      case .removeLog(let pgid, let versions):
        t.append(.removeOmapKeys(pgid, metaObject, versions.map(logKey)))
      case .setMissing(let pgid, let object, let need):
        var value = ByteBuffer()
        value.writeCephString(object.name)
        value.writeCephString(object.namespace)
        need.encode(to: &value)
        t.append(.setOmap(pgid, metaObject, [missingKey(object): value]))
      case .clearMissing(let pgid, let object):
        t.append(.removeOmapKeys(pgid, metaObject, [missingKey(object)]))
      }
    }
    return t
  }
}

/// The encoded operations of a client write, as the core carries them (`PGMutation.body`).
enum ClientMutation {
  static func mutation(_ op: OSDOp, data: ByteBuffer, dataCRC: UInt32?) -> PGMutation {
    let body = OSDOp(objectName: "", operations: op.operations).encodeFront()
    return PGMutation(
      body: body, data: data, dataCRC: dataCRC,
      deletes: op.operations.contains { $0.code == .delete })
  }

  static func operations(_ mutation: PGMutation) throws(OSDOpError) -> [OSDOperation] {
    guard let op = try? OSDOp(front: mutation.body) else { throw .init(-22) }
    return op.operations
  }
}

/// An object's whole state for recovery: data, attributes and omap, versioned.
struct ObjectContents {
  var data: ByteBuffer
  var xattrs: [String: ByteBuffer]
  var omap: [String: ByteBuffer]

  init(data: ByteBuffer, xattrs: [String: ByteBuffer], omap: [String: ByteBuffer]) {
    self.data = data
    self.xattrs = xattrs
    self.omap = omap
  }

  /// The data goes last, so a large object is one slice of the message's data segment.
  func encoded() -> ByteBuffer {
    var buffer = ByteBuffer()
    buffer.writeVersioned(version: 1, compat: 1) { b in
      for map in [xattrs, omap] {
        let sorted = map.sorted { $0.key < $1.key }
        b.writeArray(sorted) { b, item in
          b.writeCephString(item.key)
          b.writeBlob(item.value)
        }
      }
      b.writeLE(UInt64(data.readableBytes))
    }
    buffer.writeImmutableBuffer(data)
    return buffer
  }

  /// Decodes one; nil when the bytes do not describe a valid object.
  init?(_ body: ByteBuffer) {
    var b = body
    guard
      let parsed = try? b.readVersioned(
        "object contents", supported: 1, limit: 64 << 20,
        {
          inner, _ -> ([String: ByteBuffer], [String: ByteBuffer], UInt64) in
          var maps: [[String: ByteBuffer]] = []
          for _ in 0..<2 {
            let items = try inner.readArray(limit: 1 << 20, minimumElementSize: 8, "entries") {
              (try $0.readCephString(limit: 4096, "key"), try $0.readBlob(limit: 64 << 20, "value"))
            }
            maps.append(Dictionary(items, uniquingKeysWith: { _, last in last }))
          }
          return (maps[0], maps[1], try inner.readLE(UInt64.self, "data length"))
        }),
      parsed.2 == UInt64(b.readableBytes)
    else { return nil }
    xattrs = parsed.0
    omap = parsed.1
    data = b
  }
}

/// The peering core's reads of this OSD's store.
struct ObjectStorePGReader: PGStoreReader {
  let store: any ObjectStore
  let limits: PGDecodeLimits
  /// `osd_failsafe_full_ratio`: no client write takes the store past it.
  var failsafeRatio = 0.97

  /// The share of the store kept free even of replicated data: RocksDB's own writes and
  /// deletes need some room to free more.
  static let reserveShare = 0.01

  func hasRoom(for bytes: Int, _ purpose: StoreRoom) -> Bool {
    let space = store.space()
    guard space.total > 0 else { return true }  // nothing known of the device
    let adding = UInt64(max(0, bytes))
    switch purpose {
    case .clientWrite:
      return space.ratio(adding: adding) <= failsafeRatio
    case .replicated:
      let reserve = UInt64(Double(space.total) * Self.reserveShare)
      return space.available >= adding && space.available - adding >= reserve
    }
  }

  func storedPGs() -> [PGID] { (try? store.collections()) ?? [] }

  func load(_ pgid: PGID) -> StoredPG? {
    guard let values = try? store.omap(pgid, PGStore.metaObject, keys: []),
      var infoBytes = values[PGStore.infoKey],
      let info = try? PGInfo(from: &infoBytes, limits: limits)
    else { return nil }
    var log: [PGLogEntry] = []
    var missing = MissingSet()
    for (key, value) in values {
      var bytes = value
      if key.hasPrefix(PGStore.logPrefix) {
        guard let entry = try? PGLogEntry(from: &bytes, limits: limits) else { return nil }
        if entry.version > info.logTail { log.append(entry) }
      } else if key.hasPrefix(PGStore.missingPrefix) {
        guard let name = try? bytes.readCephString(limit: 4096, "name"),
          let namespace = try? bytes.readCephString(limit: 4096, "namespace"),
          let need = try? EVersion(from: &bytes)
        else { return nil }
        missing.add(ObjectID(name, namespace: namespace), need: need)
      }
    }
    log.sort { $0.version < $1.version }
    return StoredPG(info: info, log: log, missing: missing)
  }

  func objectVersion(_ pgid: PGID, _ object: ObjectID) -> EVersion? {
    do {
      var value = try store.xattr(pgid, object, PGStore.versionAttribute)
      return (try? EVersion(from: &value)) ?? .zero
    } catch .noSuchAttribute {
      return .zero  // written before versions were kept
    } catch {
      return nil
    }
  }

  func read(_ pgid: PGID, _ object: ObjectID) -> ObjectRead {
    do throws(StoreError) {
      let data = try store.read(pgid, object, offset: 0, length: nil)
      let xattrs = try store.xattrs(pgid, object)
      let omap = try store.omap(pgid, object, keys: [])
      var version = EVersion.zero
      if var raw = xattrs[PGStore.versionAttribute] {
        guard let decoded = try? EVersion(from: &raw) else { return .unreadable }
        version = decoded
      }
      let contents = ObjectContents(data: data, xattrs: xattrs, omap: omap)
      return .present(ObjectSnapshot(version: version, body: contents.encoded()))
    } catch .noSuchObject, .noSuchCollection {
      return .absent
    } catch {
      // A checksum or record that fails its checks (or the disk failing): never copied.
      return .unreadable
    }
  }

  func list(_ pgid: PGID, after cursor: ObjectID?, limit: Int) -> [ObjectID] {
    var result: [ObjectID] = []
    var from = cursor
    while result.count < limit {
      guard let batch = try? store.list(pgid, after: from, limit: limit), !batch.isEmpty else {
        break
      }
      result += batch.filter { !PGStore.isReserved($0) }
      from = batch.last
    }
    return Array(result.prefix(limit))
  }
}
