/// Device classes (`device 3 osd.3 class ssd`) work through per-class "shadow" copies of the
/// hierarchy: for every root and class, a bucket `name~class` holding only that class's devices
/// (and the shadow copies of sub-buckets, weighted by their filtered totals). A rule step
/// `take default class ssd` starts at `default~ssd`. Shadow buckets are derived data: the text
/// form only records their ids (`id -5 class ssd` inside the original bucket) so they are
/// rebuilt with the same ids, which keeps placements stable across a text round trip.
public enum CrushClassError: Error, Equatable, Sendable, CustomStringConvertible {
  case unnamedItem(Int32)
  case missingBucket(Int32)
  case bucketIDTaken(Int32)
  case tooDeep
  case bucket(CrushBucket.BuildError)

  public var description: String {
    switch self {
    case .unnamedItem(let id): return "item \(id) has no name"
    case .missingBucket(let id): return "bucket \(id) does not exist"
    case .bucketIDTaken(let id): return "shadow bucket id \(id) is already in use"
    case .tooDeep: return "hierarchy too deep (or cyclic) while building class shadow trees"
    case .bucket(let error): return "cannot build shadow bucket: \(error)"
    }
  }
}

extension CrushMap {
  /// Class id for `name`, creating it (next id after the highest) if new
  /// (`get_or_create_class_id`).
  public mutating func classID(creating name: String) -> Int32 {
    if let existing = classID(named: name) { return existing }
    let id = (classNames.keys.max() ?? -1) &+ 1
    classNames[id] = name
    return id
  }

  /// Builds the shadow trees of every class under every non-shadow root
  /// (`CrushWrapper::populate_classes`). `requestedIDs` are the shadow ids recorded in the text
  /// form (bucket id -> class id -> shadow id); other shadows take the lowest free id that is
  /// neither a bucket nor one of the requested ids. On error the shadows built so far remain,
  /// as in Ceph (which cannot clone uniform buckets and stops at the first one).
  public mutating func populateClassShadowTrees(requestedIDs: [Int32: [Int32: Int32]])
    throws(CrushClassError)
  {
    var context = ShadowContext(
      requested: requestedIDs,
      reserved: Set(requestedIDs.values.flatMap { $0.values }),
      names: Dictionary(
        itemNames.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
    )
    for root in roots(includingShadow: false) {
      for classID in classNames.keys.sorted() {
        _ = try shadow(of: root, classID: classID, context: &context, depth: 0)
      }
    }
  }

  private struct ShadowContext {
    var requested: [Int32: [Int32: Int32]]
    var reserved: Set<Int32>
    var names: [String: Int32]
  }

  private mutating func shadow(
    of original: Int32, classID: Int32, context: inout ShadowContext, depth: Int
  ) throws(CrushClassError) -> Int32 {
    guard depth <= maxBuckets else { throw .tooDeep }
    guard let itemName = itemNames[original], let className = classNames[classID] else {
      throw .unnamedItem(original)
    }
    let copyName = itemName + "~" + className
    if let existing = context.names[copyName] { return existing }
    guard let source = bucket(original) else { throw .missingBucket(original) }
    var copy: CrushBucket
    do {
      copy = try CrushBucket(
        id: 0, typeID: source.typeID, algorithm: source.algorithm, hash: source.hash,
        items: [], weights: [], strawCalcVersion: tunables.strawCalcVersion)
      for (position, item) in source.items.enumerated() {
        if item >= 0 {
          guard itemClasses[item] == classID else { continue }
          try copy.append(
            item: item, weight: source.weight(at: position),
            strawCalcVersion: tunables.strawCalcVersion)
        } else {
          let child = try shadow(of: item, classID: classID, context: &context, depth: depth + 1)
          try copy.append(
            item: child, weight: bucket(child)?.weight ?? 0,
            strawCalcVersion: tunables.strawCalcVersion)
        }
      }
    } catch let error as CrushBucket.BuildError {
      throw .bucket(error)
    } catch let error as CrushClassError {
      throw error
    } catch {
      throw .tooDeep
    }
    var id: Int32
    if let requested = context.requested[original]?[classID] {
      id = requested
    } else {
      id = -1
      while bucketExists(id) || context.reserved.contains(id) { id -= 1 }
    }
    copy.id = id
    do {
      try add(copy)
    } catch {
      throw .bucketIDTaken(id)
    }
    itemClasses[id] = classID
    itemNames[id] = copyName
    context.names[copyName] = id
    classBuckets[original, default: [:]][classID] = id
    return id
  }

  /// Splits a shadow bucket id into (original bucket, class id); nil for ordinary items.
  public func originalAndClass(of id: Int32) -> (original: Int32, classID: Int32)? {
    guard let name = itemNames[id], let tilde = name.firstIndex(of: "~") else { return nil }
    let originalName = String(name[..<tilde])
    let className = String(name[name.index(after: tilde)...])
    guard let original = itemID(named: originalName), let classID = classID(named: className)
    else { return nil }
    return (original, classID)
  }
}
