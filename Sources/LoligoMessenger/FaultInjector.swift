/// `ms_inject_socket_failures`: fails a socket operation with probability 1/N, so tests can
/// prove that lossless sessions survive arbitrary connection loss.
struct FaultInjector {
  private let oneIn: UInt64
  private var state: UInt64

  init(oneIn: Int, seed: UInt64) {
    self.oneIn = UInt64(max(oneIn, 0))
    self.state = seed | 1
  }

  var enabled: Bool { oneIn > 0 }

  /// True when this operation should fail.
  mutating func shouldFail() -> Bool {
    guard oneIn > 0 else { return false }
    // xorshift64*: cheap and good enough for fault timing.
    state ^= state >> 12
    state ^= state << 25
    state ^= state >> 27
    return (state &* 2_685_821_657_736_338_717) % oneIn == 0
  }
}
