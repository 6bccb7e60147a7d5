import LoligoCore
import NIOCore

/// A client's proposal arriving at this monitor (`MonInput.client`). `payload` is opaque to
/// the core; (`clientId`, `tid`) names the request in the reply.
public struct ClientRequest: Sendable, Equatable {
  public var clientId: UInt64
  public var tid: UInt64
  public var payload: ByteBuffer

  public init(clientId: UInt64, tid: UInt64, payload: ByteBuffer) {
    self.clientId = clientId
    self.tid = tid
    self.payload = payload
  }
}

/// Why a client request got no commit. `notInQuorum`, `busy` and `tooLarge` are definite: the
/// request was not proposed. `interrupted` and `timedOut` are not: it may still commit (a
/// client retrying must tolerate a duplicate, as with Ceph's resent monitor commands).
public enum ClientError: UInt8, Sendable, Equatable {
  case notInQuorum = 1
  case busy = 2
  case tooLarge = 3
  case interrupted = 4
  case timedOut = 5
}

public enum ClientResult: Sendable, Equatable {
  /// The proposal is part of committed `version` (durable on this monitor).
  case committed(version: UInt64)
  case failed(ClientError)
}

/// One answer per request, from the monitor the request arrived at.
public struct ClientReply: Sendable, Equatable {
  public var clientId: UInt64
  public var tid: UInt64
  public var result: ClientResult

  public init(clientId: UInt64, tid: UInt64, result: ClientResult) {
    self.clientId = clientId
    self.tid = tid
    self.result = result
  }
}

/// Peon → leader: a client request that arrived at the peon (Ceph's MForward). The peon
/// answers its client itself once it applies the committed value containing the request.
public struct ClientForward: Sendable, Equatable {
  public var epoch: UInt64
  public var clientId: UInt64
  public var tid: UInt64
  public var payload: ByteBuffer

  public init(epoch: UInt64, clientId: UInt64, tid: UInt64, payload: ByteBuffer) {
    self.epoch = epoch
    self.clientId = clientId
    self.tid = tid
    self.payload = payload
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(epoch)
      $0.writeLE(clientId)
      $0.writeLE(tid)
      $0.writeBlob(payload)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("ClientForward", supported: 1) { inner, _ in
      ClientForward(
        epoch: try inner.readLE(UInt64.self, "epoch"),
        clientId: try inner.readLE(UInt64.self, "client_id"),
        tid: try inner.readLE(UInt64.self, "tid"),
        payload: try inner.readBlob(limit: limits.maxProposalBytes, "payload"))
    }
  }
}

/// Leader → peon: the forwarded request was refused (never proposed) with `error`.
public struct ClientForwardReply: Sendable, Equatable {
  public var clientId: UInt64
  public var tid: UInt64
  public var error: ClientError

  public init(clientId: UInt64, tid: UInt64, error: ClientError) {
    self.clientId = clientId
    self.tid = tid
    self.error = error
  }

  public func encode(to buffer: inout ByteBuffer) {
    buffer.writeVersioned(version: 1, compat: 1) {
      $0.writeLE(clientId)
      $0.writeLE(tid)
      $0.writeLE(error.rawValue)
    }
  }

  public init(from buffer: inout ByteBuffer, limits: MonDecodeLimits) throws {
    self = try buffer.readVersioned("ClientForwardReply", supported: 1) { inner, _ in
      let clientId: UInt64 = try inner.readLE(UInt64.self, "client_id")
      let tid: UInt64 = try inner.readLE(UInt64.self, "tid")
      let raw: UInt8 = try inner.readLE(UInt8.self, "error")
      guard let error = ClientError(rawValue: raw) else {
        throw DecodeError.invalid(field: "error", reason: "unknown client error \(raw)")
      }
      return ClientForwardReply(clientId: clientId, tid: tid, error: error)
    }
  }
}
