import Foundation
import LoligoMessages
import LoligoPlacement
import NIOCore

/// Object operations on one pool (and namespace), as librados's IoCtx offers them: each call
/// completes once, on a client thread; `…Sync` forms wait (tools; never on an event loop).
public struct IoCtx: Sendable {
  public let objecter: Objecter
  public let pool: Int64
  public let poolName: String
  public var namespace: String

  /// The pool named `name` in the current map (waits for the first map).
  public init(objecter: Objecter, pool name: String, namespace: String = "") throws {
    let map = try objecter.waitForMap()
    guard let id = map.poolID(named: name) else { throw IoCtxError.noPool(name) }
    self.objecter = objecter
    self.pool = id
    self.poolName = name
    self.namespace = namespace
  }

  public typealias Done = @Sendable (Result<Void, IoCtxError>) -> Void

  static let maxObjectName = OSDOp.maxObjectName

  private func check(_ object: String) -> IoCtxError? {
    if object.isEmpty { return .invalid("empty object name") }
    if object.utf8.count > Self.maxObjectName {
      return .invalid("object name longer than \(Self.maxObjectName) bytes")
    }
    return nil
  }

  private func run(
    _ object: String, _ operations: [OSDOperation], data: ByteBuffer = ByteBuffer(),
    dataCRC: UInt32? = nil,
    completion: @escaping @Sendable (Result<Objecter.OSDResult, IoCtxError>) -> Void
  ) {
    if let error = check(object) { return completion(.failure(error)) }
    objecter.submit(
      pool: pool, object: object, namespace: namespace, operations: operations, data: data,
      dataCRC: dataCRC
    ) {
      result in
      switch result {
      case .success(let reply) where reply.result == 0: completion(.success(reply))
      case .success(let reply): completion(.failure(IoCtxError(code: reply.result)))
      case .failure(let error): completion(.failure(.client(error)))
      }
    }
  }

  /// Writes `data` at `offset`. `dataCRC` as for `writeFull`.
  public func write(
    _ object: String, offset: UInt64 = 0, data: ByteBuffer, dataCRC: UInt32? = nil,
    completion: @escaping Done
  ) {
    let op = OSDOperation(
      code: .write, offset: offset, length: UInt64(data.readableBytes),
      payloadLength: UInt32(data.readableBytes))
    run(object, [op], data: data, dataCRC: dataCRC) { completion($0.map { _ in () }) }
  }

  /// Replaces the object's content. `dataCRC`, when the caller knows it, is crc32c (seed -1)
  /// of `data`: sent as is instead of being computed (a wrong one fails the write).
  public func writeFull(
    _ object: String, data: ByteBuffer, dataCRC: UInt32? = nil, completion: @escaping Done
  ) {
    let op = OSDOperation(
      code: .writeFull, offset: 0, length: UInt64(data.readableBytes),
      payloadLength: UInt32(data.readableBytes))
    run(object, [op], data: data, dataCRC: dataCRC) { completion($0.map { _ in () }) }
  }

  /// Reads `length` bytes from `offset` (0 = to the end).
  public func read(
    _ object: String, offset: UInt64 = 0, length: UInt64 = 0,
    completion: @escaping @Sendable (Result<ByteBuffer, IoCtxError>) -> Void
  ) {
    run(object, [OSDOperation(code: .read, offset: offset, length: length)]) { result in
      completion(result.map { $0.output(0) })
    }
  }

  /// A read that also gives the crc32c (seed -1) of the bytes, as the messenger checked it on
  /// receipt (nil when data crcs are off), so a caller can verify content without reading it.
  public func readWithCRC(
    _ object: String, offset: UInt64 = 0, length: UInt64 = 0,
    completion: @escaping @Sendable (Result<(data: ByteBuffer, crc: UInt32?), IoCtxError>) -> Void
  ) {
    run(object, [OSDOperation(code: .read, offset: offset, length: length)]) { result in
      completion(
        result.map { reply in
          let data = reply.output(0)
          return (data, data.readableBytes == reply.data.readableBytes ? reply.dataCRC : nil)
        })
    }
  }

  public func stat(
    _ object: String,
    completion: @escaping @Sendable (Result<(size: UInt64, mtime: Date), IoCtxError>) -> Void
  ) {
    run(object, [OSDOperation(code: .stat, offset: 0, length: 0)]) { result in
      completion(
        result.flatMap { reply in
          var out = reply.output(0)
          guard let size = out.readInteger(endianness: .little, as: UInt64.self),
            let mtime = out.readInteger(endianness: .little, as: UInt64.self)
          else { return .failure(.invalid("short stat reply")) }
          return .success((size, Date(timeIntervalSince1970: Double(mtime) / 1e9)))
        })
    }
  }

  public func remove(_ object: String, completion: @escaping Done) {
    run(object, [OSDOperation(code: .delete, offset: 0, length: 0)]) {
      completion($0.map { _ in () })
    }
  }

  public func setXattr(
    _ object: String, name: String, value: ByteBuffer, completion: @escaping Done
  ) {
    let op = OSDOperation(
      code: .setXattr, offset: 0, length: UInt64(value.readableBytes),
      payloadLength: UInt32(value.readableBytes), name: name)
    run(object, [op], data: value) { completion($0.map { _ in () }) }
  }

  public func getXattr(
    _ object: String, name: String,
    completion: @escaping @Sendable (Result<ByteBuffer, IoCtxError>) -> Void
  ) {
    run(object, [OSDOperation(code: .getXattr, offset: 0, length: 0, name: name)]) {
      completion($0.map { $0.output(0) })
    }
  }

  public func setOmap(_ object: String, _ values: [String: ByteBuffer], completion: @escaping Done)
  {
    var payload = ByteBuffer()
    payload.writeInteger(UInt32(values.count), endianness: .little)
    for (key, value) in values.sorted(by: { $0.key < $1.key }) {
      payload.writeCephString(key)
      payload.writeBlob(value)
    }
    let op = OSDOperation(
      code: .omapSetValues, offset: 0, length: 0, payloadLength: UInt32(payload.readableBytes))
    run(object, [op], data: payload) { completion($0.map { _ in () }) }
  }

  /// Every object name in the pool (this namespace), listing PG by PG.
  public func list(
    prefix: String = "", completion: @escaping @Sendable (Result<[String], IoCtxError>) -> Void
  ) {
    guard let map = objecter.osdMap, let pool = map.pool(self.pool) else {
      return completion(.failure(.noPool(poolName)))
    }
    let collector = ListCollector(pgs: Int(pool.pgNum), prefix: prefix, completion: completion)
    for seed in 0..<pool.pgNum { listPG(seed, after: "", collector) }
  }

  private func listPG(_ seed: UInt32, after cursor: String, _ collector: ListCollector) {
    let page: UInt64 = 1000
    objecter.submit(
      pool: pool, object: "", namespace: namespace,
      operations: [OSDOperation(code: .listObjects, offset: 0, length: page, name: cursor)],
      listSeed: seed
    ) { result in
      switch result {
      case .success(let reply) where reply.result == 0:
        var out = reply.output(0)
        let count = Int(out.readInteger(endianness: .little, as: UInt32.self) ?? 0)
        var names: [String] = []
        for _ in 0..<count {
          if let name = try? out.readCephString(limit: 4096) { names.append(name) }
        }
        collector.add(names)
        if UInt64(count) == page, let last = names.last {
          self.listPG(seed, after: last, collector)
        } else {
          collector.pgDone(nil)
        }
      case .success(let reply): collector.pgDone(IoCtxError(code: reply.result))
      case .failure(let error): collector.pgDone(.client(error))
      }
    }
  }

  // MARK: waiting forms

  public func sync<T: Sendable>(
    _ body: (@escaping @Sendable (Result<T, IoCtxError>) -> Void) -> Void
  ) throws -> T {
    let box = SyncBox<T>()
    body { box.set($0) }
    return try box.wait().get()
  }
}

/// Gathers the pages of a pool listing.
final class ListCollector: @unchecked Sendable {  // state under `lock`
  private let lock = NSLock()
  private var remaining: Int
  private var names: [String] = []
  private var error: IoCtxError?
  private let prefix: String
  private let completion: @Sendable (Result<[String], IoCtxError>) -> Void

  init(
    pgs: Int, prefix: String, completion: @escaping @Sendable (Result<[String], IoCtxError>) -> Void
  ) {
    remaining = pgs
    self.prefix = prefix
    self.completion = completion
    if pgs == 0 { completion(.success([])) }
  }

  func add(_ more: [String]) {
    lock.withLock { names += more.filter { $0.hasPrefix(prefix) } }
  }

  func pgDone(_ failure: IoCtxError?) {
    let done: Result<[String], IoCtxError>? = lock.withLock {
      if let failure, error == nil { error = failure }
      remaining -= 1
      guard remaining == 0 else { return nil }
      if let error { return .failure(error) }
      return .success(names.sorted())
    }
    if let done { completion(done) }
  }
}

final class SyncBox<T: Sendable>: @unchecked Sendable {  // `value` under `condition`
  private let condition = NSCondition()
  private var value: Result<T, IoCtxError>?

  func set(_ result: Result<T, IoCtxError>) {
    condition.lock()
    value = result
    condition.broadcast()
    condition.unlock()
  }

  func wait() -> Result<T, IoCtxError> {
    condition.lock()
    while value == nil { condition.wait() }
    let result = value!
    condition.unlock()
    return result
  }
}

public enum IoCtxError: Error, CustomStringConvertible, Equatable {
  case noPool(String)
  case noObject
  case invalid(String)
  case osd(Int32)
  case client(ObjecterError)

  init(code: Int32) {
    self = code == -2 ? .noObject : .osd(code)
  }

  /// The errno-style code (negative).
  public var code: Int32 {
    switch self {
    case .noPool, .noObject: return -2
    case .invalid: return -22
    case .osd(let code): return code
    case .client(.timedOut): return -110
    case .client: return -5
    }
  }

  public var description: String {
    switch self {
    case .noPool(let name): return "pool '\(name)' does not exist"
    case .noObject: return "no such object"
    case .invalid(let why): return "invalid argument: \(why)"
    case .osd(-28):
      // What a full cluster answers a write (Ceph's full flag): say so, not just the errno.
      return "No space left on device (28): the cluster is full (see loligo df, loligo health)"
    case .osd(let code): return "OSD error \(code) (\(String(cString: strerror(-code))))"
    case .client(let error): return "\(error)"
    }
  }
}
