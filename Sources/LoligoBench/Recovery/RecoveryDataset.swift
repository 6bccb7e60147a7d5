import NIOCore

/// A recovery profile's objects: `objects` objects of `objectSize` bytes, `recovery_object0`,
/// `recovery_object1`, ..., each made of blocks of `blockSize` bytes. The prefill writes every
/// block at version 0; each client write replaces one block with its next version. A block's
/// bytes depend on its object, its index and its version, so a read-back tells a lost write (an
/// older version), a misplaced block or zeroes from the right one. scripts/ceph-reference/
/// recovery-load.c fills blocks the same way on Ceph's side.
public struct RecoveryDataset: Sendable {
  public let objects: Int
  public let objectSize: Int
  public let blockSize: Int

  public init(objects: Int, objectSize: Int, blockSize: Int) {
    self.objects = objects
    self.objectSize = objectSize
    self.blockSize = blockSize
  }

  public static let namePrefix = "recovery_object"

  public var blocksPerObject: Int { objectSize / blockSize }
  public var blocks: Int { objects * blocksPerObject }

  public static func name(_ object: Int) -> String { "\(namePrefix)\(object)" }

  /// Block `block` of `object` at `version`, written into `buffer`.
  public func fill(_ buffer: inout ByteBuffer, object: Int, block: Int, version: UInt32) {
    var state = Self.mix(Self.mix(Self.mix(UInt64(object)) ^ UInt64(block)) ^ UInt64(version))
    buffer.reserveCapacity(minimumWritableBytes: blockSize)
    for _ in 0..<(blockSize / 8) {
      state = Self.mix(state)
      buffer.writeInteger(state, endianness: .little)
    }
    // A block size that is not a multiple of 8 ends with part of one more word.
    let rest = blockSize % 8
    if rest > 0 {
      let last = Self.mix(state)
      for byte in 0..<rest { buffer.writeInteger(UInt8(truncatingIfNeeded: last >> (8 * byte))) }
    }
  }

  /// Whether `bytes` (one block's worth) are block `block` of `object` at `version`.
  public func matches(_ bytes: ByteBufferView, object: Int, block: Int, version: UInt32) -> Bool {
    var expected = ByteBuffer()
    fill(&expected, object: object, block: block, version: version)
    return bytes.elementsEqual(expected.readableBytesView)
  }

  /// splitmix64's finaliser: cheap, and consecutive inputs give unrelated words.
  public static func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
