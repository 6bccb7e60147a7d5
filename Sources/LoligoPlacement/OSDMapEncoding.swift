import Foundation
import LoligoCore
import NIOCore

/// Versioned little-endian encodings of the OSD map and its incrementals (Ceph's conventions:
/// each struct is `u8 version, u8 compat, le32 length, body`, so later versions can append
/// fields). The CRUSH map inside is stored in Ceph's own binary CRUSH encoding.
///
/// Version 2 of the map and of the incremental appends the full, backfillfull and nearfull
/// ratios; version 1 encodings still decode (their ratios are unset).
///
/// Decoding is bounds-checked throughout: counts are limited and checked against the bytes
/// left before anything is allocated, enum values are validated, and every invariant the
/// mutators enforce (pool sanity, max_osd bounds, CRUSH devices below max_osd) is re-checked.
enum OSDMapCodec {
  static let mapVersion: UInt8 = 2
  static let incrementalVersion: UInt8 = 2
  static let poolVersion: UInt8 = 1
  static let entryVersion: UInt8 = 1
  /// Limit on any count in these structures.
  static let countLimit = 1 << 22

  static func write(_ uuid: UUID, to buffer: inout ByteBuffer) {
    _ = withUnsafeBytes(of: uuid.uuid) { buffer.writeBytes($0) }
  }

  static func readUUID(from buffer: inout ByteBuffer) throws -> UUID {
    let slice = try buffer.readSliceChecked(16, "fsid")
    let bytes = Array(slice.readableBytesView)
    return UUID(uuid: bytes.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) })
  }

  static func write(_ time: CephTime, to buffer: inout ByteBuffer) {
    buffer.writeLE(time.seconds)
    buffer.writeLE(time.nanoseconds)
  }

  static func readTime(from buffer: inout ByteBuffer, _ field: String) throws -> CephTime {
    CephTime(
      seconds: try buffer.readLE(UInt32.self, field),
      nanoseconds: try buffer.readLE(UInt32.self, field))
  }

  /// Like Ceph's `pg_t`: u8 version 1, le64 pool, le32 seed, le32 preferred (-1).
  static func write(_ pg: PGID, to buffer: inout ByteBuffer) {
    buffer.writeLE(UInt8(1))
    buffer.writeLE(UInt64(bitPattern: pg.pool))
    buffer.writeLE(pg.seed)
    buffer.writeLE(Int32(-1))
  }

  static func readPGID(from buffer: inout ByteBuffer) throws -> PGID {
    let version: UInt8 = try buffer.readLE(UInt8.self, "pg version")
    guard version == 1 else {
      throw DecodeError.invalid(field: "pg", reason: "version \(version)")
    }
    let pool = Int64(bitPattern: try buffer.readLE(UInt64.self, "pg pool"))
    let seed: UInt32 = try buffer.readLE(UInt32.self, "pg seed")
    _ = try buffer.readLE(Int32.self, "pg preferred")
    return PGID(pool: pool, seed: seed)
  }

  static let pgSize = 17

  static func write(_ osds: [Int32], to buffer: inout ByteBuffer) {
    buffer.writeLE(UInt32(osds.count))
    for osd in osds { buffer.writeLE(osd) }
  }

  static func readOSDs(from buffer: inout ByteBuffer, _ field: String) throws -> [Int32] {
    let count = try buffer.readCount(limit: 1 << 16, minimumElementSize: 4, field)
    var osds: [Int32] = []
    osds.reserveCapacity(count)
    for _ in 0..<count { osds.append(try buffer.readLE(Int32.self, field)) }
    return osds
  }

  static func write(_ pairs: [OSDMap.OSDPair], to buffer: inout ByteBuffer) {
    buffer.writeLE(UInt32(pairs.count))
    for pair in pairs {
      buffer.writeLE(pair.from)
      buffer.writeLE(pair.to)
    }
  }

  static func readPairs(from buffer: inout ByteBuffer) throws -> [OSDMap.OSDPair] {
    let count = try buffer.readCount(limit: 1 << 16, minimumElementSize: 8, "upmap items")
    var pairs: [OSDMap.OSDPair] = []
    for _ in 0..<count {
      pairs.append(
        OSDMap.OSDPair(
          from: try buffer.readLE(Int32.self, "upmap from"),
          to: try buffer.readLE(Int32.self, "upmap to")))
    }
    return pairs
  }

  static func write(_ pool: Pool, to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: poolVersion, compat: 1) { body in
      body.writeCephString(pool.name)
      body.writeLE(pool.type.rawValue)
      body.writeLE(pool.size)
      body.writeLE(pool.minSize)
      body.writeLE(pool.crushRule)
      body.writeLE(pool.objectHash.rawValue)
      body.writeLE(pool.pgNum)
      body.writeLE(pool.pgpNum)
      body.writeLE(pool.flags.rawValue)
      body.writeLE(pool.lastChange)
    }
  }

  static func readPool(from buffer: inout ByteBuffer) throws -> Pool {
    try buffer.readVersioned("pool", supported: poolVersion, limit: 1 << 16) { body, _ in
      let name = try body.readCephString(limit: 1024, "pool name")
      let typeValue: UInt8 = try body.readLE(UInt8.self, "pool type")
      guard let type = Pool.PoolType(rawValue: typeValue) else {
        throw DecodeError.invalid(field: "pool type", reason: "\(typeValue)")
      }
      let size: UInt8 = try body.readLE(UInt8.self, "pool size")
      let minSize: UInt8 = try body.readLE(UInt8.self, "pool min_size")
      let rule: Int32 = try body.readLE(Int32.self, "pool crush_rule")
      let hashValue: UInt8 = try body.readLE(UInt8.self, "pool object_hash")
      guard let hash = CephStringHash(rawValue: hashValue) else {
        throw DecodeError.invalid(field: "pool object_hash", reason: "\(hashValue)")
      }
      let pgNum: UInt32 = try body.readLE(UInt32.self, "pool pg_num")
      let pgpNum: UInt32 = try body.readLE(UInt32.self, "pool pgp_num")
      let flags: UInt64 = try body.readLE(UInt64.self, "pool flags")
      let lastChange: UInt32 = try body.readLE(UInt32.self, "pool last_change")
      let pool = Pool(
        name: name, type: type, size: size, minSize: minSize, crushRule: rule,
        objectHash: hash, pgNum: pgNum, pgpNum: pgpNum, flags: Pool.Flags(rawValue: flags),
        lastChange: lastChange)
      do throws(OSDMap.MapError) {
        try OSDMap.validate(pool)
      } catch {
        throw DecodeError.invalid(field: "pool '\(name)'", reason: error.description)
      }
      return pool
    }
  }

  static func write(_ entry: OSDEntry, to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: entryVersion, compat: 1) { body in
      body.writeLE(entry.state.rawValue)
      body.writeLE(entry.weight)
      body.writeLE(entry.primaryAffinity)
      body.writeLE(entry.upFrom)
      body.writeLE(entry.upThru)
      body.writeLE(entry.downAt)
      body.writeCephString(entry.publicAddress)
      body.writeCephString(entry.clusterAddress)
    }
  }

  static func readEntry(from buffer: inout ByteBuffer) throws -> OSDEntry {
    try buffer.readVersioned("osd", supported: entryVersion, limit: 1 << 16) { body, _ in
      OSDEntry(
        state: OSDState(rawValue: try body.readLE(UInt32.self, "osd state")),
        weight: try body.readLE(UInt32.self, "osd weight"),
        primaryAffinity: try body.readLE(UInt32.self, "osd primary affinity"),
        upFrom: try body.readLE(UInt32.self, "osd up_from"),
        upThru: try body.readLE(UInt32.self, "osd up_thru"),
        downAt: try body.readLE(UInt32.self, "osd down_at")
      )
      .withAddresses(
        public: try body.readCephString(limit: 4096, "osd public address"),
        cluster: try body.readCephString(limit: 4096, "osd cluster address"))
    }
  }

  /// A ratio as its IEEE bits; one from a peer must be a number in 0...1.
  static func write(ratio: Double, to buffer: inout ByteBuffer) {
    buffer.writeLE(ratio.bitPattern)
  }

  static func readRatio(from buffer: inout ByteBuffer, _ field: String) throws -> Double {
    let ratio = Double(bitPattern: try buffer.readLE(UInt64.self, field))
    guard ratio.isFinite, (0...1).contains(ratio) else {
      throw DecodeError.invalid(field: field, reason: "\(ratio) is not in 0...1")
    }
    return ratio
  }

  static func write(_ crush: CrushMap, to buffer: inout ByteBuffer) {
    var encoded = ByteBufferAllocator().buffer(capacity: 1024)
    CrushBinaryCodec.encode(crush, to: &encoded)
    buffer.writeBlob(encoded)
  }

  static func readCrush(from buffer: inout ByteBuffer) throws -> CrushMap {
    var blob = try buffer.readBlob(limit: CrushMapFile.maximumFileSize, "crush map")
    let map = try CrushBinaryCodec.decode(from: &blob)
    guard blob.readableBytes == 0 else {
      throw DecodeError.invalid(field: "crush map", reason: "trailing bytes")
    }
    return map
  }
}

extension OSDEntry {
  fileprivate func withAddresses(public publicAddress: String, cluster: String) -> OSDEntry {
    var copy = self
    copy.publicAddress = publicAddress
    copy.clusterAddress = cluster
    return copy
  }
}

extension OSDMap: CephCodable {
  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: OSDMapCodec.mapVersion, compat: 1) { body in
      OSDMapCodec.write(fsid, to: &body)
      body.writeLE(epoch)
      OSDMapCodec.write(created, to: &body)
      OSDMapCodec.write(modified, to: &body)
      body.writeLE(flags)
      body.writeLE(poolMax)
      body.writeLE(UInt32(pools.count))
      for id in pools.keys.sorted() {
        body.writeLE(id)
        OSDMapCodec.write(pools[id]!, to: &body)
      }
      body.writeLE(UInt32(osds.count))
      for entry in osds { OSDMapCodec.write(entry, to: &body) }
      body.writeLE(UInt32(pgTemp.count))
      for pg in pgTemp.keys.sorted() {
        OSDMapCodec.write(pg, to: &body)
        OSDMapCodec.write(pgTemp[pg]!, to: &body)
      }
      body.writeLE(UInt32(primaryTemp.count))
      for pg in primaryTemp.keys.sorted() {
        OSDMapCodec.write(pg, to: &body)
        body.writeLE(primaryTemp[pg]!)
      }
      body.writeLE(UInt32(pgUpmap.count))
      for pg in pgUpmap.keys.sorted() {
        OSDMapCodec.write(pg, to: &body)
        OSDMapCodec.write(pgUpmap[pg]!, to: &body)
      }
      body.writeLE(UInt32(pgUpmapItems.count))
      for pg in pgUpmapItems.keys.sorted() {
        OSDMapCodec.write(pg, to: &body)
        OSDMapCodec.write(pgUpmapItems[pg]!, to: &body)
      }
      OSDMapCodec.write(crush, to: &body)
      // Version 2.
      for ratio in [fullRatio, backfillfullRatio, nearfullRatio] {
        OSDMapCodec.write(ratio: ratio, to: &body)
      }
    }
  }

  public init(from buffer: inout ByteBuffer) throws {
    self = try buffer.readVersioned("osdmap", supported: OSDMapCodec.mapVersion) {
      body, version in
      let fsid = try OSDMapCodec.readUUID(from: &body)
      var map = OSDMap(fsid: fsid)
      map.epoch = try body.readLE(UInt32.self, "epoch")
      map.created = try OSDMapCodec.readTime(from: &body, "created")
      map.modified = try OSDMapCodec.readTime(from: &body, "modified")
      map.flags = try body.readLE(UInt32.self, "flags")
      let poolMax: Int64 = try body.readLE(Int64.self, "pool_max")
      let poolCount = try body.readCount(
        limit: OSDMapCodec.countLimit, minimumElementSize: 14, "pools")
      for _ in 0..<poolCount {
        let id: Int64 = try body.readLE(Int64.self, "pool id")
        let pool = try OSDMapCodec.readPool(from: &body)
        guard id >= 0, map.pools[id] == nil else {
          throw DecodeError.invalid(field: "pool id", reason: "\(id) repeated or negative")
        }
        try map.setPool(pool, id: id)
      }
      map.poolMax = max(poolMax, map.poolMax)
      let osdCount = try body.readCount(
        limit: Int(OSDMap.maximumOSDs), minimumElementSize: 6, "osds")
      try map.setMaxOSD(Int32(osdCount))
      for osd in 0..<osdCount {
        try map.setEntry(Int32(osd), try OSDMapCodec.readEntry(from: &body))
      }
      let tempCount = try body.readCount(
        limit: OSDMapCodec.countLimit, minimumElementSize: OSDMapCodec.pgSize + 4, "pg_temp")
      for _ in 0..<tempCount {
        let pg = try OSDMapCodec.readPGID(from: &body)
        map.pgTemp[pg] = try OSDMapCodec.readOSDs(from: &body, "pg_temp osds")
      }
      let primaryCount = try body.readCount(
        limit: OSDMapCodec.countLimit, minimumElementSize: OSDMapCodec.pgSize + 4,
        "primary_temp")
      for _ in 0..<primaryCount {
        let pg = try OSDMapCodec.readPGID(from: &body)
        map.primaryTemp[pg] = try body.readLE(Int32.self, "primary_temp osd")
      }
      let upmapCount = try body.readCount(
        limit: OSDMapCodec.countLimit, minimumElementSize: OSDMapCodec.pgSize + 4, "pg_upmap")
      for _ in 0..<upmapCount {
        let pg = try OSDMapCodec.readPGID(from: &body)
        map.pgUpmap[pg] = try OSDMapCodec.readOSDs(from: &body, "pg_upmap osds")
      }
      let itemsCount = try body.readCount(
        limit: OSDMapCodec.countLimit, minimumElementSize: OSDMapCodec.pgSize + 4,
        "pg_upmap_items")
      for _ in 0..<itemsCount {
        let pg = try OSDMapCodec.readPGID(from: &body)
        map.pgUpmapItems[pg] = try OSDMapCodec.readPairs(from: &body)
      }
      try map.setCrush(try OSDMapCodec.readCrush(from: &body))
      if version >= 2 {
        map.fullRatio = try OSDMapCodec.readRatio(from: &body, "full_ratio")
        map.backfillfullRatio = try OSDMapCodec.readRatio(from: &body, "backfillfull_ratio")
        map.nearfullRatio = try OSDMapCodec.readRatio(from: &body, "nearfull_ratio")
      }
      return map
    }
  }
}

extension OSDMapIncremental: CephCodable {
  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: OSDMapCodec.incrementalVersion, compat: 1) { body in
      OSDMapCodec.write(fsid, to: &body)
      body.writeLE(epoch)
      OSDMapCodec.write(modified, to: &body)
      body.writeBool(newFlags != nil)
      body.writeLE(newFlags ?? 0)
      body.writeBool(newMaxOSD != nil)
      body.writeLE(newMaxOSD ?? 0)
      body.writeBool(newPoolMax != nil)
      body.writeLE(newPoolMax ?? 0)
      body.writeLE(UInt32(newPools.count))
      for id in newPools.keys.sorted() {
        body.writeLE(id)
        OSDMapCodec.write(newPools[id]!, to: &body)
      }
      body.writeLE(UInt32(oldPools.count))
      for id in oldPools.sorted() { body.writeLE(id) }
      body.writeLE(UInt32(newUp.count))
      for osd in newUp.keys.sorted() {
        body.writeLE(osd)
        body.writeCephString(newUp[osd]!.publicAddress)
        body.writeCephString(newUp[osd]!.clusterAddress)
      }
      for table in [newState.mapValues(\.rawValue), newWeight, newPrimaryAffinity, newUpThru] {
        body.writeLE(UInt32(table.count))
        for osd in table.keys.sorted() {
          body.writeLE(osd)
          body.writeLE(table[osd]!)
        }
      }
      body.writeLE(UInt32(newPGTemp.count))
      for pg in newPGTemp.keys.sorted() {
        OSDMapCodec.write(pg, to: &body)
        OSDMapCodec.write(newPGTemp[pg]!, to: &body)
      }
      body.writeLE(UInt32(newPrimaryTemp.count))
      for pg in newPrimaryTemp.keys.sorted() {
        OSDMapCodec.write(pg, to: &body)
        body.writeLE(newPrimaryTemp[pg]!)
      }
      body.writeLE(UInt32(newPGUpmap.count))
      for pg in newPGUpmap.keys.sorted() {
        OSDMapCodec.write(pg, to: &body)
        OSDMapCodec.write(newPGUpmap[pg]!, to: &body)
      }
      body.writeLE(UInt32(oldPGUpmap.count))
      for pg in oldPGUpmap.sorted() { OSDMapCodec.write(pg, to: &body) }
      body.writeLE(UInt32(newPGUpmapItems.count))
      for pg in newPGUpmapItems.keys.sorted() {
        OSDMapCodec.write(pg, to: &body)
        OSDMapCodec.write(newPGUpmapItems[pg]!, to: &body)
      }
      body.writeLE(UInt32(oldPGUpmapItems.count))
      for pg in oldPGUpmapItems.sorted() { OSDMapCodec.write(pg, to: &body) }
      body.writeBool(crush != nil)
      if let crush { OSDMapCodec.write(crush, to: &body) }
      // Version 2.
      for ratio in [newFullRatio, newBackfillfullRatio, newNearfullRatio] {
        body.writeBool(ratio != nil)
        OSDMapCodec.write(ratio: ratio ?? 0, to: &body)
      }
    }
  }

  public init(from buffer: inout ByteBuffer) throws {
    self = try buffer.readVersioned(
      "osdmap incremental", supported: OSDMapCodec.incrementalVersion
    ) { body, version in
      let fsid = try OSDMapCodec.readUUID(from: &body)
      let epoch: UInt32 = try body.readLE(UInt32.self, "epoch")
      var incremental = OSDMapIncremental(
        fsid: fsid, epoch: epoch, modified: try OSDMapCodec.readTime(from: &body, "modified"))
      let hasFlags = try body.readBool("has new_flags")
      let flags: UInt32 = try body.readLE(UInt32.self, "new_flags")
      if hasFlags { incremental.newFlags = flags }
      let hasMaxOSD = try body.readBool("has new_max_osd")
      let maxOSD: Int32 = try body.readLE(Int32.self, "new_max_osd")
      if hasMaxOSD { incremental.newMaxOSD = maxOSD }
      let hasPoolMax = try body.readBool("has new_pool_max")
      let poolMax: Int64 = try body.readLE(Int64.self, "new_pool_max")
      if hasPoolMax { incremental.newPoolMax = poolMax }
      let limit = OSDMapCodec.countLimit
      for _ in 0..<(try body.readCount(limit: limit, minimumElementSize: 14, "new_pools")) {
        let id: Int64 = try body.readLE(Int64.self, "pool id")
        incremental.newPools[id] = try OSDMapCodec.readPool(from: &body)
      }
      for _ in 0..<(try body.readCount(limit: limit, minimumElementSize: 8, "old_pools")) {
        incremental.oldPools.insert(try body.readLE(Int64.self, "old pool"))
      }
      for _ in 0..<(try body.readCount(limit: limit, minimumElementSize: 12, "new_up")) {
        let osd: Int32 = try body.readLE(Int32.self, "new_up osd")
        incremental.newUp[osd] = OSDMapIncremental.OSDAddresses(
          publicAddress: try body.readCephString(limit: 4096, "public address"),
          clusterAddress: try body.readCephString(limit: 4096, "cluster address"))
      }
      var tables: [[Int32: UInt32]] = []
      for name in ["new_state", "new_weight", "new_primary_affinity", "new_up_thru"] {
        var table: [Int32: UInt32] = [:]
        for _ in 0..<(try body.readCount(limit: limit, minimumElementSize: 8, name)) {
          let osd: Int32 = try body.readLE(Int32.self, name)
          table[osd] = try body.readLE(UInt32.self, name)
        }
        tables.append(table)
      }
      incremental.newState = tables[0].mapValues { OSDState(rawValue: $0) }
      incremental.newWeight = tables[1]
      incremental.newPrimaryAffinity = tables[2]
      incremental.newUpThru = tables[3]
      let pgEntry = OSDMapCodec.pgSize + 4
      for _ in 0..<(try body.readCount(limit: limit, minimumElementSize: pgEntry, "new_pg_temp")) {
        let pg = try OSDMapCodec.readPGID(from: &body)
        incremental.newPGTemp[pg] = try OSDMapCodec.readOSDs(from: &body, "pg_temp osds")
      }
      for _
        in 0..<(try body.readCount(
          limit: limit, minimumElementSize: pgEntry, "new_primary_temp"))
      {
        let pg = try OSDMapCodec.readPGID(from: &body)
        incremental.newPrimaryTemp[pg] = try body.readLE(Int32.self, "primary_temp osd")
      }
      for _ in 0..<(try body.readCount(limit: limit, minimumElementSize: pgEntry, "new_pg_upmap")) {
        let pg = try OSDMapCodec.readPGID(from: &body)
        incremental.newPGUpmap[pg] = try OSDMapCodec.readOSDs(from: &body, "pg_upmap osds")
      }
      for _
        in 0..<(try body.readCount(
          limit: limit, minimumElementSize: OSDMapCodec.pgSize, "old_pg_upmap"))
      {
        incremental.oldPGUpmap.insert(try OSDMapCodec.readPGID(from: &body))
      }
      for _
        in 0..<(try body.readCount(
          limit: limit, minimumElementSize: pgEntry, "new_pg_upmap_items"))
      {
        let pg = try OSDMapCodec.readPGID(from: &body)
        incremental.newPGUpmapItems[pg] = try OSDMapCodec.readPairs(from: &body)
      }
      for _
        in 0..<(try body.readCount(
          limit: limit, minimumElementSize: OSDMapCodec.pgSize, "old_pg_upmap_items"))
      {
        incremental.oldPGUpmapItems.insert(try OSDMapCodec.readPGID(from: &body))
      }
      if try body.readBool("has crush") {
        incremental.crush = try OSDMapCodec.readCrush(from: &body)
      }
      if version >= 2 {
        var ratios: [Double?] = []
        for name in ["new_full_ratio", "new_backfillfull_ratio", "new_nearfull_ratio"] {
          let present = try body.readBool("has " + name)
          let ratio = try OSDMapCodec.readRatio(from: &body, name)
          ratios.append(present ? ratio : nil)
        }
        incremental.newFullRatio = ratios[0]
        incremental.newBackfillfullRatio = ratios[1]
        incremental.newNearfullRatio = ratios[2]
      }
      return incremental
    }
  }
}

extension OSDMapIncremental {
  /// The versioned encoding as bytes.
  public func encodedBytes() -> [UInt8] { Array(encoded().readableBytesView) }

  /// Decodes an incremental that fills `bytes` exactly.
  public init(decoding bytes: [UInt8]) throws {
    var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
    buffer.writeBytes(bytes)
    self = try OSDMapIncremental(from: &buffer)
    guard buffer.readableBytes == 0 else {
      throw DecodeError.invalid(field: "osdmap incremental", reason: "trailing bytes")
    }
  }
}
