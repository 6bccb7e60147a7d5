/// Writes a `CrushMap` as the text `crushtool -d` prints, byte for byte for the maps Ceph itself
/// produces: tunables that differ from the legacy values, named devices, types, buckets in
/// Ceph's depth-first order (children before parents, starting from bucket -1), rules and weight
/// sets. Shadow (per-class) buckets are not written; their ids appear as `id -N class C` lines
/// in the bucket they shadow, which is enough to rebuild them.
public enum CrushTextWriter {
  public enum WriteError: Error, Equatable, Sendable {
    /// The bucket graph has a cycle (only possible in a decoded binary map).
    case cycle(bucket: Int32)
  }

  public static func text(of map: CrushMap) throws(WriteError) -> String {
    var out = "# begin crush map\n"
    let tunables = map.tunables
    let legacy = CrushTunables.legacy
    for name in CrushTunables.names {
      let value = tunables.value(named: name)!
      if value != legacy.value(named: name)! { out += "tunable \(name) \(value)\n" }
    }

    out += "\n# devices\n"
    for id in map.namedDevices where id < map.maxDevices {
      out += "device \(id) \(map.itemNames[id]!)"
      if let classID = map.itemClasses[id], let className = map.classNames[classID] {
        out += " class \(className)"
      }
      out += "\n"
    }

    out += "\n# types\n"
    if map.typeNames[0] == nil { out += "type 0 osd\n" }
    for id in map.typeNames.keys.sorted() where id >= 0 {
      out += "type \(id) \(map.typeNames[id]!)\n"
    }

    out += "\n# buckets\n"
    var states: [Int32: Bool] = [:]  // false: in progress, true: written
    for index in 0..<map.maxBuckets {
      try writeBucket(Int32(-1 - index), map: map, states: &states, out: &out)
    }

    out += "\n# rules\n"
    for id in 0..<map.maxRules {
      guard let rule = map.rules[id] else { continue }
      out += "rule "
      if let name = rule.name { out += name }
      out += " {\n\tid \(id)\n"
      switch rule.type {
      case CrushRule.typeReplicated: out += "\ttype replicated\n"
      case CrushRule.typeErasure: out += "\ttype erasure\n"
      default: out += "\ttype \(rule.type)\n"
      }
      out += "\tmin_size \(rule.minSize)\n\tmax_size \(rule.maxSize)\n"
      for step in rule.steps { out += stepText(step, map: map) }
      out += "}\n"
    }

    if !map.chooseArgs.isEmpty {
      out += "\n# choose_args\n"
      // Ceph keys weight sets by a signed 64-bit index (so -1 comes first) but prints the
      // index unsigned.
      for index in map.chooseArgs.keys.sorted() {
        out += "choose_args \(UInt64(bitPattern: index)) {\n"
        let args = map.chooseArgs[index]!
        for bucketID in args.keys.sorted(by: >) {
          let arg = args[bucketID]!
          if arg.isEmpty { continue }
          out += "  {\n    bucket_id \(bucketID)\n"
          if !arg.weightSet.isEmpty {
            out += "    weight_set [\n"
            for weights in arg.weightSet {
              out += "      [ " + weights.map { FixedPoint.text(of: $0) + " " }.joined() + "]\n"
            }
            out += "    ]\n"
          }
          if !arg.ids.isEmpty {
            out += "    ids [ " + arg.ids.map { "\($0) " }.joined() + "]\n"
          }
          out += "  }\n"
        }
        out += "}\n"
      }
    }
    out += "\n# end crush map\n"
    return out
  }

  private static func typeName(_ type: Int32, map: CrushMap) -> String {
    if let name = map.typeNames[type] { return name }
    return type == 0 ? "device" : "type\(type)"
  }

  private static func itemName(_ item: Int32, map: CrushMap) -> String {
    if let name = map.itemNames[item] { return name }
    return item >= 0 ? "device\(item)" : "bucket\(-1 - Int64(item))"
  }

  /// Depth-first: every child bucket is written before its parent. Iterative so a deep or
  /// hostile hierarchy cannot exhaust the stack.
  private static func writeBucket(
    _ start: Int32, map: CrushMap, states: inout [Int32: Bool], out: inout String
  ) throws(WriteError) {
    guard map.bucket(start) != nil, states[start] == nil else { return }
    var stack: [(id: Int32, next: Int)] = [(start, 0)]
    states[start] = false
    while let top = stack.last {
      let bucket = map.bucket(top.id)!
      if top.next < bucket.size {
        stack[stack.count - 1].next += 1
        let child = bucket.items[top.next]
        guard child < 0, map.bucket(child) != nil else { continue }
        switch states[child] {
        case nil:
          states[child] = false
          stack.append((child, 0))
        case false?:
          throw .cycle(bucket: top.id)
        case true?:
          continue
        }
      } else {
        stack.removeLast()
        states[top.id] = true
        if !map.isShadow(top.id) { out += bucketText(bucket, map: map) }
      }
    }
  }

  private static func bucketText(_ bucket: CrushBucket, map: CrushMap) -> String {
    var out = typeName(Int32(bucket.typeID), map: map) + " " + itemName(bucket.id, map: map)
    out += " {\n\tid \(bucket.id)\t\t# do not change unnecessarily\n"
    if let shadows = map.classBuckets[bucket.id] {
      for classID in shadows.keys.sorted() {
        let className = map.classNames[classID] ?? "class\(classID)"
        out += "\tid \(shadows[classID]!) class \(className)\t\t# do not change unnecessarily\n"
      }
    }
    out += "\t# weight \(FixedPoint.text(of: bucket.weight))\n"
    out += "\talg \(bucket.algorithm)"
    var withPositions = false
    switch bucket.algorithm {
    case .uniform:
      out += "\t# do not change bucket size (\(bucket.size)) unnecessarily"
      withPositions = true
    case .list:
      out += "\t# add new items at the end; do not change order unnecessarily"
    case .tree:
      out += "\t# do not change pos for existing items unnecessarily"
      withPositions = true
    case .straw, .straw2:
      break
    }
    out += "\n"
    let hashName = bucket.hash == CrushHash.rjenkins1 ? "rjenkins1" : "unknown"
    out += "\thash \(bucket.hash)\t# \(hashName)\n"
    for position in 0..<bucket.size {
      out += "\titem " + itemName(bucket.items[position], map: map)
      out += " weight " + FixedPoint.text(of: bucket.weight(at: position))
      if withPositions { out += " pos \(position)" }
      out += "\n"
    }
    out += "}\n"
    return out
  }

  private static func stepText(_ step: CrushRuleStep, map: CrushMap) -> String {
    switch step.op {
    case .noop:
      return "\tstep noop\n"
    case .take:
      if let (original, classID) = map.originalAndClass(of: step.arg1) {
        let className = map.classNames[classID] ?? "class\(classID)"
        return "\tstep take \(itemName(original, map: map)) class \(className)\n"
      }
      return "\tstep take \(itemName(step.arg1, map: map))\n"
    case .emit:
      return "\tstep emit\n"
    case .setChooseTries:
      return "\tstep set_choose_tries \(step.arg1)\n"
    case .setChooseLocalTries:
      return "\tstep set_choose_local_tries \(step.arg1)\n"
    case .setChooseLocalFallbackTries:
      return "\tstep set_choose_local_fallback_tries \(step.arg1)\n"
    case .setChooseleafTries:
      return "\tstep set_chooseleaf_tries \(step.arg1)\n"
    case .setChooseleafVaryR:
      return "\tstep set_chooseleaf_vary_r \(step.arg1)\n"
    case .setChooseleafStable:
      return "\tstep set_chooseleaf_stable \(step.arg1)\n"
    case .chooseFirstN:
      return "\tstep choose firstn \(step.arg1) type \(typeName(step.arg2, map: map))\n"
    case .chooseIndep:
      return "\tstep choose indep \(step.arg1) type \(typeName(step.arg2, map: map))\n"
    case .chooseleafFirstN:
      return "\tstep chooseleaf firstn \(step.arg1) type \(typeName(step.arg2, map: map))\n"
    case .chooseleafIndep:
      return "\tstep chooseleaf indep \(step.arg1) type \(typeName(step.arg2, map: map))\n"
    }
  }
}
