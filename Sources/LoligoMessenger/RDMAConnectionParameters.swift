/// What each end of an RDMA stream tells the other before any SEND: how many receives it grants
/// (credits), how large one receive buffer is, and how many advertised payloads it will pull
/// with RDMA READ at once (0 = no zero-copy towards it). The TCP side channel carries them in
/// its record, rdma_cm in the private data of its connect and accept messages. Both come from
/// the peer, so they are range-checked before anything is sized by them.
struct RDMAConnectionParameters: Equatable, Sendable {
  var credits: Int
  var bufferSize: Int
  var readLimit: Int

  static let creditRange = 4...65536
  static let bufferSizeRange = 4096...(64 << 20)
  static let readLimitRange = 0...4096

  var isValid: Bool {
    Self.creditRange.contains(credits) && Self.bufferSizeRange.contains(bufferSize)
      && Self.readLimitRange.contains(readLimit)
  }
}

/// The private data of rdma_cm's connect, accept and reject messages (32 bytes, little
/// endian; an InfiniBand connect request has room for 56):
///
///     magic "LOLI" | version u8 | kind u8 (1 connect, 2 accept, 3 reject) |
///     reject reason u8 | reserved u8 | credits u32 | receive buffer bytes u32 |
///     zero-copy reads in flight u32 | reserved [12]
///
/// The CM pads private data to its message's size, so a receiver sees at least 32 bytes and
/// reads only those.
enum RDMAPrivateData {
  static let size = 32
  static let magic: [UInt8] = Array("LOLI".utf8)
  static let version: UInt8 = 1

  enum Kind: UInt8 {
    case connect = 1
    case accept = 2
    case reject = 3
  }

  /// Why a server refused a connection request, told to the client in the reject.
  enum RejectReason: UInt8, CustomStringConvertible {
    case malformed = 1
    case noResources = 2
    case wrongDevice = 3
    case shuttingDown = 4

    var description: String {
      switch self {
      case .malformed: return "the connect request was not one it understands"
      case .noResources: return "it has no receive buffers or queue pairs left"
      case .wrongDevice: return "the request arrived on a different RDMA device than it uses"
      case .shuttingDown: return "it is shutting down"
      }
    }
  }

  static func encode(_ kind: Kind, _ parameters: RDMAConnectionParameters) -> [UInt8] {
    var out = header(kind, reason: 0)
    append(UInt32(parameters.credits), to: &out)
    append(UInt32(parameters.bufferSize), to: &out)
    append(UInt32(parameters.readLimit), to: &out)
    out += [UInt8](repeating: 0, count: size - out.count)
    return out
  }

  static func encodeReject(_ reason: RejectReason) -> [UInt8] {
    header(.reject, reason: reason.rawValue) + [UInt8](repeating: 0, count: size - 8)
  }

  /// The peer's parameters from a connect (`kind == .connect`) or accept message, or why not.
  static func decode(
    _ bytes: [UInt8], expecting kind: Kind
  ) throws(RDMATransportError) -> RDMAConnectionParameters {
    try checkHeader(bytes, kind: kind)
    let parameters = RDMAConnectionParameters(
      credits: Int(word(bytes, 8)), bufferSize: Int(word(bytes, 12)),
      readLimit: Int(word(bytes, 16)))
    guard parameters.isValid else {
      throw RDMATransportError(
        "protocol error: rdma_cm private data out of range (credits \(parameters.credits),"
          + " buffer \(parameters.bufferSize) bytes, reads \(parameters.readLimit))")
    }
    return parameters
  }

  /// The reason in a reject from a Loligo server; nil when the bytes are not one.
  static func rejectReason(_ bytes: [UInt8]) -> RejectReason? {
    guard (try? checkHeader(bytes, kind: .reject)) != nil else { return nil }
    return RejectReason(rawValue: bytes[6])
  }

  private static func header(_ kind: Kind, reason: UInt8) -> [UInt8] {
    magic + [version, kind.rawValue, reason, 0]
  }

  private static func checkHeader(_ bytes: [UInt8], kind: Kind) throws(RDMATransportError) {
    guard bytes.count >= size else {
      throw RDMATransportError(
        "protocol error: rdma_cm private data of \(bytes.count) bytes, expected \(size)")
    }
    guard Array(bytes[0..<4]) == magic else {
      throw RDMATransportError("protocol error: the peer is not a Loligo RDMA messenger")
    }
    guard bytes[4] == version else {
      throw RDMATransportError(
        "protocol error: rdma_cm private data version \(bytes[4]), this side speaks \(version)")
    }
    guard bytes[5] == kind.rawValue else {
      throw RDMATransportError(
        "protocol error: rdma_cm private data of kind \(bytes[5]), expected \(kind.rawValue)")
    }
  }

  private static func append(_ value: UInt32, to out: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { out += $0 }
  }

  private static func word(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
      | UInt32(bytes[offset + 3]) << 24
  }
}
