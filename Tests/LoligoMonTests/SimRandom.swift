/// Seeded generator for the simulation (SplitMix64): the same seed gives the same run.
struct SimRandom: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) {
    state = seed ^ 0x5DEE_CE66_D1CE_4E5B
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// True with probability `p`.
  mutating func chance(_ p: Double) -> Bool {
    p > 0 && Double(next() >> 11) / Double(1 << 53) < p
  }

  mutating func uniform(_ range: ClosedRange<UInt64>) -> UInt64 {
    UInt64.random(in: range, using: &self)
  }

  mutating func pick<T>(_ items: [T]) -> T {
    items[Int.random(in: 0..<items.count, using: &self)]
  }
}
