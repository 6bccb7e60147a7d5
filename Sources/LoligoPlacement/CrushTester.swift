import Foundation

/// `crushtool --test`: maps a range of inputs through rules and reports what happened, printing
/// the same lines crushtool prints (`CRUSH rule 0 x 17 [3,0,7]`, bad mappings, result-size
/// statistics and per-device utilisation) so outputs can be compared line for line.
///
/// Semantics follow Ceph 16.2's `CrushTester::test`: devices present in some bucket start at
/// weight 1.0 (0x10000), others at 0, `--weight` overrides clamp to [0, 1]; without a replica
/// count each rule runs from its min_size to its max_size; a negative x bound means 0...1023;
/// with a pool id the CRUSH input is `hash2(x, pool)`, as an OSD map computes it; weight sets
/// come from choose_args index 0, falling back to the compat set (crushtool's choice, whatever
/// the pool id).
public struct CrushTester: Sendable {
  public var map: CrushMap
  /// Input range; either bound negative selects crushtool's default 0...1023.
  public var minX: Int64 = -1
  public var maxX: Int64 = -1
  /// Rule range; either bound negative selects every rule.
  public var minRule = -1
  public var maxRule = -1
  /// Only rules whose ruleset (= id) equals this, when not negative.
  public var ruleset = -1
  /// Replica counts; either bound negative selects each rule's min_size...max_size.
  public var minReplicas = -1
  public var maxReplicas = -1
  /// When set, the CRUSH input is `hash2(x, poolID)` instead of x.
  public var poolID: Int64?
  /// Device reweights (16.16) overriding the defaults.
  public var deviceWeights: [Int32: UInt32] = [:]

  public var showMappings = false
  public var showBadMappings = false
  public var showStatistics = false
  public var showUtilization = false
  public var showUtilizationAll = false

  public init(map: CrushMap) { self.map = map }

  /// crushtool's `--weight DEV W`: `(int)(W * 0x10000)` in single precision, clamped to [0, 1].
  public static func reweight(fromText text: String) -> UInt32 {
    // atof(): leading number, 0 when there is none.
    let value = Float(Double(text.trimmingCharacters(in: .whitespaces)) ?? 0)
    let scaled = value * Float(65536)
    guard scaled.isFinite else { return scaled > 0 ? 0x10000 : 0 }
    if scaled <= 0 { return 0 }
    if scaled >= 65536 { return 0x10000 }
    return UInt32(scaled)
  }

  /// The weight vector crushtool hands the mapper: one entry per device id below max_devices.
  public func weightVector() -> [UInt32] {
    var present = Set<Int32>()
    for bucket in map.allBuckets { present.formUnion(bucket.items.lazy.filter { $0 >= 0 }) }
    return (0..<map.maxDevices).map { device in
      if let override = deviceWeights[device] { return override }
      return present.contains(device) ? 0x10000 : 0
    }
  }

  /// Runs the test, handing each output line (without newline) to `emit`.
  public func run(_ emit: (String) -> Void) {
    let mapper = CrushMapper(map)
    let weights = weightVector()
    let (lowX, highX) = minX < 0 || maxX < 0 ? (Int64(0), Int64(1023)) : (minX, maxX)
    let (firstRule, lastRule) =
      minRule < 0 || maxRule < 0 ? (0, map.maxRules - 1) : (minRule, maxRule)
    var result: [Int32] = []
    var rule = firstRule
    while rule < map.maxRules && rule <= lastRule {
      defer { rule += 1 }
      guard let ruleValue = map.rule(rule) else {
        if showStatistics { emit("rule \(rule) dne") }
        continue
      }
      if ruleset >= 0 && rule != ruleset { continue }
      var (fewest, most) = (minReplicas, maxReplicas)
      if minReplicas < 0 || maxReplicas < 0 {
        (fewest, most) = (Int(ruleValue.minSize), Int(ruleValue.maxSize))
      }
      let ruleName = ruleValue.name ?? ""
      if showStatistics {
        emit("rule \(rule) (\(ruleName)), x = \(lowX)..\(highX), numrep = \(fewest)..\(most)")
      }
      guard fewest <= most else { continue }
      for replicas in fewest...most {
        var perDevice = [Int](repeating: 0, count: Int(map.maxDevices))
        var sizes: [Int: Int] = [:]
        let totalWeight = weights.reduce(0) { $0 + Int($1) }
        if totalWeight == 0 { continue }
        var x = lowX
        while x <= highX {
          defer { x += 1 }
          let input = UInt32(truncatingIfNeeded: x)
          let crushInput =
            poolID.map { CrushHash.hash2(input, UInt32(truncatingIfNeeded: $0)) } ?? input
          mapper.map(
            rule: rule, x: crushInput, resultMax: replicas, weights: weights, chooseArgs: 0,
            into: &result)
          if showMappings { emit("CRUSH rule \(rule) x \(x) \(Self.render(result))") }
          var hasNone = false
          for item in result {
            if item == CrushMapper.itemNone {
              hasNone = true
            } else if item >= 0 && Int(item) < perDevice.count {
              perDevice[Int(item)] += 1
            }
          }
          sizes[result.count, default: 0] += 1
          if showBadMappings && (result.count != replicas || hasNone) {
            emit(
              "bad mapping rule \(rule) x \(x) num_rep \(replicas) result \(Self.render(result))")
          }
        }
        guard showStatistics else { continue }
        let objects = highX - lowX + 1
        for size in sizes.keys.sorted() {
          emit(
            "rule \(rule) (\(ruleName)) num_rep \(replicas) result size == \(size):\t"
              + "\(sizes[size]!)/\(objects)")
        }
        guard showUtilization || showUtilizationAll else { continue }
        let expectedObjects =
          Float(min(replicas, maximumAffected(rule: ruleValue))) * Float(objects)
        for device in perDevice.indices {
          let share = Float(weights[device]) / Float(totalWeight)
          let expected = share * expectedObjects
          if showUtilization ? (expected > 0 && perDevice[device] > 0) : true {
            emit(
              "  device \(device):\t\t stored : \(perDevice[device])\t expected : "
                + Self.formatFloat(expected))
          }
        }
      }
    }
  }

  /// `[a,b,c]`, the way Ceph prints a vector.
  public static func render(_ items: [Int32]) -> String {
    "[" + items.map(String.init).joined(separator: ",") + "]"
  }

  /// C++ `ostream << float` with default precision (6 significant digits, `%g` style).
  static func formatFloat(_ value: Float) -> String {
    CNumberFormat.general(Double(value))
  }

  /// `CrushTester::get_maximum_affected_by_rule`: the most replicas a rule can place, judged
  /// from how many buckets of each chosen type exist (quirks included: every step with an
  /// opcode of 2 or more other than emit counts, with its arg2 as the type).
  func maximumAffected(rule: CrushRule) -> Int {
    var affectedTypes: [Int32] = []
    var replicationsByType: [Int32: Int32] = [:]
    for step in rule.steps where step.op.rawValue >= 2 && step.op != .emit {
      affectedTypes.append(step.arg2)
      replicationsByType[step.arg2] = step.arg1
    }
    var namedBucketTypes: [Int32] = []
    for id in map.itemNames.keys where id < 0 {
      if let bucket = map.bucket(id) { namedBucketTypes.append(Int32(bucket.typeID)) }
    }
    var devicesOfType: [Int32: Int] = [:]
    for type in affectedTypes {
      devicesOfType[type, default: 0] += namedBucketTypes.filter { $0 == type }.count
    }
    for type in affectedTypes {
      let wanted = Int(replicationsByType[type] ?? 0)
      if wanted > 0 && wanted < devicesOfType[type, default: 0] { devicesOfType[type] = wanted }
    }
    var result = max(map.maxBuckets, Int(map.maxDevices))
    for type in affectedTypes {
      let count = devicesOfType[type, default: 0]
      if count > 0 && count < result { result = count }
    }
    return result
  }
}
