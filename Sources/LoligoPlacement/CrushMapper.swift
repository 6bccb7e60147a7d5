/// Ceph's rule evaluation (`crush_do_rule`) over a compiled, read-only copy of a `CrushMap`.
///
/// Build one per map version and share it: it is immutable and `Sendable`. A mapping allocates
/// nothing but its result array; scratch space comes from stack-backed temporary allocations.
///
/// Semantics follow Ceph 16.2's `mapper.c` step for step, including the retry counters
/// (`choose_total_tries` counts retries, so a replica gets `tries + 1` descents), the
/// `chooseleaf_vary_r` / `chooseleaf_stable` recursion inputs, the local retry and permutation
/// fallbacks of legacy tunables, `indep`'s positional results with `CrushMapper.itemNone`
/// holes, the partial-reweight test (`hash2(x, osd) & 0xffff < weight`) and choose_args weight
/// sets.
/// Where Ceph would read out of bounds on a malformed map (an item naming a missing bucket, a
/// cycle in the hierarchy) the affected replica is skipped instead.
// the flattened buckets are raw memory written only in init, read-only after
public final class CrushMapper: @unchecked Sendable {
  /// `CRUSH_ITEM_NONE`: an empty position in an `indep` result.
  public static let itemNone: Int32 = 0x7fff_ffff
  /// `CRUSH_ITEM_UNDEF`: a position `indep` has not filled yet (never returned).
  static let undefined: Int32 = 0x7fff_fffe

  /// Largest result a single mapping may ask for.
  public static let maximumResult = 1 << 12
  /// Upper bound on descents per replica, whatever the tunables say (Ceph has none; maps use
  /// tens). Keeps a hostile map from spinning for hours.
  public static let maximumTries: UInt32 = 1 << 16

  public let tunables: CrushTunables
  public let maxDevices: Int32
  let bucketCount: Int
  // Per bucket (index -1 - id); algorithm 0 marks a missing bucket.
  let algorithms: [UInt8]
  let hashes: [UInt8]
  let types: [Int32]
  let ids: [Int32]
  let itemStart: [Int]
  let itemCount: [Int]
  let auxStart: [Int]
  let auxCount: [Int]
  let workStart: [Int]
  let workSize: Int
  /// Whether any mapping can use permutations (uniform buckets or local fallback retries);
  /// when not, the per-mapping workspace is skipped entirely.
  let usesPermutations: Bool
  // All buckets' items, weights and auxiliary arrays, back to back.
  private let items: UnsafeMutableBufferPointer<Int32>
  private let weights: UnsafeMutableBufferPointer<UInt32>
  private let auxiliary: UnsafeMutableBufferPointer<UInt32>
  let rules: [CrushRule?]
  let chooseArgs: [Int64: [CrushChooseArg?]]

  public init(_ map: CrushMap) {
    tunables = map.tunables
    maxDevices = map.maxDevices
    bucketCount = map.maxBuckets
    var algorithms = [UInt8](repeating: 0, count: bucketCount)
    var hashes = [UInt8](repeating: 0, count: bucketCount)
    var types = [Int32](repeating: 0, count: bucketCount)
    var ids = [Int32](repeating: 0, count: bucketCount)
    var itemStart = [Int](repeating: 0, count: bucketCount)
    var itemCount = [Int](repeating: 0, count: bucketCount)
    var auxStart = [Int](repeating: 0, count: bucketCount)
    var auxCount = [Int](repeating: 0, count: bucketCount)
    var workStart = [Int](repeating: 0, count: bucketCount)
    var totalItems = 0
    var totalAux = 0
    var totalWork = 0
    for (index, slot) in map.buckets.enumerated() {
      guard let bucket = slot else { continue }
      algorithms[index] = bucket.algorithm.rawValue
      hashes[index] = bucket.hash
      types[index] = Int32(bucket.typeID)
      ids[index] = bucket.id
      itemStart[index] = totalItems
      itemCount[index] = bucket.size
      auxStart[index] = totalAux
      var usableAux = bucket.auxiliary.count
      switch bucket.algorithm {
      case .list, .straw:
        if usableAux != bucket.size { usableAux = 0 }
      case .tree:
        if usableAux != 1 << TreeBucket.depth(forSize: bucket.size) { usableAux = 0 }
      case .uniform, .straw2:
        usableAux = 0
      }
      auxCount[index] = usableAux
      workStart[index] = totalWork
      totalItems += bucket.size
      totalAux += usableAux
      totalWork += 2 + bucket.size
    }
    items = .allocate(capacity: max(totalItems, 1))
    weights = .allocate(capacity: max(totalItems, 1))
    auxiliary = .allocate(capacity: max(totalAux, 1))
    for (index, slot) in map.buckets.enumerated() {
      guard let bucket = slot else { continue }
      for position in 0..<bucket.size {
        items[itemStart[index] + position] = bucket.items[position]
        weights[itemStart[index] + position] = bucket.itemWeights[position]
      }
      for position in 0..<auxCount[index] {
        auxiliary[auxStart[index] + position] = bucket.auxiliary[position]
      }
    }
    self.algorithms = algorithms
    self.hashes = hashes
    self.types = types
    self.ids = ids
    self.itemStart = itemStart
    self.itemCount = itemCount
    self.auxStart = auxStart
    self.auxCount = auxCount
    self.workStart = workStart
    self.workSize = totalWork
    self.rules = map.rules
    let fallbackInRules = map.rules.contains { rule in
      rule?.steps.contains { $0.op == .setChooseLocalFallbackTries && $0.arg1 > 0 } ?? false
    }
    self.usesPermutations =
      algorithms.contains(CrushBucketAlgorithm.uniform.rawValue)
      || map.tunables.chooseLocalFallbackTries > 0 || fallbackInRules
    var compiledArgs: [Int64: [CrushChooseArg?]] = [:]
    for (index, argMap) in map.chooseArgs {
      var perBucket = [CrushChooseArg?](repeating: nil, count: bucketCount)
      for (bucketID, arg) in argMap {
        let position = Int(-1 - Int64(bucketID))
        guard bucketID < 0, position < bucketCount, algorithms[position] != 0 else { continue }
        let size = itemCount[position]
        // Entries whose sizes do not match the bucket are ignored rather than trusted.
        let weightSet = arg.weightSet.allSatisfy { $0.count == size } ? arg.weightSet : []
        let ids = arg.ids.count == size ? arg.ids : []
        let usable = CrushChooseArg(weightSet: weightSet, ids: ids)
        if !usable.isEmpty { perBucket[position] = usable }
      }
      compiledArgs[index] = perBucket
    }
    chooseArgs = compiledArgs
  }

  deinit {
    items.deallocate()
    weights.deallocate()
    auxiliary.deallocate()
  }

  /// Whether `rule` exists.
  public func hasRule(_ rule: Int) -> Bool {
    rule >= 0 && rule < rules.count && rules[rule] != nil
  }

  /// Maps input `x` with `rule` to at most `resultMax` items (`crush_do_rule`).
  ///
  /// - Parameters:
  ///   - weights: per-device reweights in 16.16 (0x10000 = fully in, 0 = out); devices at or
  ///     beyond its end count as out.
  ///   - chooseArgs: the weight-set index to use (a pool id); falls back to the compat set
  ///     (-1) and then to the map's own weights, like `choose_args_get_with_fallback`.
  public func map(
    rule: Int, x: UInt32, resultMax: Int, weights deviceWeights: [UInt32],
    chooseArgs index: Int64? = nil
  ) -> [Int32] {
    var result: [Int32] = []
    map(
      rule: rule, x: x, resultMax: resultMax, weights: deviceWeights, chooseArgs: index,
      into: &result)
    return result
  }

  /// Like `map(rule:x:resultMax:weights:chooseArgs:)` but reuses `result`'s storage.
  public func map(
    rule ruleID: Int, x: UInt32, resultMax requested: Int, weights deviceWeights: [UInt32],
    chooseArgs index: Int64? = nil, into result: inout [Int32]
  ) {
    result.removeAll(keepingCapacity: true)
    guard ruleID >= 0, ruleID < rules.count, let rule = rules[ruleID], requested > 0 else {
      return
    }
    let resultMax = min(requested, Self.maximumResult)
    let args = resolveChooseArgs(index)
    let needsWork = usesPermutations
    deviceWeights.withUnsafeBufferPointer { weightBuffer in
      withUnsafeTemporaryAllocation(of: Int32.self, capacity: resultMax * 3) { scratch in
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: needsWork ? workSize : 1) {
          work in
          if needsWork {
            // Fresh permutation state per mapping, as crush_init_workspace provides.
            for bucket in 0..<bucketCount where algorithms[bucket] != 0 {
              work[workStart[bucket]] = 0
              work[workStart[bucket] + 1] = 0
            }
          }
          let context = Context(
            weights: weightBuffer, x: x, work: work.baseAddress!, args: args)
          run(
            rule: rule, resultMax: resultMax, scratch: scratch.baseAddress!, context: context,
            result: &result)
        }
      }
    }
  }

  private func resolveChooseArgs(_ index: Int64?) -> [CrushChooseArg?]? {
    if chooseArgs.isEmpty { return nil }
    if let index, let args = chooseArgs[index] { return args }
    return chooseArgs[CrushMap.defaultChooseArgsIndex]
  }

  /// Per-mapping inputs shared by every level of the descent.
  struct Context {
    let weights: UnsafeBufferPointer<UInt32>
    let x: UInt32
    let work: UnsafeMutablePointer<UInt32>
    let args: [CrushChooseArg?]?
  }

  private func run(
    rule: CrushRule, resultMax: Int, scratch: UnsafeMutablePointer<Int32>, context: Context,
    result: inout [Int32]
  ) {
    var current = scratch  // "w": the working set
    var output = scratch + resultMax  // "o"
    let leaves = scratch + 2 * resultMax  // "c"
    var currentSize = 0
    var chooseTries = min(tunables.chooseTotalTries &+ 1, Self.maximumTries)
    var chooseleafTries: UInt32 = 0
    var localRetries = tunables.chooseLocalTries
    var localFallbackRetries = tunables.chooseLocalFallbackTries
    var varyR = UInt32(tunables.chooseleafVaryR)
    var stable = UInt32(tunables.chooseleafStable)

    for step in rule.steps {
      switch step.op {
      case .take:
        let item = step.arg1
        if (item >= 0 && item < maxDevices) || bucketIndex(item) != nil {
          current[0] = item
          currentSize = 1
        }
      case .setChooseTries:
        if step.arg1 > 0 { chooseTries = min(UInt32(step.arg1), Self.maximumTries) }
      case .setChooseleafTries:
        if step.arg1 > 0 { chooseleafTries = min(UInt32(step.arg1), Self.maximumTries) }
      case .setChooseLocalTries:
        if step.arg1 >= 0 { localRetries = UInt32(step.arg1) }
      case .setChooseLocalFallbackTries:
        if step.arg1 >= 0 { localFallbackRetries = UInt32(step.arg1) }
      case .setChooseleafVaryR:
        if step.arg1 >= 0 { varyR = UInt32(step.arg1) }
      case .setChooseleafStable:
        if step.arg1 >= 0 { stable = UInt32(step.arg1) }
      case .chooseFirstN, .chooseleafFirstN, .chooseIndep, .chooseleafIndep:
        guard currentSize > 0 else { break }
        let firstN = step.op == .chooseFirstN || step.op == .chooseleafFirstN
        let recurseToLeaf = step.op == .chooseleafFirstN || step.op == .chooseleafIndep
        var outputSize = 0
        for position in 0..<currentSize {
          var count = Int(step.arg1)
          if count <= 0 {
            count += resultMax
            if count <= 0 { continue }
          }
          count = min(count, Self.maximumResult)
          guard let bucket = bucketIndex(current[position]) else { continue }
          if firstN {
            let recurseTries: UInt32
            if chooseleafTries != 0 {
              recurseTries = chooseleafTries
            } else if tunables.chooseleafDescendOnce != 0 {
              recurseTries = 1
            } else {
              recurseTries = chooseTries
            }
            outputSize += chooseFirstN(
              bucket: bucket, numReplicas: count, type: step.arg2,
              out: output + outputSize, outPosition: 0, outSize: resultMax - outputSize,
              tries: chooseTries, recurseTries: recurseTries, localRetries: localRetries,
              localFallbackRetries: localFallbackRetries, recurseToLeaf: recurseToLeaf,
              varyR: varyR, stable: stable, leaves: leaves + outputSize, parentR: 0,
              context: context)
          } else {
            let outSize = min(count, resultMax - outputSize)
            chooseIndep(
              bucket: bucket, left: outSize, numReplicas: count, type: step.arg2,
              out: output + outputSize, outPosition: 0, tries: chooseTries,
              recurseTries: chooseleafTries != 0 ? chooseleafTries : 1,
              recurseToLeaf: recurseToLeaf, leaves: leaves + outputSize, parentR: 0,
              context: context)
            outputSize += outSize
          }
        }
        if recurseToLeaf {
          output.update(from: leaves, count: outputSize)
        }
        swap(&current, &output)
        currentSize = outputSize
      case .emit:
        var position = 0
        while position < currentSize && result.count < resultMax {
          result.append(current[position])
          position += 1
        }
        currentSize = 0
      case .noop:
        break
      }
    }
  }

  /// Index of bucket `id` in the per-bucket arrays, or nil when no such bucket exists.
  @inline(__always)
  private func bucketIndex(_ id: Int32) -> Int? {
    guard id < 0 else { return nil }
    let index = Int(-1 - Int64(id))
    return index < bucketCount && algorithms[index] != 0 ? index : nil
  }

  /// The type of `item`: 0 for devices, the bucket's type otherwise; nil for an item that is
  /// neither a valid device nor an existing bucket.
  @inline(__always)
  private func typeOfItem(_ item: Int32) -> Int32? {
    if item >= 0 { return 0 }
    guard let index = bucketIndex(item) else { return nil }
    return types[index]
  }

  /// `is_out`: whether a device is (partially) reweighted out for this input.
  @inline(__always)
  private func isOut(_ item: Int32, context: Context) -> Bool {
    guard item >= 0, Int(item) < context.weights.count else { return true }
    let weight = context.weights[Int(item)]
    if weight >= 0x10000 { return false }
    if weight == 0 { return true }
    return CrushHash.hash2(context.x, UInt32(item)) & 0xffff >= weight
  }

  /// One bucket draw (`crush_bucket_choose`); `position` selects the choose_args weight set.
  @inline(__always)
  private func bucketChoose(_ bucket: Int, r: Int, position: Int, context: Context) -> Int32 {
    let start = itemStart[bucket]
    let count = itemCount[bucket]
    let bucketItems = UnsafeBufferPointer(rebasing: items[start..<start + count])
    let hash = hashes[bucket]
    let r32 = UInt32(truncatingIfNeeded: r)
    switch algorithms[bucket] {
    case CrushBucketAlgorithm.straw2.rawValue:
      let bucketWeights = UnsafeBufferPointer(rebasing: weights[start..<start + count])
      if let args = context.args, let arg = args[bucket] {
        return straw2WithArgs(
          arg, items: bucketItems, weights: bucketWeights, hash: hash, x: context.x, r: r32,
          position: position)
      }
      return Straw2Bucket.choose(
        items: bucketItems, ids: bucketItems, weights: bucketWeights, hash: hash, x: context.x,
        r: r32)
    case CrushBucketAlgorithm.uniform.rawValue:
      return UniformBucket.permutationChoose(
        id: ids[bucket], items: bucketItems, hash: hash, x: context.x, r: r32,
        work: context.work + workStart[bucket])
    case CrushBucketAlgorithm.list.rawValue:
      guard auxCount[bucket] == count else { return bucketItems[0] }
      return ListBucket.choose(
        id: ids[bucket], items: bucketItems,
        weights: UnsafeBufferPointer(rebasing: weights[start..<start + count]),
        sums: UnsafeBufferPointer(
          rebasing: auxiliary[auxStart[bucket]..<auxStart[bucket] + count]),
        hash: hash, x: context.x, r: r32)
    case CrushBucketAlgorithm.tree.rawValue:
      guard auxCount[bucket] > 0 else { return bucketItems[0] }
      return TreeBucket.choose(
        id: ids[bucket], items: bucketItems,
        nodeWeights: UnsafeBufferPointer(
          rebasing: auxiliary[auxStart[bucket]..<auxStart[bucket] + auxCount[bucket]]),
        hash: hash, x: context.x, r: r32)
    case CrushBucketAlgorithm.straw.rawValue:
      guard auxCount[bucket] == count else { return bucketItems[0] }
      return StrawBucket.choose(
        items: bucketItems,
        straws: UnsafeBufferPointer(
          rebasing: auxiliary[auxStart[bucket]..<auxStart[bucket] + count]),
        hash: hash, x: context.x, r: r32)
    default:
      return bucketItems[0]
    }
  }

  private func straw2WithArgs(
    _ arg: CrushChooseArg, items bucketItems: UnsafeBufferPointer<Int32>,
    weights bucketWeights: UnsafeBufferPointer<UInt32>, hash: UInt8, x: UInt32, r: UInt32,
    position: Int
  ) -> Int32 {
    let weightSet: [UInt32]? =
      arg.weightSet.isEmpty ? nil : arg.weightSet[min(max(position, 0), arg.weightSet.count - 1)]
    let choose = { (weightBuffer: UnsafeBufferPointer<UInt32>) -> Int32 in
      if arg.ids.isEmpty {
        return Straw2Bucket.choose(
          items: bucketItems, ids: bucketItems, weights: weightBuffer, hash: hash, x: x, r: r)
      }
      return arg.ids.withUnsafeBufferPointer { idBuffer in
        Straw2Bucket.choose(
          items: bucketItems, ids: idBuffer, weights: weightBuffer, hash: hash, x: x, r: r)
      }
    }
    if let weightSet { return weightSet.withUnsafeBufferPointer(choose) }
    return choose(bucketWeights)
  }

  /// `crush_choose_firstn`: choose `numReplicas` distinct items of `type` below `bucket`,
  /// writing them to `out[outPosition...]` (and their leaves to `leaves` when recursing).
  /// Returns the new output position.
  private func chooseFirstN(
    bucket root: Int, numReplicas: Int, type: Int32, out: UnsafeMutablePointer<Int32>,
    outPosition startPosition: Int, outSize: Int, tries: UInt32, recurseTries: UInt32,
    localRetries: UInt32, localFallbackRetries: UInt32, recurseToLeaf: Bool, varyR: UInt32,
    stable: UInt32, leaves: UnsafeMutablePointer<Int32>?, parentR: Int, context: Context
  ) -> Int {
    var outPosition = startPosition
    var remaining = outSize
    var replica = stable != 0 ? 0 : outPosition
    while replica < numReplicas && remaining > 0 {
      defer { replica += 1 }
      var totalFailures: UInt32 = 0
      var skipReplica = false
      var item: Int32 = 0
      var retryDescent: Bool
      repeat {
        retryDescent = false
        var bucket = root
        var localFailures: UInt32 = 0
        var depth = 0
        var retryBucket: Bool
        repeat {
          retryBucket = false
          var collide = false
          var reject = false
          let r = replica + parentR + Int(totalFailures)
          let size = itemCount[bucket]
          if size == 0 {
            reject = true
          } else {
            if localFallbackRetries > 0 && localFailures >= UInt32(size >> 1)
              && localFailures > localFallbackRetries
            {
              let start = itemStart[bucket]
              item = UniformBucket.permutationChoose(
                id: ids[bucket],
                items: UnsafeBufferPointer(rebasing: items[start..<start + size]),
                hash: hashes[bucket], x: context.x, r: UInt32(truncatingIfNeeded: r),
                work: context.work + workStart[bucket])
            } else {
              item = bucketChoose(bucket, r: r, position: outPosition, context: context)
            }
            if item >= maxDevices {
              skipReplica = true
              break
            }
            guard let itemType = typeOfItem(item) else {
              skipReplica = true
              break
            }
            if itemType != type {
              // Descend into the chosen bucket; a cycle in a malformed map stops here.
              depth += 1
              guard item < 0, let child = bucketIndex(item), depth <= bucketCount else {
                skipReplica = true
                break
              }
              bucket = child
              retryBucket = true
              continue
            }
            for earlier in 0..<outPosition where out[earlier] == item {
              collide = true
              break
            }
            if !collide && recurseToLeaf {
              if item < 0, let child = bucketIndex(item) {
                let subR = varyR != 0 ? r >> Int(varyR - 1) : 0
                let chosen = chooseFirstN(
                  bucket: child, numReplicas: stable != 0 ? 1 : outPosition + 1, type: 0,
                  out: leaves!, outPosition: outPosition, outSize: remaining,
                  tries: recurseTries, recurseTries: 0, localRetries: localRetries,
                  localFallbackRetries: localFallbackRetries, recurseToLeaf: false,
                  varyR: varyR, stable: stable, leaves: nil, parentR: subR, context: context)
                if chosen <= outPosition { reject = true }
              } else {
                leaves![outPosition] = item
              }
            }
            if !reject && !collide && itemType == 0 {
              reject = isOut(item, context: context)
            }
          }
          if reject || collide {
            totalFailures += 1
            localFailures += 1
            if collide && localFailures <= localRetries {
              retryBucket = true
            } else if localFallbackRetries > 0
              && localFailures <= UInt32(size) &+ localFallbackRetries
            {
              retryBucket = true
            } else if totalFailures < tries {
              retryDescent = true
            } else {
              skipReplica = true
            }
          }
        } while retryBucket
      } while retryDescent && !skipReplica
      if skipReplica { continue }
      out[outPosition] = item
      outPosition += 1
      remaining -= 1
    }
    return outPosition
  }

  /// `crush_choose_indep`: fill `left` positions starting at `outPosition` breadth first, so an
  /// item's position does not depend on failures at other positions. Unfillable positions get
  /// `CrushMapper.itemNone`.
  private func chooseIndep(
    bucket root: Int, left initialLeft: Int, numReplicas: Int, type: Int32,
    out: UnsafeMutablePointer<Int32>, outPosition: Int, tries: UInt32, recurseTries: UInt32,
    recurseToLeaf: Bool, leaves: UnsafeMutablePointer<Int32>?, parentR: Int, context: Context
  ) {
    var left = initialLeft
    let endPosition = outPosition + left
    guard endPosition > outPosition else { return }
    for replica in outPosition..<endPosition {
      out[replica] = Self.undefined
      leaves?[replica] = Self.undefined
    }
    var totalFailures: UInt32 = 0
    while left > 0 && totalFailures < tries {
      for replica in outPosition..<endPosition where out[replica] == Self.undefined {
        var bucket = root
        var depth = 0
        while true {
          var r = replica + parentR
          if algorithms[bucket] == CrushBucketAlgorithm.uniform.rawValue
            && itemCount[bucket] % numReplicas == 0
          {
            r += (numReplicas + 1) * Int(totalFailures)
          } else {
            r += numReplicas * Int(totalFailures)
          }
          if itemCount[bucket] == 0 { break }
          let item = bucketChoose(bucket, r: r, position: outPosition, context: context)
          if item >= maxDevices {
            out[replica] = Self.itemNone
            leaves?[replica] = Self.itemNone
            left -= 1
            break
          }
          let itemType = typeOfItem(item)
          if itemType != type {
            depth += 1
            guard itemType != nil, item < 0, let child = bucketIndex(item), depth <= bucketCount
            else {
              out[replica] = Self.itemNone
              leaves?[replica] = Self.itemNone
              left -= 1
              break
            }
            bucket = child
            continue
          }
          var collide = false
          for earlier in outPosition..<endPosition where out[earlier] == item {
            collide = true
            break
          }
          if collide { break }
          if recurseToLeaf {
            if item < 0, let child = bucketIndex(item) {
              chooseIndep(
                bucket: child, left: 1, numReplicas: numReplicas, type: 0, out: leaves!,
                outPosition: replica, tries: recurseTries, recurseTries: 0,
                recurseToLeaf: false, leaves: nil, parentR: r, context: context)
              if leaves![replica] == Self.itemNone { break }
            } else {
              leaves![replica] = item
            }
          }
          if itemType == 0 && isOut(item, context: context) { break }
          out[replica] = item
          left -= 1
          break
        }
      }
      totalFailures += 1
    }
    for replica in outPosition..<endPosition {
      if out[replica] == Self.undefined { out[replica] = Self.itemNone }
      if leaves?[replica] == Self.undefined { leaves?[replica] = Self.itemNone }
    }
  }
}
