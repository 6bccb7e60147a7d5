import Foundation
import LoligoConsensus
import LoligoKV
import NIOCore

/// The monitor store on RocksDB: each (prefix, key) pair is the RocksDB key `prefix NUL key`,
/// so a prefix's keys stay together and in bytewise order. Every transaction is one atomic,
/// synced RocksDB write: a Paxos step the core asked to persist survives a crash before any
/// message that depends on it is sent.
final class RocksMonStore: MonStore, Sendable {
  let db: RocksDB

  init(db: RocksDB) { self.db = db }

  static func key(_ prefix: String, _ key: String) -> [UInt8] {
    Array(prefix.utf8) + [0] + Array(key.utf8)
  }

  func get(prefix: String, key: String) -> ByteBuffer? {
    (try? db.get(Self.key(prefix, key)))?.map { ByteBuffer(bytes: $0) } ?? nil
  }

  func scan(prefix: String, after: String?, limit: Int) -> [MonStoreEntry] {
    RocksMonStore.scan(prefix: prefix, after: after, limit: limit) { start, count, accept in
      (try? db.scan(from: start, limit: count, while: accept)) ?? []
    }
  }

  static func scan(
    prefix: String, after: String?, limit: Int,
    _ read: ([UInt8], Int, ([UInt8]) -> Bool) -> [(key: [UInt8], value: [UInt8])]
  ) -> [MonStoreEntry] {
    let head = Array(prefix.utf8) + [0]
    // Strictly after `after`: start at after + NUL, the next possible key.
    let start = after.map { head + Array($0.utf8) + [0] } ?? head
    return read(start, limit) { $0.starts(with: head) }.map {
      MonStoreEntry(
        key: String(decoding: $0.key[head.count...], as: UTF8.self),
        value: ByteBuffer(bytes: $0.value))
    }
  }

  func snapshot() -> any MonStoreReader {
    guard let snapshot = try? RocksDBSnapshot(of: db) else { return self }
    return RocksMonStoreSnapshot(snapshot: snapshot)
  }

  func apply(_ transaction: MonStoreTransaction) throws {
    try apply(transaction, sync: true)
  }

  /// `sync: false` is for writes that a later synced write makes durable in order (RocksDB's
  /// log is sequential) and that can be rebuilt if lost: the services' state, which Paxos
  /// replays from the kept versions.
  func apply(_ transaction: MonStoreTransaction, sync: Bool) throws {
    var t = KVTransaction()
    for op in transaction.ops {
      switch op {
      case .put(let prefix, let key, let value):
        t.put(Self.key(prefix, key), Array(value.readableBytesView))
      case .delete(let prefix, let key):
        t.delete(Self.key(prefix, key))
      case .deletePrefix(let prefix):
        t.deleteRange(from: Array(prefix.utf8) + [0], to: Array(prefix.utf8) + [1])
      }
    }
    try db.apply(t, sync: sync)
  }
}

final class RocksMonStoreSnapshot: MonStoreReader, Sendable {
  let view: RocksDBSnapshot

  init(snapshot: RocksDBSnapshot) { self.view = snapshot }

  func get(prefix: String, key: String) -> ByteBuffer? {
    (try? view.get(RocksMonStore.key(prefix, key)))?.map { ByteBuffer(bytes: $0) } ?? nil
  }

  func scan(prefix: String, after: String?, limit: Int) -> [MonStoreEntry] {
    RocksMonStore.scan(prefix: prefix, after: after, limit: limit) { start, count, accept in
      (try? view.scan(from: start, limit: count, while: accept)) ?? []
    }
  }

  func snapshot() -> any MonStoreReader { self }
}
