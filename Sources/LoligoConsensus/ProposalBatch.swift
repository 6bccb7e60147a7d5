import LoligoCore
import NIOCore

/// One client proposal inside a committed value, with the rank of the monitor the client sent
/// it to (that monitor replies to the client when it applies the value).
public struct MonProposal: Sendable, Equatable {
  public var origin: Int
  public var clientId: UInt64
  public var tid: UInt64
  public var payload: ByteBuffer

  public init(origin: Int, clientId: UInt64, tid: UInt64, payload: ByteBuffer) {
    self.origin = origin
    self.clientId = clientId
    self.tid = tid
    self.payload = payload
  }
}

/// The value of one paxos version: every client proposal the leader had queued when it
/// proposed, in arrival order. Versioned like every other encoding so it can grow fields.
public struct ProposalBatch: Sendable, Equatable {
  public var proposals: [MonProposal]

  public init(proposals: [MonProposal]) {
    self.proposals = proposals
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeArray(proposals) { buffer, proposal in
        buffer.writeLE(UInt32(proposal.origin))
        buffer.writeLE(proposal.clientId)
        buffer.writeLE(proposal.tid)
        buffer.writeBlob(proposal.payload)
      }
    }
  }

  public func encoded() -> ByteBuffer {
    let size = proposals.reduce(16) { $0 + $1.payload.readableBytes + 24 }
    var buffer = ByteBufferAllocator().buffer(capacity: size)
    encode(to: &buffer)
    return buffer
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    proposals = try buffer.readVersioned("ProposalBatch", supported: 1) { inner, _ in
      try inner.readArray(
        limit: limits.maxBatchProposals, minimumElementSize: 24, "proposals"
      ) { item in
        let origin: UInt32 = try item.readLE(UInt32.self, "origin")
        guard origin < UInt32(MonitorConfig.maxMonitors) else {
          throw DecodeError.invalid(field: "origin", reason: "rank \(origin) out of range")
        }
        return MonProposal(
          origin: Int(origin), clientId: try item.readLE(UInt64.self, "client_id"),
          tid: try item.readLE(UInt64.self, "tid"),
          payload: try item.readBlob(limit: limits.maxProposalBytes, "payload"))
      }
    }
  }

  /// Decodes a committed value; a value that does not decode yields no proposals (it is still
  /// committed and handed to services as bytes).
  static func decode(_ value: ByteBuffer, limits: MonDecodeLimits) -> [MonProposal] {
    var copy = value
    return (try? ProposalBatch(from: &copy, limits: limits).proposals) ?? []
  }
}
