import Foundation
import LoligoBench
import LoligoClient
import LoligoCore
import NIOCore

/// Object I/O on a pool of a running cluster, for `loligo bench` and `cleanup`: an `IoCtx`
/// behind the benchmark's `ObjectIO` protocol.
enum ClusterIO {
  static func open(conf: String?, pool: String) throws -> (any ObjectIO, close: () -> Void) {
    try open(config: ClusterClient.config(path: conf), pool: pool)
  }

  static func open(config: Config, pool: String) throws -> (any ObjectIO, close: () -> Void) {
    var config = config
    // One I/O thread: every OSD session on it, so a completion's next op is sent where it runs.
    try? config.set("ms_async_op_threads", "1")
    let objecter = try Objecter(config: config)
    do {
      let ioctx = try IoCtx(objecter: objecter, pool: pool)
      try waitForPrimaries(objecter, pool: ioctx.pool, name: pool)
      return (PoolIO(ioctx: ioctx), { objecter.shutdown() })
    } catch {
      objecter.shutdown()
      throw ClusterError("\(error)")
    }
  }
}

extension ClusterIO {
  /// How long a bench waits for every PG of its pool to have an OSD serving it before it gives
  /// up with a clear message (instead of each op waiting out client_op_timeout).
  static let primaryWait: Double = 10

  /// Returns once every PG of the pool has an acting primary in the client's map; throws a
  /// message that says what is missing when that does not happen within `primaryWait`.
  static func waitForPrimaries(_ objecter: Objecter, pool: Int64, name: String) throws {
    let deadline = Date().addingTimeInterval(primaryWait)
    var map = try objecter.waitForMap()
    while true {
      let mappings = (try? map.mapAllPGs(pool: pool)) ?? []
      let unserved = mappings.filter { $0.actingPrimary < 0 }.count
      if unserved == 0 { return }
      guard Date() < deadline else {
        let up = (0..<map.maxOSD).filter { map.isUp($0) }.count
        throw ClusterError(
          "pool '\(name)': \(unserved) of \(mappings.count) placement groups have no OSD up to "
            + "serve them (\(up) of \(map.maxOSD) OSDs up, osdmap epoch \(map.epoch)); start "
            + "the OSDs ('loligo cluster up', 'loligo-osd --id N') or see 'loligo osd tree'")
      }
      map = (try? objecter.waitForMap(atLeast: map.epoch + 1, timeout: .milliseconds(500))) ?? map
    }
  }
}

struct PoolIO: ObjectIO {
  let ioctx: IoCtx

  static func convert(_ error: IoCtxError, _ object: String) -> ObjectIOError {
    error == .noObject
      ? .notFound(object) : ObjectIOError(code: error.code, message: error.description)
  }

  func write(
    _ object: String, offset: UInt64, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    ioctx.write(object, offset: offset, data: data) {
      completion($0.mapError { Self.convert($0, object) })
    }
  }

  func write(
    _ object: String, offset: UInt64, data: ByteBuffer, crc: UInt32,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    ioctx.write(object, offset: offset, data: data, dataCRC: crc) {
      completion($0.mapError { Self.convert($0, object) })
    }
  }

  func readWithCRC(
    _ object: String, offset: UInt64, length: UInt64,
    completion:
      @escaping @Sendable (Result<(data: ByteBuffer, crc: UInt32?), ObjectIOError>) ->
      Void
  ) {
    ioctx.readWithCRC(object, offset: offset, length: length) {
      completion($0.mapError { Self.convert($0, object) })
    }
  }

  func writeFull(
    _ object: String, data: ByteBuffer,
    completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    ioctx.writeFull(object, data: data) { completion($0.mapError { Self.convert($0, object) }) }
  }

  func read(
    _ object: String, offset: UInt64, length: UInt64,
    completion: @escaping @Sendable (Result<ByteBuffer, ObjectIOError>) -> Void
  ) {
    ioctx.read(object, offset: offset, length: length) {
      completion($0.mapError { Self.convert($0, object) })
    }
  }

  func remove(
    _ object: String, completion: @escaping @Sendable (Result<Void, ObjectIOError>) -> Void
  ) {
    ioctx.remove(object) { completion($0.mapError { Self.convert($0, object) }) }
  }

  func list(
    prefix: String, completion: @escaping @Sendable (Result<[String], ObjectIOError>) -> Void
  ) {
    ioctx.list(prefix: prefix) { completion($0.mapError { Self.convert($0, "") }) }
  }
}
