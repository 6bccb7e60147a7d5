/// A set of monitor ranks (0 ..< 64) as a bit mask: quorums, acks and lease acks are compared
/// on every round, and a mask makes that one integer comparison.
public struct RankSet: Sendable, Hashable, Sequence, CustomStringConvertible {
  public private(set) var bits: UInt64

  public init() { bits = 0 }

  public init(bits: UInt64) { self.bits = bits }

  public init<S: Sequence>(_ ranks: S) where S.Element == Int {
    bits = 0
    for rank in ranks { insert(rank) }
  }

  /// Ranks 0 ..< count.
  public static func all(_ count: Int) -> RankSet {
    RankSet(bits: count >= 64 ? ~0 : (UInt64(1) << UInt64(count)) - 1)
  }

  public var count: Int { bits.nonzeroBitCount }
  public var isEmpty: Bool { bits == 0 }

  public func contains(_ rank: Int) -> Bool {
    rank >= 0 && rank < 64 && bits & (1 << UInt64(rank)) != 0
  }

  public mutating func insert(_ rank: Int) {
    precondition(rank >= 0 && rank < 64, "rank out of range")
    bits |= 1 << UInt64(rank)
  }

  public mutating func remove(_ rank: Int) {
    guard rank >= 0 && rank < 64 else { return }
    bits &= ~(1 << UInt64(rank))
  }

  public var ranks: [Int] { Array(self) }

  public func makeIterator() -> AnyIterator<Int> {
    var remaining = bits
    return AnyIterator {
      guard remaining != 0 else { return nil }
      let rank = remaining.trailingZeroBitCount
      remaining &= remaining - 1
      return rank
    }
  }

  public var description: String { "{" + ranks.map(String.init).joined(separator: ",") + "}" }
}
