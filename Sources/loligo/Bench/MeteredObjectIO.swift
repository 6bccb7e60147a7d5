import Foundation
import LoligoBench
import LoligoDaemon
import NIOCore

/// An `ObjectIO` that counts what passes through it into `BenchMetrics` (ops, bytes, errors,
/// latency) and otherwise hands every call to `inner`.
struct MeteredObjectIO: ObjectIO {
  let inner: any ObjectIO
  let metrics: BenchMetrics

  private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

  /// Wraps a completion so the op is counted when it finishes.
  private func metered<T>(
    write: Bool, bytes: @escaping @Sendable (T) -> Int,
    _ completion: @escaping @Sendable (Result<T, ObjectIOError>) -> Void
  ) -> @Sendable (Result<T, ObjectIOError>) -> Void {
    let metrics = self.metrics
    let start = Self.now()
    metrics.started.add()
    return { result in
      switch result {
      case .success(let value):
        let elapsed = Self.now() - start
        if write {
          metrics.writes.add()
          metrics.writeBytes.add(UInt64(bytes(value)))
          metrics.writeLatency.record(nanoseconds: elapsed)
        } else {
          metrics.reads.add()
          metrics.readBytes.add(UInt64(bytes(value)))
          metrics.readLatency.record(nanoseconds: elapsed)
        }
      case .failure:
        metrics.errors.add()
      }
      completion(result)
    }
  }

  func write(
    _ object: String, offset: UInt64, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    let size = data.readableBytes
    inner.write(
      object, offset: offset, data: data,
      completion: metered(write: true, bytes: { _ in size }, completion))
  }

  func write(
    _ object: String, offset: UInt64, data: ByteBuffer, crc: UInt32,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    let size = data.readableBytes
    inner.write(
      object, offset: offset, data: data, crc: crc,
      completion: metered(write: true, bytes: { _ in size }, completion))
  }

  func writeFull(
    _ object: String, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    let size = data.readableBytes
    inner.writeFull(
      object, data: data, completion: metered(write: true, bytes: { _ in size }, completion))
  }

  func read(
    _ object: String, offset: UInt64, length: UInt64,
    completion: @escaping @Sendable (Result<ByteBuffer, ObjectIOError>) -> Void
  ) {
    inner.read(
      object, offset: offset, length: length,
      completion: metered(write: false, bytes: { $0.readableBytes }, completion))
  }

  func readWithCRC(
    _ object: String, offset: UInt64, length: UInt64,
    completion:
      @escaping @Sendable (Result<(data: ByteBuffer, crc: UInt32?), ObjectIOError>) -> Void
  ) {
    inner.readWithCRC(
      object, offset: offset, length: length,
      completion: metered(write: false, bytes: { $0.data.readableBytes }, completion))
  }

  func remove(
    _ object: String, completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    inner.remove(object, completion: completion)
  }

  func list(
    prefix: String, completion: @escaping @Sendable (Result<[String], ObjectIOError>) -> Void
  ) {
    inner.list(prefix: prefix, completion: completion)
  }
}
