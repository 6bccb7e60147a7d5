import NIOCore

/// What a `write` leaves in the metadata object for `seq`, `rand` and `cleanup`, in rados's
/// layout (24 bytes, little-endian): `u64 object_size, i32 num_ops, i32 pid, u64 op_size`.
///
/// The second field counts ops, as rados has since ceph/ceph#29734 (it counted objects before,
/// which made seq and rand read the wrong ops whenever `-b` differed from the object size).
/// A record of 16 bytes (older rados) has no op size: op size = object size.
public struct RadosBenchMetadata: Sendable, Equatable {
  public var objectSize: UInt64
  public var numOps: Int32
  public var pid: Int32
  public var opSize: UInt64

  /// The length rados asks for when reading the record.
  public static let encodedLength: UInt64 = 24

  public init(objectSize: UInt64, numOps: Int32, pid: Int32, opSize: UInt64) {
    self.objectSize = objectSize
    self.numOps = numOps
    self.pid = pid
    self.opSize = opSize
  }

  public var writesPerObject: UInt64 { max(objectSize / max(opSize, 1), 1) }

  /// Objects the ops occupy: `ceil(num_ops / writes_per_object)`.
  public var numObjects: UInt64 {
    let ops = UInt64(max(numOps, 0))
    return (ops + writesPerObject - 1) / writesPerObject
  }

  public func encoded(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
    var buffer = allocator.buffer(capacity: Int(Self.encodedLength))
    buffer.writeLE(objectSize)
    buffer.writeLE(numOps)
    buffer.writeLE(pid)
    buffer.writeLE(opSize)
    return buffer
  }

  public enum DecodeFailure: Error, Equatable, CustomStringConvertible {
    /// Zero bytes: rados treats an empty metadata object as a missing one.
    case empty
    case corrupt(String)

    public var description: String {
      switch self {
      case .empty: return "empty metadata object"
      case .corrupt(let reason): return "corrupt metadata object: \(reason)"
      }
    }
  }

  public init(decoding bytes: ByteBuffer) throws(DecodeFailure) {
    var buffer = bytes
    guard buffer.readableBytes > 0 else { throw .empty }
    guard let objectSize = buffer.readInteger(endianness: .little, as: UInt64.self),
      let numOps = buffer.readInteger(endianness: .little, as: Int32.self),
      let pid = buffer.readInteger(endianness: .little, as: Int32.self)
    else { throw .corrupt("\(bytes.readableBytes) bytes, need at least 16") }
    let opSize = buffer.readInteger(endianness: .little, as: UInt64.self) ?? objectSize
    guard opSize > 0, objectSize >= opSize else {
      throw .corrupt("op size \(opSize), object size \(objectSize)")
    }
    guard numOps >= 0 else { throw .corrupt("\(numOps) ops") }
    self.init(objectSize: objectSize, numOps: numOps, pid: pid, opSize: opSize)
  }
}
