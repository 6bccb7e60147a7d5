import LoligoConsensus
import LoligoMon
import NIOCore

/// Safety invariants checked on every output of every monitor during a simulation.
struct SimChecker {
  /// Election epoch → leader rank, from leaders' and peons' status notifications.
  private(set) var leaders: [UInt64: Int] = [:]
  /// Version → value, the first time any monitor committed it.
  private(set) var committed: [UInt64: ByteBuffer] = [:]
  /// Hash chain over committed values: chain[v] covers versions 1...v.
  private(set) var chain: [UInt64] = [0]
  private(set) var replied: Set<UInt64> = []
  private(set) var violations: [String] = []
  private(set) var committedReplies = 0
  private(set) var failedReplies = 0
  private(set) var lastCommittedReplyId: UInt64 = 0

  var highestCommitted: UInt64 { committed.keys.max() ?? 0 }

  mutating func fail(_ message: String) {
    violations.append(message)
  }

  /// At most one leader per election epoch; peons follow that leader.
  mutating func status(node: Int, _ status: MonStatus) {
    let leader: Int
    switch status.role {
    case .leader: leader = node
    case .peon: leader = status.leader ?? -1
    default: return
    }
    if let known = leaders[status.electionEpoch], known != leader {
      fail(
        "two leaders in epoch \(status.electionEpoch): mon.\(known) and mon.\(leader)"
          + " (reported by mon.\(node) as \(status.role))")
    }
    leaders[status.electionEpoch] = leader
    if status.electionEpoch % 2 != 0 {
      fail("mon.\(node) is \(status.role) in odd epoch \(status.electionEpoch)")
    }
  }

  /// A committed version never changes value, on any monitor.
  mutating func committed(node: Int, _ value: CommittedValue) {
    if let known = committed[value.version] {
      if known != value.value {
        fail("version \(value.version) committed with two values (mon.\(node) disagrees)")
      }
      return
    }
    committed[value.version] = value.value
    while let next = committed[UInt64(chain.count)] {
      chain.append(Self.mix(chain[chain.count - 1], UInt64(chain.count), next))
    }
  }

  func chainHash(_ version: UInt64) -> UInt64? {
    version < UInt64(chain.count) ? chain[Int(version)] : nil
  }

  /// One reply per request, and a committed reply names a version holding the request.
  mutating func reply(node: Int, _ reply: ClientReply) {
    if !replied.insert(reply.clientId).inserted {
      fail("client \(reply.clientId) answered twice (mon.\(node))")
    }
    switch reply.result {
    case .committed(let version):
      committedReplies += 1
      lastCommittedReplyId = max(lastCommittedReplyId, reply.clientId)
      guard let value = committed[version] else {
        fail("mon.\(node) replied committed v\(version) for client \(reply.clientId) unknown")
        return
      }
      var copy = value
      let proposals = (try? ProposalBatch(from: &copy, limits: .default).proposals) ?? []
      if !proposals.contains(where: {
        $0.origin == node && $0.clientId == reply.clientId && $0.tid == reply.tid
      }) {
        fail("mon.\(node) replied committed v\(version) but client \(reply.clientId) is not in it")
      }
    case .failed:
      failedReplies += 1
    }
  }

  /// FNV-1a style mix of the previous hash, the version and the value bytes.
  static func mix(_ previous: UInt64, _ version: UInt64, _ value: ByteBuffer) -> UInt64 {
    var hash = previous ^ 0xCBF2_9CE4_8422_2325
    hash = (hash ^ version) &* 0x100_0000_01B3
    value.withUnsafeReadableBytes { bytes in
      // Eight bytes at a time: debug builds are slow per element.
      var index = 0
      while index + 8 <= bytes.count {
        hash =
          (hash ^ bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0x100_0000_01B3
        index += 8
      }
      while index < bytes.count {
        hash = (hash ^ UInt64(bytes[index])) &* 0x100_0000_01B3
        index += 1
      }
    }
    return hash
  }
}
