/// Ceph's object-name hashes (`ceph_str_hash`), selected per pool by `object_hash`. The default
/// and only one in current use is rjenkins: Bob Jenkins' lookup2 over the name's bytes, 12
/// bytes per round, with the length folded into the last round. The resulting 32 bits pick
/// the placement group (after `StableMod`).
public enum CephStringHash: UInt8, Sendable, CaseIterable {
  /// `CEPH_STR_HASH_LINUX`: the Linux dcache hash.
  case linux = 1
  /// `CEPH_STR_HASH_RJENKINS`.
  case rjenkins = 2

  public var name: String { self == .linux ? "linux" : "rjenkins" }

  public func hash(_ bytes: some Collection<UInt8>) -> UInt32 {
    switch self {
    case .linux: return Self.linuxHash(bytes)
    case .rjenkins: return Self.rjenkins(bytes)
    }
  }

  public func hash(_ string: String) -> UInt32 { hash(Array(string.utf8)) }

  /// `ceph_str_hash_rjenkins`.
  public static func rjenkins(_ input: some Collection<UInt8>) -> UInt32 {
    // Names (native strings' UTF-8, arrays) are hashed in place: no copy per object.
    if let hash = input.withContiguousStorageIfAvailable({ rjenkins(bytes: $0) }) { return hash }
    return Array(input).withUnsafeBufferPointer { rjenkins(bytes: $0) }
  }

  static func rjenkins(bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
    var a: UInt32 = 0x9e37_79b9
    var b: UInt32 = a
    var c: UInt32 = 0
    var offset = 0
    var remaining = bytes.count
    @inline(__always) func word(_ at: Int) -> UInt32 {
      UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16
        | UInt32(bytes[at + 3]) << 24
    }
    while remaining >= 12 {
      a &+= word(offset)
      b &+= word(offset + 4)
      c &+= word(offset + 8)
      jenkinsMix(&a, &b, &c)
      offset += 12
      remaining -= 12
    }
    // The low byte of c is reserved for the length, so tail bytes 8...10 go in above it.
    c &+= UInt32(truncatingIfNeeded: bytes.count)
    let tail = bytes[offset...]
    for (index, byte) in tail.enumerated() {
      let value = UInt32(byte)
      switch index {
      case 0...3: a &+= value << (8 * UInt32(index))
      case 4...7: b &+= value << (8 * UInt32(index - 4))
      default: c &+= value << (8 * UInt32(index - 7))
      }
    }
    jenkinsMix(&a, &b, &c)
    return c
  }

  /// `ceph_str_hash_linux`.
  public static func linuxHash(_ bytes: some Collection<UInt8>) -> UInt32 {
    var hash: UInt32 = 0
    for byte in bytes {
      let value = UInt32(byte)
      hash = (hash &+ (value << 4) &+ (value >> 4)) &* 11
    }
    return hash
  }
}
