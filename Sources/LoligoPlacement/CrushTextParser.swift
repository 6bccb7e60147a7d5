/// Compiles CRUSH map text (the `crushtool -d` form) into a `CrushMap` the way `crushtool -c`
/// does, so a text map means the same placements in Loligo and in Ceph:
///
/// - the map starts from *legacy* tunables; `tunable` lines override them;
/// - an item line without `weight` uses the child bucket's total (devices: 1.0); a written
///   weight becomes `(unsigned)(strtof(w) * 65536.0f)`;
/// - buckets without `id` take the lowest id not used by any bucket (ids written on any
///   bucket's first line are reserved first);
/// - buckets are reordered with Ceph's pairwise swap so children usually precede parents; a
///   child still undefined after that, a cycle, or a bucket containing itself is an error;
/// - per-class shadow trees are built just before the first rule, with the ids the text
///   records (`id -N class C`).
///
/// Every error carries the line it was found on. Input is untrusted: numbers are range
/// checked, ids and sizes are bounded, and nothing recurses on attacker-controlled depth.
public enum CrushTextParser {
  public static func parse(_ text: String) throws(CrushTextError) -> CrushMap {
    var reader = CrushTextReader(text)
    let statements = try reader.statements()
    var compiler = CrushTextCompiler()
    return try compiler.compile(try CrushTextCompiler.reorderBuckets(statements))
  }
}

struct CrushTextCompiler {
  typealias Syntax = CrushTextSyntax

  private var map = CrushMap(tunables: .legacy)
  /// `item_id`: every device and bucket name seen so far.
  private var itemIDs: [String: Int32] = [:]
  /// `id_item`: ids taken (including ids reserved by buckets' first lines).
  private var takenIDs: Set<Int32> = []
  /// Totals of compiled buckets: the default weight when a bucket is used as an item.
  private var bucketTotals: [Int32: UInt32] = [:]
  private var typeIDs: [String: Int32] = [:]
  private var ruleIDs: [String: Int] = [:]
  /// Shadow ids written in the text: bucket id -> class id -> shadow id.
  private var requestedShadowIDs: [Int32: [Int32: Int32]] = [:]
  private var sawRule = false

  private static let maximumDeviceWeight: UInt32 = 100 * 0x10000
  private static let maximumBucketWeight: UInt32 = 65535 * 0x10000

  /// Ceph's `adjust_bucket_item_place`: for every pair (i, j) with i before j, if bucket i
  /// lists bucket j as an item the two statement slots are swapped. The slots are tracked by
  /// original position, exactly like Ceph's iterator swap, so the resulting order (which
  /// decides automatic ids and default weights) matches.
  static func reorderBuckets(_ statements: [Syntax.Statement]) throws(CrushTextError)
    -> [Syntax.Statement]
  {
    var bucketPositions: [Int] = []
    var buckets: [Syntax.Bucket] = []
    for (index, statement) in statements.enumerated() {
      if case .bucket(let bucket) = statement {
        bucketPositions.append(index)
        buckets.append(bucket)
      }
    }
    guard buckets.count > 1 else { return statements }
    let itemNames = buckets.map { Set($0.items.map(\.name)) }
    var slots = Array(buckets.indices)
    for first in buckets.indices {
      for second in (first + 1)..<buckets.count
      where itemNames[first].contains(buckets[second].name) {
        if itemNames[second].contains(buckets[first].name) {
          throw CrushTextError(
            line: buckets[first].line,
            "bucket '\(buckets[first].name)' and bucket '\(buckets[second].name)' "
              + "include each other")
        }
        slots.swapAt(first, second)
      }
    }
    var result = statements
    for (slot, position) in bucketPositions.enumerated() {
      result[position] = .bucket(buckets[slots[slot]])
    }
    return result
  }

  mutating func compile(_ statements: [Syntax.Statement]) throws(CrushTextError) -> CrushMap {
    for statement in statements {
      if case .bucket(let bucket) = statement, let first = bucket.ids.first {
        takenIDs.insert(first.id)
      }
    }
    for statement in statements {
      switch statement {
      case .tunable(let tunable):
        guard map.tunables.setValue(tunable.value, named: tunable.name) else {
          throw CrushTextError(line: tunable.line, "tunable \(tunable.name) not recognized")
        }
      case .device(let device):
        try compileDevice(device)
      case .type(let type):
        typeIDs[type.name] = type.id
        map.typeNames[type.id] = type.name
      case .bucket(let bucket):
        if sawRule {
          throw CrushTextError(line: bucket.line, "buckets must be defined before rules")
        }
        try compileBucket(bucket)
      case .rule(let rule):
        if !sawRule {
          sawRule = true
          // Like crushtool, a failure here (Ceph cannot clone uniform buckets per class) is
          // not fatal: the shadow trees built so far stay, and a rule that needs a missing
          // one fails below with "no class information".
          try? map.populateClassShadowTrees(requestedIDs: requestedShadowIDs)
        }
        try compileRule(rule)
      case .chooseArgs(let chooseArgs):
        try compileChooseArgs(chooseArgs)
      }
    }
    map.finalize()
    return map
  }

  private mutating func compileDevice(_ device: Syntax.Device) throws(CrushTextError) {
    if itemIDs[device.name] != nil {
      throw CrushTextError(line: device.line, "item \(device.name) defined twice")
    }
    map.itemNames[device.id] = device.name
    itemIDs[device.name] = device.id
    takenIDs.insert(device.id)
    if let className = device.className {
      map.itemClasses[device.id] = map.classID(creating: className)
    }
  }

  private mutating func compileBucket(_ bucket: Syntax.Bucket) throws(CrushTextError) {
    guard let typeID = typeIDs[bucket.typeName] else {
      throw CrushTextError(line: bucket.line, "bucket type '\(bucket.typeName)' is not defined")
    }
    guard itemIDs[bucket.name] == nil else {
      throw CrushTextError(
        line: bucket.line, "bucket or device '\(bucket.name)' is already defined")
    }
    var id: Int32 = 0
    var classIDs: [Int32: Int32] = [:]
    for idLine in bucket.ids {
      if let className = idLine.className {
        let classID = map.classID(creating: className)
        guard classIDs[classID] == nil else {
          throw CrushTextError(
            line: idLine.line, "duplicate device class \(className) for bucket \(bucket.name)")
        }
        classIDs[classID] = idLine.id
      } else {
        id = idLine.id
      }
    }
    guard let algorithm = CrushBucketAlgorithm(name: bucket.algorithm) else {
      throw CrushTextError(line: bucket.algorithmLine, "unknown bucket alg '\(bucket.algorithm)'")
    }

    var usedPositions = Set<Int>()
    for item in bucket.items {
      guard let position = item.position else { continue }
      guard usedPositions.insert(position).inserted else {
        throw CrushTextError(
          line: item.line,
          "item '\(item.name)' in bucket '\(bucket.name)' has explicit pos \(position), "
            + "which is occupied")
      }
    }
    let size = max(bucket.items.count, usedPositions.max() ?? 0)
    var items = [Int32](repeating: 0, count: size)
    var weights = [UInt32](repeating: 0, count: size)
    var nextPosition = 0
    var total: UInt32 = 0
    var uniformWeight: UInt32? = nil
    for item in bucket.items {
      guard let itemID = itemIDs[item.name] else {
        throw CrushTextError(
          line: item.line, "item '\(item.name)' in bucket '\(bucket.name)' is not defined")
      }
      var weight = bucketTotals[itemID] ?? 0x10000
      if let written = item.weight {
        weight = written
        if itemID >= 0 && weight > Self.maximumDeviceWeight {
          throw CrushTextError(line: item.line, "device weight limited to 100")
        }
        if itemID < 0 && weight > Self.maximumBucketWeight {
          throw CrushTextError(
            line: item.line, "bucket weight limited to 65535 to prevent overflow")
        }
      }
      if algorithm == .uniform {
        if let uniformWeight, uniformWeight != weight {
          throw CrushTextError(
            line: item.line,
            "item '\(item.name)' in uniform bucket '\(bucket.name)' has weight "
              + "\(FixedPoint.text(of: weight)) but previous item(s) have weight "
              + "\(FixedPoint.text(of: uniformWeight)); uniform bucket items must all have "
              + "identical weights")
        }
        uniformWeight = weight
      }
      var position: Int
      if let explicit = item.position {
        guard explicit < size else {
          throw CrushTextError(
            line: item.line,
            "item '\(item.name)' in bucket '\(bucket.name)' has pos \(explicit) >= size \(size)")
        }
        position = explicit
      } else {
        while usedPositions.contains(nextPosition) { nextPosition += 1 }
        position = nextPosition
        nextPosition += 1
      }
      guard position < size else {
        throw CrushTextError(
          line: item.line, "item '\(item.name)' in bucket '\(bucket.name)' has no free position")
      }
      items[position] = itemID
      weights[position] = weight
      let (sum, overflow) = total.addingReportingOverflow(weight)
      guard !overflow else {
        throw CrushTextError(
          line: item.line, "bucket '\(bucket.name)' weights overflow; lower the item weights")
      }
      total = sum
    }

    if id == 0 {
      id = -1
      while takenIDs.contains(id) { id -= 1 }
    }
    if !classIDs.isEmpty {
      requestedShadowIDs[id, default: [:]].merge(classIDs) { _, new in new }
    }
    takenIDs.insert(id)
    itemIDs[bucket.name] = id
    bucketTotals[id] = total

    let built: CrushBucket
    do {
      built = try CrushBucket(
        id: id, typeID: UInt16(typeID), algorithm: algorithm, hash: bucket.hash, items: items,
        weights: weights, strawCalcVersion: map.tunables.strawCalcVersion)
    } catch {
      throw CrushTextError(line: bucket.line, "bucket '\(bucket.name)': \(error)")
    }
    do {
      try map.add(built)
    } catch .bucketExists(let existing) {
      throw CrushTextError(line: bucket.line, "duplicate bucket id \(existing)")
    } catch {
      throw CrushTextError(line: bucket.line, "bucket id \(id) is out of range")
    }
    map.itemNames[id] = bucket.name
  }

  private mutating func compileRule(_ rule: Syntax.Rule) throws(CrushTextError) {
    let label = rule.name ?? ""
    if let name = rule.name, ruleIDs[name] != nil {
      throw CrushTextError(line: rule.line, "rule name '\(name)' already defined")
    }
    guard map.rule(rule.id) == nil else {
      throw CrushTextError(line: rule.line, "rule \(rule.id) already exists")
    }
    var steps: [CrushRuleStep] = []
    for step in rule.steps {
      switch step.keyword {
      case "take":
        let itemName = step.name ?? ""
        guard var item = itemIDs[itemName] else {
          throw CrushTextError(
            line: step.line, "in rule '\(label)' item '\(itemName)' not defined")
        }
        if let className = step.className {
          guard let classID = map.classID(named: className) else {
            throw CrushTextError(
              line: step.line, "in rule '\(label)' device class '\(className)' not defined")
          }
          guard let shadows = map.classBuckets[item] else {
            throw CrushTextError(
              line: step.line,
              "in rule '\(label)' step take \(itemName) has no class information")
          }
          guard let shadow = shadows[classID] else {
            throw CrushTextError(
              line: step.line,
              "in rule '\(label)' step take \(itemName) no matching bucket for class "
                + className)
          }
          item = shadow
        }
        steps.append(.take(item))
      case "emit":
        steps.append(.emit)
      case "choose", "chooseleaf":
        let typeName = step.name ?? ""
        guard let type = typeIDs[typeName] else {
          throw CrushTextError(
            line: step.line, "in rule '\(label)' type '\(typeName)' not defined")
        }
        let op: CrushRuleOp
        switch (step.keyword, step.mode) {
        case ("choose", "firstn"): op = .chooseFirstN
        case ("choose", _): op = .chooseIndep
        case (_, "firstn"): op = .chooseleafFirstN
        default: op = .chooseleafIndep
        }
        steps.append(CrushRuleStep(op, step.count, type))
      default:
        let op: CrushRuleOp
        switch step.keyword {
        case "set_choose_tries": op = .setChooseTries
        case "set_choose_local_tries": op = .setChooseLocalTries
        case "set_choose_local_fallback_tries": op = .setChooseLocalFallbackTries
        case "set_chooseleaf_tries": op = .setChooseleafTries
        case "set_chooseleaf_vary_r": op = .setChooseleafVaryR
        default: op = .setChooseleafStable
        }
        steps.append(CrushRuleStep(op, step.count))
      }
    }
    let compiled = CrushRule(
      name: rule.name, type: rule.type, minSize: rule.minSize, maxSize: rule.maxSize,
      steps: steps)
    do {
      try map.add(compiled, id: rule.id)
    } catch {
      throw CrushTextError(line: rule.line, "unable to add rule id \(rule.id) for rule '\(label)'")
    }
    if let name = rule.name { ruleIDs[name] = rule.id }
  }

  private mutating func compileChooseArgs(_ chooseArgs: Syntax.ChooseArgs)
    throws(CrushTextError)
  {
    guard map.chooseArgs[chooseArgs.index] == nil else {
      throw CrushTextError(line: chooseArgs.line, "choose_args \(chooseArgs.index) duplicated")
    }
    var compiled: CrushChooseArgMap = [:]
    for arg in chooseArgs.args {
      guard Int(-1 - Int64(arg.bucketID)) < map.maxBuckets else {
        throw CrushTextError(line: arg.line, "bucket_id \(arg.bucketID) is out of range")
      }
      guard let bucket = map.bucket(arg.bucketID) else {
        throw CrushTextError(line: arg.line, "bucket_id \(arg.bucketID) does not exist")
      }
      var entry = compiled[arg.bucketID] ?? CrushChooseArg()
      if let weightSet = arg.weightSet {
        for weights in weightSet where weights.count != bucket.size {
          throw CrushTextError(
            line: arg.line,
            "bucket \(arg.bucketID) needs exactly \(bucket.size) weights but got \(weights.count)"
          )
        }
        entry.weightSet = weightSet
      }
      if let ids = arg.ids {
        guard ids.count == bucket.size else {
          throw CrushTextError(
            line: arg.line,
            "bucket \(arg.bucketID) needs exactly \(bucket.size) ids but got \(ids.count)")
        }
        entry.ids = ids
      }
      compiled[arg.bucketID] = entry
    }
    map.chooseArgs[chooseArgs.index] = compiled
  }
}
