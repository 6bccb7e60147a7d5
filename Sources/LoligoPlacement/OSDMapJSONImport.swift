import Foundation

/// Reads the JSON that `osdmaptool MAP --dump json` (or `ceph osd dump -f json`) prints, so a
/// Ceph cluster's OSD map can be reproduced in Loligo. That dump has no CRUSH map; pass the one
/// from `crushtool -d` / `ceph osd getcrushmap`.
///
/// Used: epoch, fsid, flags_num, pool_max, max_osd, pools (id, name, type, size, min_size,
/// crush_rule, object_hash, pg_num, pg_placement_num, flags, last_change), per-OSD state,
/// weight, primary_affinity, up_from/up_thru/down_at and addresses, pg_temp, primary_temp,
/// pg_upmap and pg_upmap_items. Everything else is ignored.
extension OSDMap {
  public struct JSONImportError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "osdmap JSON: \(reason)" }
  }

  public static func fromCephJSON(_ data: Data, crush: CrushMap) throws(JSONImportError)
    -> OSDMap
  {
    let root: [String: Any]
    do {
      guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw JSONImportError(reason: "top level is not an object")
      }
      root = object
    } catch let error as JSONImportError {
      throw error
    } catch {
      throw JSONImportError(reason: "not valid JSON (\(error.localizedDescription))")
    }
    do {
      return try build(root, crush: crush)
    } catch let error as JSONImportError {
      throw error
    } catch {
      throw JSONImportError(reason: "\(error)")
    }
  }

  private static func integer(_ value: Any?, _ field: String) throws -> Int64 {
    if let number = value as? NSNumber {
      let double = number.doubleValue
      guard double.isFinite, double.rounded() == double, abs(double) < 9.0e18 else {
        throw JSONImportError(reason: "\(field) is not an integer")
      }
      return number.int64Value
    }
    if let text = value as? String, let parsed = Int64(text) { return parsed }
    throw JSONImportError(reason: "missing or non-numeric \(field)")
  }

  private static func fixedPoint(_ value: Any?, _ field: String) throws -> UInt32 {
    guard let number = value as? NSNumber, number.doubleValue.isFinite,
      number.doubleValue >= 0, number.doubleValue <= 65535
    else {
      throw JSONImportError(reason: "missing or invalid \(field)")
    }
    return UInt32((number.doubleValue * 65536).rounded())
  }

  private static func pgid(_ value: Any?, _ field: String) throws -> PGID {
    guard let text = value as? String, let pg = PGID(text) else {
      throw JSONImportError(reason: "invalid pgid in \(field)")
    }
    return pg
  }

  private static func osdList(_ value: Any?, _ field: String) throws -> [Int32] {
    guard let list = value as? [Any], list.count <= 1 << 16 else {
      throw JSONImportError(reason: "invalid OSD list in \(field)")
    }
    return try list.map { Int32(truncatingIfNeeded: try integer($0, field)) }
  }

  private static func build(_ root: [String: Any], crush: CrushMap) throws -> OSDMap {
    let fsid = (root["fsid"] as? String).flatMap(UUID.init(uuidString:)) ?? UUID()
    var map = OSDMap(fsid: fsid)
    let maxOSD = try integer(root["max_osd"], "max_osd")
    guard maxOSD >= 0, maxOSD <= Int64(OSDMap.maximumOSDs) else {
      throw JSONImportError(reason: "max_osd \(maxOSD) out of range")
    }
    try map.setMaxOSD(Int32(maxOSD))
    try map.setCrush(crush)
    map.epoch = UInt32(truncatingIfNeeded: try integer(root["epoch"], "epoch"))
    if root["flags_num"] != nil {
      map.flags = UInt32(truncatingIfNeeded: try integer(root["flags_num"], "flags_num"))
    }

    guard let pools = root["pools"] as? [[String: Any]] else {
      throw JSONImportError(reason: "missing pools")
    }
    for entry in pools {
      let id = try integer(entry["pool"], "pool")
      guard let name = entry["pool_name"] as? String else {
        throw JSONImportError(reason: "pool \(id) has no pool_name")
      }
      let typeValue = try integer(entry["type"], "pool type")
      guard let type = Pool.PoolType(rawValue: UInt8(truncatingIfNeeded: typeValue)) else {
        throw JSONImportError(reason: "pool \(id) has unknown type \(typeValue)")
      }
      let hashValue = try integer(entry["object_hash"], "object_hash")
      guard let hash = CephStringHash(rawValue: UInt8(truncatingIfNeeded: hashValue)) else {
        throw JSONImportError(reason: "pool \(id) has unknown object_hash \(hashValue)")
      }
      let pgNum = try integer(entry["pg_num"], "pg_num")
      let pgpNum = try integer(entry["pg_placement_num"] ?? entry["pgp_num"], "pg_placement_num")
      let size = try integer(entry["size"], "size")
      let minSize = try integer(entry["min_size"], "min_size")
      guard (1...255).contains(size), (0...255).contains(minSize),
        (1...Int64(UInt32.max)).contains(pgNum), (1...Int64(UInt32.max)).contains(pgpNum)
      else {
        throw JSONImportError(reason: "pool \(id) has out-of-range size or PG counts")
      }
      let pool = Pool(
        name: name, type: type, size: UInt8(size), minSize: UInt8(minSize),
        crushRule: Int32(truncatingIfNeeded: try integer(entry["crush_rule"], "crush_rule")),
        objectHash: hash, pgNum: UInt32(pgNum), pgpNum: UInt32(pgpNum),
        flags: Pool.Flags(rawValue: UInt64(bitPattern: try integer(entry["flags"], "flags"))),
        lastChange: UInt32(truncatingIfNeeded: (try? integer(entry["last_change"], "")) ?? 0))
      try map.addPool(pool, id: id)
    }
    if root["pool_max"] != nil {
      map.poolMax = max(map.poolMax, try integer(root["pool_max"], "pool_max"))
    }

    for entry in root["osds"] as? [[String: Any]] ?? [] {
      let osd = Int32(truncatingIfNeeded: try integer(entry["osd"], "osd"))
      var state: OSDState = []
      for name in entry["state"] as? [String] ?? [] {
        if let bit = OSDState(name: name) { state.insert(bit) }
      }
      state.insert(.exists)
      if let up = entry["up"] { if try integer(up, "up") != 0 { state.insert(.up) } }
      var value = OSDEntry(state: state, weight: try fixedPoint(entry["weight"], "weight"))
      if entry["primary_affinity"] != nil {
        value.primaryAffinity = try fixedPoint(entry["primary_affinity"], "primary_affinity")
      }
      value.upFrom = UInt32(truncatingIfNeeded: (try? integer(entry["up_from"], "")) ?? 0)
      value.upThru = UInt32(truncatingIfNeeded: (try? integer(entry["up_thru"], "")) ?? 0)
      value.downAt = UInt32(truncatingIfNeeded: (try? integer(entry["down_at"], "")) ?? 0)
      if let address = entry["public_addr"] as? String, !address.hasPrefix("(") {
        value.publicAddress = address
      }
      if let address = entry["cluster_addr"] as? String, !address.hasPrefix("(") {
        value.clusterAddress = address
      }
      try map.setEntry(osd, value)
    }

    for entry in root["pg_temp"] as? [[String: Any]] ?? [] {
      map.pgTemp[try pgid(entry["pgid"], "pg_temp")] = try osdList(entry["osds"], "pg_temp")
    }
    for entry in root["primary_temp"] as? [[String: Any]] ?? [] {
      map.primaryTemp[try pgid(entry["pgid"], "primary_temp")] = Int32(
        truncatingIfNeeded: try integer(entry["osd"], "primary_temp osd"))
    }
    for entry in root["pg_upmap"] as? [[String: Any]] ?? [] {
      map.pgUpmap[try pgid(entry["pgid"], "pg_upmap")] = try osdList(entry["osds"], "pg_upmap")
    }
    for entry in root["pg_upmap_items"] as? [[String: Any]] ?? [] {
      let pg = try pgid(entry["pgid"], "pg_upmap_items")
      var pairs: [OSDPair] = []
      for mapping in entry["mappings"] as? [[String: Any]] ?? [] {
        pairs.append(
          OSDPair(
            from: Int32(truncatingIfNeeded: try integer(mapping["from"], "from")),
            to: Int32(truncatingIfNeeded: try integer(mapping["to"], "to"))))
      }
      map.pgUpmapItems[pg] = pairs
    }
    return map
  }
}
