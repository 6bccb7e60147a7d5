import Foundation
import LoligoCore
import LoligoMessages
import LoligoPlacement
import NIOCore

/// Turns the operations of one request into what the store does: reads answered from the store,
/// changes gathered into one transaction (applied the same way on the primary and on each
/// replica, so replicas hold the same bytes).
enum OSDOpExecution {
  /// Largest object an op may create (`osd_max_object_size`, Ceph's default 128 MiB).
  static let maxObjectSize: UInt64 = 128 << 20
  static let maxListEntries: UInt64 = 10_000

  /// What Ceph's OSD answers a write larger than `osd_max_write_size` with: its
  /// `OSD_WRITETOOBIG`, defined as EMSGSIZE (not EFBIG, which is for objects too large).
  static let writeTooBig = -EMSGSIZE

  /// Refuses a request that writes and carries more data than `maxWriteBytes`. As Ceph's
  /// `do_op`, it counts the message's whole data segment, not each op's share of it.
  static func checkWriteSize(_ ops: [OSDOperation], dataLength: Int, maxWriteBytes: Int)
    throws(OSDOpError)
  {
    guard dataLength > maxWriteBytes, ops.contains(where: \.code.isWrite) else { return }
    throw .init(writeTooBig)
  }

  /// The payload of each op, sliced out of the message's data segment in op order.
  static func payloads(_ ops: [OSDOperation], data: ByteBuffer) -> [ByteBuffer] {
    var data = data
    return ops.map { data.readSlice(length: Int($0.payloadLength)) ?? ByteBuffer() }
  }

  /// The store transaction for the write ops of a request; nil when it has none.
  /// Throws an errno-style code for a request that must be refused as a whole. `dataCRC` is
  /// the crc of the message's whole data segment, when known: kept with a write that carries
  /// all of it.
  static func transaction(
    _ ops: [OSDOperation], payloads: [ByteBuffer], pg: PGID, object: ObjectID,
    dataCRC: UInt32? = nil
  ) throws(OSDOpError) -> StoreTransaction? {
    let total = payloads.reduce(0) { $0 + $1.readableBytes }
    var t = StoreTransaction()
    for (op, payload) in zip(ops, payloads) where op.code.isWrite {
      switch op.code {
      case .write:
        // Offset first: a peer's offset near 2^64 would overflow the sum.
        guard op.offset <= maxObjectSize,
          op.offset + UInt64(payload.readableBytes) <= maxObjectSize
        else { throw .init(-27) }
        let crc = payload.readableBytes == total ? dataCRC : nil
        t.append(.write(pg, object, offset: op.offset, data: payload, crc: crc))
      case .writeFull:
        guard UInt64(payload.readableBytes) <= maxObjectSize else { throw .init(-27) }
        let crc = payload.readableBytes == total ? dataCRC : nil
        t.append(.writeFull(pg, object, data: payload, crc: crc))
      case .truncate:
        guard op.offset <= maxObjectSize else { throw .init(-27) }
        t.append(.truncate(pg, object, size: op.offset))
      case .delete:
        t.append(.remove(pg, object))
      case .create:
        t.append(.touch(pg, object))
      case .setXattr:
        guard !op.name.isEmpty, op.name.utf8.count <= 256, payload.readableBytes <= 64 << 10 else {
          throw .init(-22)
        }
        t.append(.setXattr(pg, object, name: op.name, value: payload))
      case .omapSetValues:
        var input = payload
        guard let values = try? decodeMap(&input) else { throw .init(-22) }
        t.append(.setOmap(pg, object, values))
      default:
        throw .init(-22)
      }
    }
    return t.isEmpty ? nil : t
  }

  /// Answers the read ops of a request (in op order), with per-op results and output bytes,
  /// and the output's crc when the store knew it (a single whole-object read).
  /// A listing is corrected by `listing`: objects the copy has yet to recover are added,
  /// those it must remove are left out.
  static func reads(
    _ ops: [OSDOperation], payloads: [ByteBuffer], pg: PGID, object: ObjectID,
    store: any ObjectStore,
    listing: (missing: Set<ObjectID>, removed: Set<ObjectID>) = ([], [])
  ) -> (results: [OSDOpReply.OperationResult], data: ByteBuffer, code: Int32, crc: UInt32?) {
    var results: [OSDOpReply.OperationResult] = []
    var out = ByteBuffer()
    var code: Int32 = 0
    var crc: UInt32?
    for (op, payload) in zip(ops, payloads) {
      var result: Int32 = 0
      var produced = ByteBuffer()
      do throws(StoreError) {
        switch op.code {
        case .read:
          (produced, crc) = try store.readWithCRC(
            pg, object, offset: op.offset, length: op.length == 0 ? nil : op.length)
        case .stat:
          let stat = try store.stat(pg, object)
          produced.writeInteger(stat.size, endianness: .little)
          produced.writeInteger(stat.mtime, endianness: .little)
        case .getXattr:
          produced = try store.xattr(pg, object, op.name)
        case .omapGetValues:
          var input = payload
          let keys = (try? decodeKeys(&input)) ?? []
          produced = encodeMap(try store.omap(pg, object, keys: keys))
        case .listObjects:
          let cursor = op.name.isEmpty ? nil : ObjectID(op.name)
          let limit = Int(min(op.length == 0 ? 1000 : op.length, maxListEntries))
          // Enough from the store that `limit` are left once the removed ones are dropped,
          // so no stored name before the last one returned is skipped.
          let stored =
            store.collectionExists(pg)
            ? try store.list(pg, after: cursor, limit: limit + 1 + listing.removed.count) : []
          let names = Set(
            stored.filter { !PGStore.isReserved($0) && !listing.removed.contains($0) }
              + listing.missing.filter { cursor == nil || $0 > cursor! }
          ).sorted().prefix(limit)
          produced.writeInteger(UInt32(names.count), endianness: .little)
          for name in names { produced.writeCephString(name.name) }
        default:
          break  // writes report 0 here
        }
      } catch {
        result = error.code
        if code == 0 { code = result }
      }
      results.append(.init(result: result, outLength: UInt32(produced.readableBytes)))
      if results.count == 1 {
        out = produced  // the common single read: send the store's bytes without a copy
      } else {
        out.writeImmutableBuffer(produced)
      }
    }
    return (results, out, code, ops.count == 1 ? crc : nil)
  }

  static func encodeMap(_ values: [String: ByteBuffer]) -> ByteBuffer {
    var b = ByteBuffer()
    b.writeInteger(UInt32(values.count), endianness: .little)
    for (key, value) in values.sorted(by: { $0.key < $1.key }) {
      b.writeCephString(key)
      b.writeBlob(value)
    }
    return b
  }

  static func decodeMap(_ b: inout ByteBuffer) throws -> [String: ByteBuffer] {
    let count = try b.readCount(limit: 4096, minimumElementSize: 8, "omap entries")
    var values: [String: ByteBuffer] = [:]
    for _ in 0..<count {
      values[try b.readCephString(limit: 4096, "omap key")] = try b.readBlob(
        limit: 1 << 20, "omap value")
    }
    return values
  }

  static func decodeKeys(_ b: inout ByteBuffer) throws -> [String] {
    try b.readArray(limit: 4096, minimumElementSize: 4, "omap keys") {
      try $0.readCephString(limit: 4096)
    }
  }
}

/// An errno-style refusal of a whole request.
struct OSDOpError: Error {
  let code: Int32
  init(_ code: Int32) { self.code = code }
}
