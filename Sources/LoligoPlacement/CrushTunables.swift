/// The knobs that change how the mapper retries and descends. Ceph keeps them in the map
/// itself so every client computes the same placements; a map without tunable lines (an old
/// map, or hand-written text) gets the *legacy* values, a freshly built map gets the current
/// profile (jewel, which is also the optimal profile of Ceph 16.2).
public struct CrushTunables: Sendable, Hashable {
  /// Retries inside one bucket after a collision before starting a new descent.
  public var chooseLocalTries: UInt32
  /// Retries inside one bucket with a random permutation ("exhaustive search").
  public var chooseLocalFallbackTries: UInt32
  /// Total descents per replica; the mapper makes `chooseTotalTries + 1` attempts.
  public var chooseTotalTries: UInt32
  /// `chooseleaf` recursion tries only once (no nested retries).
  public var chooseleafDescendOnce: UInt32
  /// Feed the outer `r` into the chooseleaf recursion (shifted right by `vary_r - 1`).
  public var chooseleafVaryR: UInt8
  /// Chooseleaf recursion starts at replica 0 for every position (stable placements).
  public var chooseleafStable: UInt8
  /// Which formula legacy `straw` buckets use for their straw lengths.
  public var strawCalcVersion: UInt8
  /// Bit set of bucket algorithms (1 << alg) new buckets may use.
  public var allowedBucketAlgorithms: UInt32

  public init(
    chooseLocalTries: UInt32, chooseLocalFallbackTries: UInt32, chooseTotalTries: UInt32,
    chooseleafDescendOnce: UInt32, chooseleafVaryR: UInt8, chooseleafStable: UInt8,
    strawCalcVersion: UInt8, allowedBucketAlgorithms: UInt32
  ) {
    self.chooseLocalTries = chooseLocalTries
    self.chooseLocalFallbackTries = chooseLocalFallbackTries
    self.chooseTotalTries = chooseTotalTries
    self.chooseleafDescendOnce = chooseleafDescendOnce
    self.chooseleafVaryR = chooseleafVaryR
    self.chooseleafStable = chooseleafStable
    self.strawCalcVersion = strawCalcVersion
    self.allowedBucketAlgorithms = allowedBucketAlgorithms
  }

  /// uniform | list | straw: what a map without tunables allows.
  public static let legacyAllowedBucketAlgorithms: UInt32 =
    (1 << 1) | (1 << 2) | (1 << 4)
  /// uniform | list | straw | straw2 (tree is excluded since it was found buggy).
  public static let jewelAllowedBucketAlgorithms: UInt32 =
    (1 << 1) | (1 << 2) | (1 << 4) | (1 << 5)

  /// argonaut: the values a map has when it names no tunables at all.
  public static let legacy = CrushTunables(
    chooseLocalTries: 2, chooseLocalFallbackTries: 5, chooseTotalTries: 19,
    chooseleafDescendOnce: 0, chooseleafVaryR: 0, chooseleafStable: 0, strawCalcVersion: 0,
    allowedBucketAlgorithms: legacyAllowedBucketAlgorithms)

  public static let bobtail = CrushTunables(
    chooseLocalTries: 0, chooseLocalFallbackTries: 0, chooseTotalTries: 50,
    chooseleafDescendOnce: 1, chooseleafVaryR: 0, chooseleafStable: 0, strawCalcVersion: 0,
    allowedBucketAlgorithms: legacyAllowedBucketAlgorithms)

  public static let firefly = CrushTunables(
    chooseLocalTries: 0, chooseLocalFallbackTries: 0, chooseTotalTries: 50,
    chooseleafDescendOnce: 1, chooseleafVaryR: 1, chooseleafStable: 0, strawCalcVersion: 0,
    allowedBucketAlgorithms: legacyAllowedBucketAlgorithms)

  public static let hammer = CrushTunables(
    chooseLocalTries: 0, chooseLocalFallbackTries: 0, chooseTotalTries: 50,
    chooseleafDescendOnce: 1, chooseleafVaryR: 1, chooseleafStable: 0, strawCalcVersion: 1,
    allowedBucketAlgorithms: jewelAllowedBucketAlgorithms)

  public static let jewel = CrushTunables(
    chooseLocalTries: 0, chooseLocalFallbackTries: 0, chooseTotalTries: 50,
    chooseleafDescendOnce: 1, chooseleafVaryR: 1, chooseleafStable: 1, strawCalcVersion: 1,
    allowedBucketAlgorithms: jewelAllowedBucketAlgorithms)

  /// What Ceph 16.2 gives a new map (`crushtool --build`, `ceph osd crush tunables default`).
  public static let `default` = jewel

  /// The profile name Ceph reports for these values (`crushtool --dump`), or "unknown".
  public var profileName: String {
    let core = (
      chooseLocalTries, chooseLocalFallbackTries, chooseTotalTries, chooseleafDescendOnce,
      chooseleafVaryR, chooseleafStable
    )
    switch core {
    case (0, 0, 50, 1, 1, 1)
    where strawCalcVersion == 1
      && allowedBucketAlgorithms == Self.jewelAllowedBucketAlgorithms:
      return "jewel"
    case (0, 0, 50, 1, 1, 0)
    where strawCalcVersion == 1
      && allowedBucketAlgorithms == Self.jewelAllowedBucketAlgorithms:
      return "hammer"
    case (0, 0, 50, 1, 1, 0)
    where strawCalcVersion == 0
      && allowedBucketAlgorithms == Self.legacyAllowedBucketAlgorithms:
      return "firefly"
    case (0, 0, 50, 1, 0, 0)
    where strawCalcVersion == 0
      && allowedBucketAlgorithms == Self.legacyAllowedBucketAlgorithms:
      return "bobtail"
    case (2, 5, 19, 0, 0, 0)
    where strawCalcVersion == 0
      && allowedBucketAlgorithms == Self.legacyAllowedBucketAlgorithms:
      return "argonaut"
    default:
      return "unknown"
    }
  }

  /// Tunable names as they appear in the text form (`tunable NAME VALUE`), in Ceph's order.
  public static let names = [
    "choose_local_tries", "choose_local_fallback_tries", "choose_total_tries",
    "chooseleaf_descend_once", "chooseleaf_vary_r", "chooseleaf_stable", "straw_calc_version",
    "allowed_bucket_algs",
  ]

  /// Reads a tunable by its text name; nil for an unknown name.
  public func value(named name: String) -> UInt32? {
    switch name {
    case "choose_local_tries": return chooseLocalTries
    case "choose_local_fallback_tries": return chooseLocalFallbackTries
    case "choose_total_tries": return chooseTotalTries
    case "chooseleaf_descend_once": return chooseleafDescendOnce
    case "chooseleaf_vary_r": return UInt32(chooseleafVaryR)
    case "chooseleaf_stable": return UInt32(chooseleafStable)
    case "straw_calc_version": return UInt32(strawCalcVersion)
    case "allowed_bucket_algs": return allowedBucketAlgorithms
    default: return nil
    }
  }

  /// Sets a tunable by its text name. Returns false for an unknown name. Values are stored with
  /// the width Ceph stores them in (8 bits for vary_r, stable and straw_calc_version).
  @discardableResult
  public mutating func setValue(_ value: UInt32, named name: String) -> Bool {
    switch name {
    case "choose_local_tries": chooseLocalTries = value
    case "choose_local_fallback_tries": chooseLocalFallbackTries = value
    case "choose_total_tries": chooseTotalTries = value
    case "chooseleaf_descend_once": chooseleafDescendOnce = value
    case "chooseleaf_vary_r": chooseleafVaryR = UInt8(truncatingIfNeeded: value)
    case "chooseleaf_stable": chooseleafStable = UInt8(truncatingIfNeeded: value)
    case "straw_calc_version": strawCalcVersion = UInt8(truncatingIfNeeded: value)
    case "allowed_bucket_algs": allowedBucketAlgorithms = value
    default: return false
    }
    return true
  }
}
