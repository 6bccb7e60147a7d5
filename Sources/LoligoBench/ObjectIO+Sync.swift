import Foundation
import NIOCore

/// Blocking forms of the `ObjectIO` calls for the few one-off operations of a run (metadata,
/// listing), like librados's synchronous calls. Never call them from a thread that completes
/// I/O (an event loop): they wait for the completion.
extension ObjectIO {
  func readSync(_ object: String, offset: UInt64, length: UInt64) -> Result<
    ByteBuffer, ObjectIOError
  > {
    wait { read(object, offset: offset, length: length, completion: $0) }
  }

  func writeFullSync(_ object: String, data: ByteBuffer) -> Result<Void, ObjectIOError> {
    wait { writeFull(object, data: data, completion: $0) }
  }

  func removeSync(_ object: String) -> Result<Void, ObjectIOError> {
    wait { remove(object, completion: $0) }
  }

  func listSync(prefix: String) -> Result<[String], ObjectIOError> {
    wait { list(prefix: prefix, completion: $0) }
  }

  private func wait<T: Sendable>(
    _ start: (@escaping @Sendable (Result<T, ObjectIOError>) -> Void) -> Void
  ) -> Result<T, ObjectIOError> {
    let box = RadosBenchResultBox<Result<T, ObjectIOError>>()
    let semaphore = DispatchSemaphore(value: 0)
    start { result in
      box.set(result)
      semaphore.signal()
    }
    semaphore.wait()
    return box.get()!
  }
}

/// A value handed from a completion thread to a waiting one.
final class RadosBenchResultBox<T: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: T?

  func set(_ newValue: T) {
    lock.lock()
    value = newValue
    lock.unlock()
  }

  func get() -> T? {
    lock.lock()
    defer { lock.unlock() }
    return value
  }
}
