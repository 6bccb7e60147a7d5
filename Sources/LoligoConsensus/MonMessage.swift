import LoligoCore
import NIOCore

/// Every monitor-to-monitor message of the consensus core. On the wire: `le16` type tag, then
/// the message's versioned struct (`u8 version, u8 compat, le32 length, body`). The daemon
/// carries the bytes in one messenger message; the sender's rank comes from the connection.
public enum MonMessage: Sendable, Equatable {
  case electionPropose(ElectionPropose)
  case electionAck(ElectionAck)
  case electionVictory(ElectionVictory)
  case paxosCollect(PaxosCollect)
  case paxosLast(PaxosLast)
  case paxosBegin(PaxosBegin)
  case paxosAccept(PaxosAccept)
  case paxosCommit(PaxosCommit)
  case paxosLease(PaxosLease)
  case paxosLeaseAck(PaxosLeaseAck)
  case probe(MonProbe)
  case probeReply(MonProbeReply)
  case syncStart(SyncStart)
  case syncGetChunk(SyncGetChunk)
  case syncChunk(SyncChunk)
  case syncAbort(SyncAbort)
  case clientForward(ClientForward)
  case clientForwardReply(ClientForwardReply)

  /// Wire tags, stable across versions.
  public enum Tag: UInt16, Sendable, CaseIterable {
    case electionPropose = 1
    case electionAck = 2
    case electionVictory = 3
    case paxosCollect = 10
    case paxosLast = 11
    case paxosBegin = 12
    case paxosAccept = 13
    case paxosCommit = 14
    case paxosLease = 15
    case paxosLeaseAck = 16
    case probe = 20
    case probeReply = 21
    case syncStart = 30
    case syncGetChunk = 31
    case syncChunk = 32
    case syncAbort = 33
    case clientForward = 40
    case clientForwardReply = 41
  }

  public var tag: Tag {
    switch self {
    case .electionPropose: return .electionPropose
    case .electionAck: return .electionAck
    case .electionVictory: return .electionVictory
    case .paxosCollect: return .paxosCollect
    case .paxosLast: return .paxosLast
    case .paxosBegin: return .paxosBegin
    case .paxosAccept: return .paxosAccept
    case .paxosCommit: return .paxosCommit
    case .paxosLease: return .paxosLease
    case .paxosLeaseAck: return .paxosLeaseAck
    case .probe: return .probe
    case .probeReply: return .probeReply
    case .syncStart: return .syncStart
    case .syncGetChunk: return .syncGetChunk
    case .syncChunk: return .syncChunk
    case .syncAbort: return .syncAbort
    case .clientForward: return .clientForward
    case .clientForwardReply: return .clientForwardReply
    }
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeLE(tag.rawValue)
    switch self {
    case .electionPropose(let m): m.encode(to: &buffer)
    case .electionAck(let m): m.encode(to: &buffer)
    case .electionVictory(let m): m.encode(to: &buffer)
    case .paxosCollect(let m): m.encode(to: &buffer)
    case .paxosLast(let m): m.encode(to: &buffer)
    case .paxosBegin(let m): m.encode(to: &buffer)
    case .paxosAccept(let m): m.encode(to: &buffer)
    case .paxosCommit(let m): m.encode(to: &buffer)
    case .paxosLease(let m): m.encode(to: &buffer)
    case .paxosLeaseAck(let m): m.encode(to: &buffer)
    case .probe(let m): m.encode(to: &buffer)
    case .probeReply(let m): m.encode(to: &buffer)
    case .syncStart(let m): m.encode(to: &buffer)
    case .syncGetChunk(let m): m.encode(to: &buffer)
    case .syncChunk(let m): m.encode(to: &buffer)
    case .syncAbort(let m): m.encode(to: &buffer)
    case .clientForward(let m): m.encode(to: &buffer)
    case .clientForwardReply(let m): m.encode(to: &buffer)
    }
  }

  public func encoded() -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 64)
    encode(to: &buffer)
    return buffer
  }

  /// Decodes one message; throws `DecodeError` on anything malformed or over `limits` (hostile
  /// bytes never trap). Bytes after the message are left in `buffer`.
  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits = .default) throws {
    let raw: UInt16 = try buffer.readLE(UInt16.self, "message tag")
    guard let tag = Tag(rawValue: raw) else {
      throw DecodeError.invalid(field: "message tag", reason: "unknown monitor message \(raw)")
    }
    switch tag {
    case .electionPropose: self = .electionPropose(try ElectionPropose(from: &buffer))
    case .electionAck: self = .electionAck(try ElectionAck(from: &buffer))
    case .electionVictory: self = .electionVictory(try ElectionVictory(from: &buffer))
    case .paxosCollect: self = .paxosCollect(try PaxosCollect(from: &buffer, limits: limits))
    case .paxosLast: self = .paxosLast(try PaxosLast(from: &buffer, limits: limits))
    case .paxosBegin: self = .paxosBegin(try PaxosBegin(from: &buffer, limits: limits))
    case .paxosAccept: self = .paxosAccept(try PaxosAccept(from: &buffer, limits: limits))
    case .paxosCommit: self = .paxosCommit(try PaxosCommit(from: &buffer, limits: limits))
    case .paxosLease: self = .paxosLease(try PaxosLease(from: &buffer, limits: limits))
    case .paxosLeaseAck: self = .paxosLeaseAck(try PaxosLeaseAck(from: &buffer, limits: limits))
    case .probe: self = .probe(try MonProbe(from: &buffer, limits: limits))
    case .probeReply: self = .probeReply(try MonProbeReply(from: &buffer, limits: limits))
    case .syncStart: self = .syncStart(try SyncStart(from: &buffer, limits: limits))
    case .syncGetChunk: self = .syncGetChunk(try SyncGetChunk(from: &buffer, limits: limits))
    case .syncChunk: self = .syncChunk(try SyncChunk(from: &buffer, limits: limits))
    case .syncAbort: self = .syncAbort(try SyncAbort(from: &buffer, limits: limits))
    case .clientForward: self = .clientForward(try ClientForward(from: &buffer, limits: limits))
    case .clientForwardReply:
      self = .clientForwardReply(try ClientForwardReply(from: &buffer, limits: limits))
    }
  }

  /// Short name for traces.
  public var name: String { String(describing: tag) }
}
