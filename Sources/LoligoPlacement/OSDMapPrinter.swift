import Foundation

/// Text renderings of OSD maps and PG mappings in the formats of `osdmaptool`
/// (`--print`, `--test-map-object`, `--test-map-pg`, `--test-map-pgs-dump[-all]`), so outputs
/// can be compared with Ceph's line for line.
public enum OSDMapPrinter {
  /// `[1,4,6]`.
  public static func list(_ osds: [Int32]) -> String { CrushTester.render(osds) }

  /// ` object 'NAME' -> 1.16 -> [1,4,6]` (acting set), as `--test-map-object` prints it.
  public static func objectLine(name: String, mapping: PGMapping) -> String {
    " object '\(name)' -> \(mapping.pgid) -> \(list(mapping.acting))"
  }

  /// `1.2a raw ([5,1,9], p5) up ([5,1,9], p5) acting ([5,1,9], p5)`.
  public static func fullLine(_ mapping: PGMapping) -> String {
    let rawPrimary = OSDMap.firstOSD(mapping.raw)
    return "\(mapping.pgid) raw (\(list(mapping.raw)), p\(rawPrimary)) up (\(list(mapping.up)), "
      + "p\(mapping.upPrimary)) acting (\(list(mapping.acting)), p\(mapping.actingPrimary))"
  }

  /// `1.2a<TAB>[5,1,9]<TAB>5` (acting set and primary), as `--test-map-pgs-dump` prints it.
  public static func dumpLine(_ mapping: PGMapping) -> String {
    "\(mapping.pgid)\t\(list(mapping.acting))\t\(mapping.actingPrimary)"
  }

  /// The summary `--test-map-pgs*` prints after the PGs: per-OSD counts, spread, sizes.
  public static func summary(of mappings: [PGMapping], map: OSDMap) -> [String] {
    let count = Int(map.maxOSD)
    var total = [Int](repeating: 0, count: count)
    var first = [Int](repeating: 0, count: count)
    var primary = [Int](repeating: 0, count: count)
    var sizes: [Int: Int] = [:]
    for mapping in mappings {
      sizes[mapping.acting.count, default: 0] += 1
      for osd in mapping.acting where osd != CrushMapper.itemNone && osd >= 0 && Int(osd) < count {
        total[Int(osd)] += 1
      }
      if let head = mapping.acting.first, head != CrushMapper.itemNone, head >= 0, Int(head) < count
      {
        first[Int(head)] += 1
      }
      if mapping.actingPrimary >= 0 && Int(mapping.actingPrimary) < count {
        primary[Int(mapping.actingPrimary)] += 1
      }
    }
    var lines = ["#osd\tcount\tfirst\tprimary\tc wt\twt"]
    var inCount = 0
    var sum = 0
    var lowest: Int? = nil
    var highest: Int? = nil
    var counted: [Int] = []
    for osd in 0..<count {
      guard map.isIn(Int32(osd)), let crushWeight = map.crush.itemWeight(Int32(osd)),
        crushWeight > 0
      else { continue }
      inCount += 1
      counted.append(osd)
      let weight = Float(map.osds[osd].weight) / 65536
      lines.append(
        "osd.\(osd)\t\(total[osd])\t\(first[osd])\t\(primary[osd])\t"
          + "\(format(Float(crushWeight) / 65536))\t\(format(weight))")
      sum += total[osd]
      if total[osd] > 0 && (lowest == nil || total[osd] < total[lowest!]) { lowest = osd }
      if total[osd] > 0 && (highest == nil || total[osd] > total[highest!]) { highest = osd }
    }
    let average = inCount > 0 ? sum / inCount : 0
    var deviation = 0.0
    for osd in counted {
      // Ceph computes (avg - count)^2 in unsigned 64-bit arithmetic, wrapping for counts above
      // the average; the squares of the wrapped values come out the same modulo 2^64.
      let difference = UInt64(bitPattern: Int64(average) &- Int64(total[osd]))
      deviation += Double(difference &* difference)
    }
    deviation = (deviation / Double(inCount)).squareRoot()
    let expected = (Double(sum) / Double(inCount) * (1.0 - 1.0 / Double(inCount))).squareRoot()
    lines.append(" in \(inCount)")
    lines.append(
      " avg \(average) stddev \(format(deviation)) (\(format(deviation / Double(average)))x) "
        + "(expected \(format(expected)) \(format(expected / Double(average)))x))")
    if let lowest { lines.append(" min osd.\(lowest) \(total[lowest])") }
    if let highest { lines.append(" max osd.\(highest) \(total[highest])") }
    for size in sizes.keys.sorted() where sizes[size]! > 0 {
      lines.append("size \(size)\t\(sizes[size]!)")
    }
    return lines
  }

  static func format(_ value: Float) -> String { CNumberFormat.general(Double(value)) }
  static func format(_ value: Double) -> String { CNumberFormat.general(value) }

  /// A summary of the map in the spirit of `osdmaptool --print`.
  public static func describe(_ map: OSDMap) -> [String] {
    var lines = [
      "epoch \(map.epoch)",
      "fsid \(map.fsid.uuidString.lowercased())",
      "flags \(map.flags)",
      "",
    ]
    for id in map.pools.keys.sorted() {
      let pool = map.pools[id]!
      let type = pool.type == .replicated ? "replicated" : "erasure"
      var line =
        "pool \(id) '\(pool.name)' \(type) size \(pool.size) min_size \(pool.minSize) "
        + "crush_rule \(pool.crushRule) object_hash \(pool.objectHash.name) "
        + "pg_num \(pool.pgNum) pgp_num \(pool.pgpNum) last_change \(pool.lastChange)"
      if !pool.flags.names.isEmpty { line += " flags " + pool.flags.names.joined(separator: ",") }
      lines.append(line)
    }
    lines.append("")
    lines.append("max_osd \(map.maxOSD)")
    for osd in 0..<map.maxOSD {
      let entry = map.osds[Int(osd)]
      guard entry.exists else { continue }
      var line = "osd.\(osd) \(entry.isUp ? "up  " : "down") \(entry.isIn ? "in " : "out")"
      line += " weight \(format(Float(entry.weight) / 65536))"
      if entry.primaryAffinity != OSDMap.defaultAffinity {
        line += " primary_affinity \(format(Float(entry.primaryAffinity) / 65536))"
      }
      line += " up_from \(entry.upFrom) up_thru \(entry.upThru) down_at \(entry.downAt)"
      if !entry.publicAddress.isEmpty { line += " \(entry.publicAddress)" }
      if !entry.clusterAddress.isEmpty { line += " \(entry.clusterAddress)" }
      line += " " + entry.state.names.joined(separator: ",")
      lines.append(line)
    }
    for pg in map.pgTemp.keys.sorted() { lines.append("pg_temp \(pg) \(list(map.pgTemp[pg]!))") }
    for pg in map.primaryTemp.keys.sorted() {
      lines.append("primary_temp \(pg) \(map.primaryTemp[pg]!)")
    }
    for pg in map.pgUpmap.keys.sorted() { lines.append("pg_upmap \(pg) \(list(map.pgUpmap[pg]!))") }
    for pg in map.pgUpmapItems.keys.sorted() {
      let pairs = map.pgUpmapItems[pg]!.map { "\($0.from)->\($0.to)" }.joined(separator: ",")
      lines.append("pg_upmap_items \(pg) [\(pairs)]")
    }
    return lines
  }
}
