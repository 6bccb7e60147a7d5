import NIOConcurrencyHelpers

/// Bounds the bytes of received messages held by dispatchers (`ms_dispatch_throttle_bytes`).
/// A connection that pushes the total over the limit stops reading; it resumes when released
/// messages bring the total back under.
final class DispatchThrottle: @unchecked Sendable {  // state under `lock`
  let limit: Int
  private let lock = NIOLock()
  private var current = 0
  private var waiting: [Connection] = []

  init(limit: Int) { self.limit = limit }

  /// Takes `bytes`; false when the connection must pause reading (it is then woken later).
  func take(_ bytes: Int, pausing connection: Connection) -> Bool {
    lock.withLock {
      current += bytes
      if current <= limit { return true }
      waiting.append(connection)
      return false
    }
  }

  func release(_ bytes: Int) {
    let wake: [Connection] = lock.withLock {
      current -= bytes
      guard current <= limit, !waiting.isEmpty else { return [] }
      defer { waiting.removeAll() }
      return waiting
    }
    for connection in wake { connection.resumeReading() }
  }

  var inUse: Int { lock.withLock { current } }
}
