/// SplitMix64: a small, fast, seedable generator, so a seed replays a run exactly.
struct SimRandom {
  private var state: UInt64

  init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in `range`.
  mutating func int(_ range: Range<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.count))
  }

  mutating func uint(_ range: ClosedRange<UInt64>) -> UInt64 {
    range.lowerBound + next() % (range.upperBound - range.lowerBound + 1)
  }

  /// True with probability `p`.
  mutating func chance(_ p: Double) -> Bool {
    Double(next() % 1_000_000) < p * 1_000_000
  }

  mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }
}

/// Events ordered by time, then by insertion (a binary heap).
struct EventQueue<Event> {
  private var heap: [(time: UInt64, seq: UInt64, event: Event)] = []
  private var counter: UInt64 = 0

  var isEmpty: Bool { heap.isEmpty }
  var count: Int { heap.count }

  mutating func push(_ time: UInt64, _ event: Event) {
    counter += 1
    heap.append((time, counter, event))
    var child = heap.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard Self.less(heap[child], heap[parent]) else { break }
      heap.swapAt(child, parent)
      child = parent
    }
  }

  mutating func pop() -> (time: UInt64, event: Event)? {
    guard !heap.isEmpty else { return nil }
    heap.swapAt(0, heap.count - 1)
    let top = heap.removeLast()
    var parent = 0
    while true {
      let left = 2 * parent + 1
      let right = left + 1
      var smallest = parent
      if left < heap.count, Self.less(heap[left], heap[smallest]) { smallest = left }
      if right < heap.count, Self.less(heap[right], heap[smallest]) { smallest = right }
      guard smallest != parent else { break }
      heap.swapAt(parent, smallest)
      parent = smallest
    }
    return (top.time, top.event)
  }

  private static func less(
    _ a: (time: UInt64, seq: UInt64, event: Event), _ b: (time: UInt64, seq: UInt64, event: Event)
  ) -> Bool {
    (a.time, a.seq) < (b.time, b.seq)
  }
}
