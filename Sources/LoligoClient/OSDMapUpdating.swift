import LoligoMessages
import LoligoPlacement

extension OSDMapUpdate {
  /// The newest map `current` becomes with this update: a newer full map if it carries one,
  /// then its incrementals in order while they follow on. Nil if nothing newer results.
  public func advance(_ current: OSDMap?) -> OSDMap? {
    var next = current
    if let (epoch, raw) = fullMaps.max(by: { $0.key < $1.key }), epoch > (next?.epoch ?? 0) {
      var buffer = raw
      if let full = try? OSDMap(from: &buffer) { next = full }
    }
    if var map = next {
      for epoch in incrementals.keys.sorted() where epoch == map.epoch &+ 1 && epoch != 0 {
        var buffer = incrementals[epoch]!
        guard let inc = try? OSDMapIncremental(from: &buffer), (try? map.apply(inc)) != nil else {
          break
        }
      }
      next = map
    }
    guard let advanced = next, advanced.epoch > (current?.epoch ?? 0) else { return nil }
    return advanced
  }
}

extension OSDMapUpdate {
  /// Every map this update takes `current` through, oldest first: from a full map when it
  /// carries one newer than `current` and the incrementals do not follow on from `current`
  /// (a gap, or no map yet), then each incremental in turn. Empty if nothing newer results.
  public func maps(after current: OSDMap?) -> [OSDMap] {
    var result: [OSDMap] = []
    var map = current
    func applyIncrementals() {
      guard var next = map else { return }
      for epoch in incrementals.keys.sorted() where epoch == next.epoch &+ 1 && epoch != 0 {
        var buffer = incrementals[epoch]!
        guard let inc = try? OSDMapIncremental(from: &buffer), (try? next.apply(inc)) != nil
        else { break }
        result.append(next)
      }
      map = next
    }
    applyIncrementals()
    let reached = map?.epoch ?? 0
    // A full map past what the incrementals reached: start from the oldest such one.
    for epoch in fullMaps.keys.sorted() where epoch > reached {
      var buffer = fullMaps[epoch]!
      guard let full = try? OSDMap(from: &buffer) else { continue }
      result.append(full)
      map = full
      applyIncrementals()
      break
    }
    return result
  }
}
