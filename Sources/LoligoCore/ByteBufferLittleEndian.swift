import NIOCore

// The stores keep counters, versions and epochs as 8 little-endian bytes alone in a value
// (monitor store, OSD omap and RocksDB); this is the one encoder and decoder of that form.
extension ByteBuffer {
  /// A buffer holding just `value`, as 8 little-endian bytes.
  @inlinable
  public init(littleEndian value: UInt64) {
    self = ByteBufferAllocator().buffer(capacity: 8)
    writeInteger(value, endianness: .little)
  }

  /// The first 8 readable bytes as a little-endian `UInt64`, or nil when fewer are readable.
  /// The reader index stays.
  @inlinable
  public var littleEndianUInt64: UInt64? {
    getInteger(at: readerIndex, endianness: .little, as: UInt64.self)
  }
}
