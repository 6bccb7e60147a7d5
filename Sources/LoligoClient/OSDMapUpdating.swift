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
