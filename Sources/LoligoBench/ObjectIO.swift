import NIOCore

/// What a benchmark needs from a pool. Completions run exactly once, on any thread (possibly
/// the caller's, before the call returns), so callers must not hold a lock while calling.
public protocol ObjectIO: Sendable {
  /// Writes `data` at `offset`, creating the object if needed (rados `aio_write`).
  func write(
    _ object: String, offset: UInt64, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void)
  /// Replaces the whole object with `data` (rados `write_full`).
  func writeFull(
    _ object: String, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void)
  /// Reads up to `length` bytes at `offset`; fewer at the end of the object.
  func read(
    _ object: String, offset: UInt64, length: UInt64,
    completion: @escaping @Sendable (Result<ByteBuffer, ObjectIOError>) -> Void)
  func remove(
    _ object: String, completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void)
  /// Object names in the pool whose name starts with `prefix` (for cleanup without metadata).
  func list(
    prefix: String, completion: @escaping @Sendable (Result<[String], ObjectIOError>) -> Void)

  /// `write` with the crc32c (seed -1) of `data`, which the caller knows: an implementation
  /// may send it instead of computing it.
  func write(
    _ object: String, offset: UInt64, data: ByteBuffer, crc: UInt32,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void)
  /// `read`, with the crc32c (seed -1) of the bytes when the transport checked one on receipt.
  func readWithCRC(
    _ object: String, offset: UInt64, length: UInt64,
    completion:
      @escaping @Sendable (Result<(data: ByteBuffer, crc: UInt32?), ObjectIOError>) ->
      Void)
}

extension ObjectIO {
  public func write(
    _ object: String, offset: UInt64, data: ByteBuffer, crc: UInt32,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    write(object, offset: offset, data: data, completion: completion)
  }

  public func readWithCRC(
    _ object: String, offset: UInt64, length: UInt64,
    completion:
      @escaping @Sendable (Result<(data: ByteBuffer, crc: UInt32?), ObjectIOError>) ->
      Void
  ) {
    read(object, offset: offset, length: length) { completion($0.map { ($0, nil) }) }
  }
}

/// A failed object operation. `code` is a negative errno, as librados returns it.
public struct ObjectIOError: Error, Sendable, Equatable, CustomStringConvertible {
  public var code: Int32
  public var message: String

  public init(code: Int32, message: String) {
    self.code = code
    self.message = message
  }

  /// `-ENOENT`: the object does not exist.
  public static let notFoundCode: Int32 = -2
  /// `-EIO`.
  public static let ioErrorCode: Int32 = -5
  /// ETIMEDOUT: no answer within the client's op timeout.
  public static let timedOutCode: Int32 = -110

  public static func notFound(_ object: String) -> ObjectIOError {
    ObjectIOError(code: notFoundCode, message: "No such file or directory (\(object))")
  }

  public var isNotFound: Bool { code == Self.notFoundCode }

  /// `(2) No such file or directory`, the form of Ceph's `cpp_strerror`.
  public var description: String { "(\(code.magnitude)) \(message)" }
}
