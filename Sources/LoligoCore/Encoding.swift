import NIOCore

/// Ceph-style encoding: little-endian integers, `le32`-length-prefixed blobs and strings,
/// `le32`-counted sequences, and versioned structs (`u8 version, u8 compat, le32 length, body`)
/// so a struct can grow fields without breaking older readers: a reader skips what it does not
/// know and refuses only a struct whose compat version is newer than it understands.
public protocol CephEncodable {
  func encode(to buffer: inout ByteBuffer)
}

public protocol CephDecodable {
  init(from buffer: inout ByteBuffer) throws
}

public typealias CephCodable = CephEncodable & CephDecodable

extension CephEncodable {
  /// The encoding in a fresh buffer.
  public func encoded() -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 64)
    encode(to: &buffer)
    return buffer
  }
}

/// Default bound on blobs and strings decoded without a more specific limit.
public let defaultDecodeLimit = 64 << 20

// MARK: writing

extension ByteBuffer {
  @inlinable
  public mutating func writeLE<T: FixedWidthInteger>(_ value: T) {
    writeInteger(value, endianness: .little)
  }

  @inlinable
  public mutating func writeBool(_ value: Bool) {
    writeInteger(UInt8(value ? 1 : 0))
  }

  /// `le32 length` + bytes.
  @inlinable
  public mutating func writeBlob(_ blob: ByteBuffer) {
    writeLE(UInt32(blob.readableBytes))
    writeImmutableBuffer(blob)
  }

  @inlinable
  public mutating func writeBlob(_ bytes: [UInt8]) {
    writeLE(UInt32(bytes.count))
    writeBytes(bytes)
  }

  /// `le32 length` + UTF-8 bytes, no terminator.
  @inlinable
  public mutating func writeCephString(_ string: String) {
    let lengthIndex = writerIndex
    writeLE(UInt32(0))
    let written = writeString(string)
    setInteger(UInt32(written), at: lengthIndex, endianness: .little)
  }

  @inlinable
  public mutating func writeEncodable<T: CephEncodable>(_ value: T) {
    value.encode(to: &self)
  }

  /// `le32 count` then each element.
  @inlinable
  public mutating func writeArray<T>(_ items: [T], _ element: (inout ByteBuffer, T) -> Void) {
    writeLE(UInt32(items.count))
    for item in items { element(&self, item) }
  }

  @inlinable
  public mutating func writeArray<T: CephEncodable>(_ items: [T]) {
    writeArray(items) { $1.encode(to: &$0) }
  }

  /// A versioned struct: header, then `body`, then the body's length patched into the header.
  @inlinable
  public mutating func writeVersioned(
    version: UInt8, compat: UInt8, _ body: (inout ByteBuffer) -> Void
  ) {
    writeInteger(version)
    writeInteger(compat)
    let lengthIndex = writerIndex
    writeLE(UInt32(0))
    let start = writerIndex
    body(&self)
    setInteger(UInt32(writerIndex - start), at: lengthIndex, endianness: .little)
  }
}

// MARK: reading (bounds-checked; throws DecodeError)

extension ByteBuffer {
  @inlinable
  public mutating func readLE<T: FixedWidthInteger>(
    _ type: T.Type = T.self, _ field: @autoclosure () -> String = "integer"
  ) throws -> T {
    guard let value = readInteger(endianness: .little, as: T.self) else {
      throw DecodeError.truncated(
        field: field(), needed: MemoryLayout<T>.size, available: readableBytes)
    }
    return value
  }

  @inlinable
  public mutating func readBool(_ field: @autoclosure () -> String = "bool") throws -> Bool {
    let byte: UInt8 = try readLE(UInt8.self, field())
    return byte != 0
  }

  /// Takes `length` bytes as a slice (no copy).
  @inlinable
  public mutating func readSliceChecked(
    _ length: Int, _ field: @autoclosure () -> String = "bytes"
  ) throws -> ByteBuffer {
    guard length >= 0, let slice = readSlice(length: length) else {
      throw DecodeError.truncated(field: field(), needed: length, available: readableBytes)
    }
    return slice
  }

  /// Reads a `le32` length and checks it against `limit` and against the bytes left.
  @inlinable
  public mutating func readLength(
    limit: Int, _ field: @autoclosure () -> String = "length"
  ) throws -> Int {
    let length = Int(try readLE(UInt32.self, field()))
    if length > limit {
      throw DecodeError.oversized(field: field(), length: length, limit: limit)
    }
    if length > readableBytes {
      throw DecodeError.truncated(field: field(), needed: length, available: readableBytes)
    }
    return length
  }

  @inlinable
  public mutating func readBlob(
    limit: Int = defaultDecodeLimit, _ field: @autoclosure () -> String = "blob"
  ) throws -> ByteBuffer {
    let length = try readLength(limit: limit, field())
    return try readSliceChecked(length, field())
  }

  @inlinable
  public mutating func readCephString(
    limit: Int = 1 << 16, _ field: @autoclosure () -> String = "string"
  ) throws -> String {
    let length = try readLength(limit: limit, field())
    guard let string = readString(length: length) else {
      throw DecodeError.truncated(field: field(), needed: length, available: readableBytes)
    }
    return string
  }

  /// Reads a `le32` element count. Each element takes at least `minimumElementSize` bytes, so
  /// a count that could not fit in what is left is refused before anything is allocated.
  @inlinable
  public mutating func readCount(
    limit: Int, minimumElementSize: Int = 1, _ field: @autoclosure () -> String = "count"
  ) throws -> Int {
    let count = Int(try readLE(UInt32.self, field()))
    if count > limit {
      throw DecodeError.oversized(field: field(), length: count, limit: limit)
    }
    if count * max(minimumElementSize, 0) > readableBytes {
      throw DecodeError.truncated(
        field: field(), needed: count * minimumElementSize, available: readableBytes)
    }
    return count
  }

  @inlinable
  public mutating func readArray<T>(
    limit: Int, minimumElementSize: Int = 1, _ field: @autoclosure () -> String = "array",
    _ element: (inout ByteBuffer) throws -> T
  ) throws -> [T] {
    let count = try readCount(limit: limit, minimumElementSize: minimumElementSize, field())
    var items: [T] = []
    items.reserveCapacity(count)
    for _ in 0..<count { items.append(try element(&self)) }
    return items
  }

  @inlinable
  public mutating func readArray<T: CephDecodable>(
    limit: Int, minimumElementSize: Int = 1, _ field: @autoclosure () -> String = "array"
  ) throws -> [T] {
    try readArray(limit: limit, minimumElementSize: minimumElementSize, field()) {
      try T(from: &$0)
    }
  }

  /// Reads a versioned struct. `body` gets the struct's own bytes and its version; bytes it
  /// leaves unread (fields added by newer writers) are skipped.
  @inlinable
  public mutating func readVersioned<R>(
    _ structure: String, supported: UInt8, limit: Int = defaultDecodeLimit,
    _ body: (inout ByteBuffer, UInt8) throws -> R
  ) throws -> R {
    let version: UInt8 = try readLE(UInt8.self, "\(structure) version")
    let compat: UInt8 = try readLE(UInt8.self, "\(structure) compat")
    if compat > supported {
      throw DecodeError.incompatible(structure: structure, compat: compat, supported: supported)
    }
    let length = try readLength(limit: limit, "\(structure) length")
    var inner = try readSliceChecked(length, structure)
    return try body(&inner, version)
  }
}
