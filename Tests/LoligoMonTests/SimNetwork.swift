import LoligoConsensus
import LoligoMon
import NIOCore

/// What the simulated network may do to a message.
struct SimFaults {
  var dropRate = 0.0
  var duplicateRate = 0.0
  /// Share of messages held back for up to `longDelayMax` (reordering them past later ones).
  var longDelayRate = 0.0
  var minDelay: UInt64 = 100_000  // 0.1 ms
  var maxDelay: UInt64 = 3_000_000  // 3 ms
  var longDelayMax: UInt64 = 2 * MonitorConfig.second
  /// Links deliver in order (like a TCP session: a held-back message holds back the ones
  /// after it); otherwise every message has its own delay and overtakes freely.
  var fifoLinks = false

  static let none = SimFaults()
}

/// Events of the simulation, ordered by virtual time and then by insertion (deterministic).
enum SimEvent {
  case deliver(from: Int, to: Int, message: SimPayload)
  case tick(node: Int, generation: Int)
  case client(node: Int)
  /// node -1: whoever leads at that moment. Restarts `downFor` later (if faults still run).
  case crash(node: Int, midStep: Bool, downFor: UInt64)
  case restart(node: Int)
  case partition(groups: [Int])
  case unpartition
  /// One direction of one link fails (or comes back): asymmetric partitions.
  case cutLink(from: Int, to: Int, cut: Bool)
  case heal
  case livenessProbe
}

/// A message in flight: encoded bytes (to exercise the codec) or the value itself.
enum SimPayload {
  case bytes(ByteBuffer)
  case value(MonMessage)
}

/// A binary min-heap of events keyed by (time, sequence).
struct SimEventQueue {
  private var heap: [(time: UInt64, seq: UInt64, event: SimEvent)] = []
  private var nextSeq: UInt64 = 0

  var isEmpty: Bool { heap.isEmpty }
  var count: Int { heap.count }

  mutating func push(_ time: UInt64, _ event: SimEvent) {
    heap.append((time, nextSeq, event))
    nextSeq += 1
    var child = heap.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard less(child, parent) else { break }
      heap.swapAt(child, parent)
      child = parent
    }
  }

  mutating func pop() -> (time: UInt64, event: SimEvent)? {
    guard !heap.isEmpty else { return nil }
    heap.swapAt(0, heap.count - 1)
    let top = heap.removeLast()
    var parent = 0
    while true {
      let left = parent * 2 + 1
      let right = left + 1
      var smallest = parent
      if left < heap.count && less(left, smallest) { smallest = left }
      if right < heap.count && less(right, smallest) { smallest = right }
      if smallest == parent { break }
      heap.swapAt(parent, smallest)
      parent = smallest
    }
    return (top.time, top.event)
  }

  private func less(_ a: Int, _ b: Int) -> Bool {
    heap[a].time != heap[b].time ? heap[a].time < heap[b].time : heap[a].seq < heap[b].seq
  }
}

/// The simulated network: partitions (a group id per node), loss, duplication and delays.
struct SimNetwork {
  var faults = SimFaults.none
  /// Nodes with different group ids cannot talk. All zero: no partition.
  var groups: [Int]
  var encode: Bool
  var sent = 0
  var dropped = 0
  /// Last delivery time per link (from * nodes + to), for FIFO links.
  var lastDelivery: [UInt64]
  /// Links (from * nodes + to) that lose everything, one direction only.
  var cutLinks: Set<Int> = []

  init(nodes: Int, encode: Bool) {
    groups = Array(repeating: 0, count: nodes)
    lastDelivery = Array(repeating: 0, count: nodes * nodes)
    self.encode = encode
  }

  func connected(_ a: Int, _ b: Int) -> Bool {
    groups[a] == groups[b] && (cutLinks.isEmpty || !cutLinks.contains(a * groups.count + b))
  }

  /// Delivery times for one send (none if lost, two if duplicated).
  mutating func schedule(from: Int, to: Int, now: UInt64, rng: inout SimRandom) -> [UInt64] {
    sent += 1
    guard connected(from, to), !rng.chance(faults.dropRate) else {
      dropped += 1
      return []
    }
    var times = [now + delay(&rng)]
    if rng.chance(faults.duplicateRate) {
      times.append(now + delay(&rng))
    }
    if faults.fifoLinks {
      let link = from * groups.count + to
      for index in times.indices {
        times[index] = max(times[index], lastDelivery[link] + 1)
        lastDelivery[link] = times[index]
      }
    }
    return times
  }

  private func delay(_ rng: inout SimRandom) -> UInt64 {
    if rng.chance(faults.longDelayRate) {
      return rng.uniform(faults.maxDelay...faults.longDelayMax)
    }
    return rng.uniform(faults.minDelay...faults.maxDelay)
  }
}
