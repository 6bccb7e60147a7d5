import Foundation

/// The first of several failures reported from completions on any thread.
final class FirstFailure: @unchecked Sendable {
  private let lock = NSLock()
  private var first: String?

  func set(_ message: String) {
    lock.lock()
    defer { lock.unlock() }
    if first == nil { first = message }
  }

  var message: String? {
    lock.lock()
    defer { lock.unlock() }
    return first
  }
}
