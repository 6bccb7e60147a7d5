import Foundation
import LoligoBench
import NIOCore

/// A thread-safe in-memory pool. Completions run inline (before the call returns) or later on
/// a queue; `beforeCompletion` runs first (tests advance a manual clock there), and `fault`
/// can fail chosen operations.
final class InMemoryObjectIO: ObjectIO, @unchecked Sendable {
  enum Operation: Equatable {
    case write, writeFull, read, remove, list
  }

  enum Delivery {
    case inline
    case queue(DispatchQueue)
  }

  private let lock = NSLock()
  private var objects: [String: [UInt8]] = [:]
  private var counts: [Operation: Int] = [:]
  private let delivery: Delivery
  private let beforeCompletion: (@Sendable (Operation, String) -> Void)?
  private let fault: (@Sendable (Operation, String) -> ObjectIOError?)?

  init(
    delivery: Delivery = .inline,
    beforeCompletion: (@Sendable (Operation, String) -> Void)? = nil,
    fault: (@Sendable (Operation, String) -> ObjectIOError?)? = nil
  ) {
    self.delivery = delivery
    self.beforeCompletion = beforeCompletion
    self.fault = fault
  }

  // MARK: inspection

  var names: [String] {
    lock.lock()
    defer { lock.unlock() }
    return objects.keys.sorted()
  }

  func bytes(_ name: String) -> [UInt8]? {
    lock.lock()
    defer { lock.unlock() }
    return objects[name]
  }

  func count(_ operation: Operation) -> Int {
    lock.lock()
    defer { lock.unlock() }
    return counts[operation, default: 0]
  }

  func corrupt(_ name: String, at offset: Int) {
    lock.lock()
    defer { lock.unlock() }
    objects[name]?[offset] ^= 0xFF
  }

  func put(_ name: String, _ bytes: [UInt8]) {
    lock.lock()
    defer { lock.unlock() }
    objects[name] = bytes
  }

  // MARK: ObjectIO

  func write(
    _ object: String, offset: UInt64, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    let bytes = Array(data.readableBytesView)
    perform(.write, object, completion) { objects in
      var stored = objects[object] ?? []
      let end = Int(offset) + bytes.count
      if stored.count < end { stored += [UInt8](repeating: 0, count: end - stored.count) }
      stored.replaceSubrange(Int(offset)..<end, with: bytes)
      objects[object] = stored
      return .success(())
    }
  }

  func writeFull(
    _ object: String, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    let bytes = Array(data.readableBytesView)
    perform(.writeFull, object, completion) { objects in
      objects[object] = bytes
      return .success(())
    }
  }

  func read(
    _ object: String, offset: UInt64, length: UInt64,
    completion: @escaping @Sendable (Result<ByteBuffer, ObjectIOError>) -> Void
  ) {
    perform(.read, object, completion) { objects in
      guard let stored = objects[object] else { return .failure(.notFound(object)) }
      let start = min(Int(offset), stored.count)
      let end = min(start + Int(length), stored.count)
      return .success(ByteBuffer(bytes: stored[start..<end]))
    }
  }

  func remove(
    _ object: String, completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    perform(.remove, object, completion) { objects in
      objects.removeValue(forKey: object) == nil ? .failure(.notFound(object)) : .success(())
    }
  }

  func list(
    prefix: String, completion: @escaping @Sendable (Result<[String], ObjectIOError>) -> Void
  ) {
    perform(.list, prefix, completion) { objects in
      .success(objects.keys.filter { $0.hasPrefix(prefix) }.sorted())
    }
  }

  private func perform<T: Sendable>(
    _ operation: Operation, _ object: String,
    _ completion: @escaping @Sendable (Result<T, ObjectIOError>) -> Void,
    _ body: @escaping @Sendable (inout [String: [UInt8]]) -> Result<T, ObjectIOError>
  ) {
    let work: @Sendable () -> Void = { [self] in
      let result: Result<T, ObjectIOError>
      lock.lock()
      counts[operation, default: 0] += 1
      if let error = fault?(operation, object) {
        result = .failure(error)
      } else {
        result = body(&objects)
      }
      lock.unlock()
      beforeCompletion?(operation, object)
      completion(result)
    }
    switch delivery {
    case .inline: work()
    case .queue(let queue): queue.async(execute: work)
    }
  }
}

/// A clock that moves only when told to.
final class ManualClock: RadosBenchClock, @unchecked Sendable {
  private let lock = NSLock()
  private var nanoseconds: UInt64 = 0

  func now() -> UInt64 {
    lock.lock()
    defer { lock.unlock() }
    return nanoseconds
  }

  func advance(by delta: UInt64) {
    lock.lock()
    nanoseconds += delta
    lock.unlock()
  }
}

/// Collects what a run prints.
final class CapturedOutput: RadosBenchOutput, @unchecked Sendable {
  private let lock = NSLock()
  private var outLines: [String] = []
  private var errLines: [String] = []
  private var formattedText = ""

  func standardOutput(_ line: String) { locked { outLines.append(line) } }
  func standardError(_ line: String) { locked { errLines.append(line) } }
  func formatted(_ text: String) { locked { formattedText += text } }

  var stdout: [String] { locked { outLines } }
  var stderr: [String] { locked { errLines } }
  var document: String { locked { formattedText } }
  var stdoutText: String { stdout.map { $0 + "\n" }.joined() }

  private func locked<T>(_ body: () -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }
}

enum BenchTest {
  static let hostname = "testhost"
  static let pid: Int32 = 4242
  static let time = "2026-01-01 00:00:00.000000"

  /// Fixed host, pid, time and seed; rows printed by the engine, so with a clock that the I/O
  /// advances the whole output is deterministic.
  static func environment(clock: any RadosBenchClock) -> RadosBenchEnvironment {
    RadosBenchEnvironment(
      clock: clock, hostname: hostname, pid: pid, localTime: { time }, randomSeed: 42,
      reporting: .inline)
  }

  /// A pool whose every op takes `opTime` nanoseconds of `clock` time.
  static func pool(clock: ManualClock, opTime: UInt64 = 100_000_000) -> InMemoryObjectIO {
    InMemoryObjectIO(beforeCompletion: { _, _ in clock.advance(by: opTime) })
  }

  static func options(
    _ mode: RadosBenchMode, seconds: Int = 2,
    _ configure: (inout RadosBenchArguments) -> Void =
      { _ in }
  ) throws -> RadosBenchOptions {
    var arguments = RadosBenchArguments(seconds: String(seconds), mode: mode.rawValue)
    configure(&arguments)
    return try RadosBenchOptions(parsing: arguments)
  }

  static func run(
    _ io: any ObjectIO, _ options: RadosBenchOptions, clock: any RadosBenchClock
  ) -> (RadosBenchReport, CapturedOutput) {
    let output = CapturedOutput()
    let report = RadosBench(
      io: io, options: options, environment: environment(clock: clock), output: output
    ).run()
    return (report, output)
  }

  static func objectName(_ number: Int, pid: Int32 = pid) -> String {
    "benchmark_data_\(hostname)_\(pid)_object\(number)"
  }
}
