import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// One packet header on a soft-verbs wire: 32 bytes, four little-endian words.
///
///     word 0: opcode (8) | flags (8) | status (16) | payload length (32)
///     word 1: sequence number of the request (or the one answered)
///     word 2: remote address (RDMA WRITE/READ)
///     word 3: rkey (32) | immediate data, or the READ length (32)
struct SoftPacket {
  enum Opcode: UInt8 {
    case send = 1
    case write, readRequest, readResponse, ack, nak, hello
  }

  static let size = 32
  /// No payload is larger (a verbs message is at most 2 GiB).
  static let maxPayload: UInt32 = 1 << 31
  static let hasImmediate: UInt8 = 1

  var opcode: UInt8
  var flags: UInt8 = 0
  var status: UInt16 = 0
  var length: UInt32
  var seq: UInt64 = 0
  var remoteAddress: UInt64 = 0
  var rkey: UInt32 = 0
  var immediate: UInt32 = 0

  init(opcode: Opcode, length: UInt32) {
    self.opcode = opcode.rawValue
    self.length = length
  }

  init(words: (UInt64, UInt64, UInt64, UInt64)) {
    opcode = UInt8(truncatingIfNeeded: words.0)
    flags = UInt8(truncatingIfNeeded: words.0 >> 8)
    status = UInt16(truncatingIfNeeded: words.0 >> 16)
    length = UInt32(truncatingIfNeeded: words.0 >> 32)
    seq = words.1
    remoteAddress = words.2
    rkey = UInt32(truncatingIfNeeded: words.3)
    immediate = UInt32(truncatingIfNeeded: words.3 >> 32)
  }

  var opcodeValue: Opcode? { Opcode(rawValue: opcode) }

  var words: (UInt64, UInt64, UInt64, UInt64) {
    (
      (UInt64(opcode) | UInt64(flags) << 8 | UInt64(status) << 16 | UInt64(length) << 32)
        .littleEndian,
      seq.littleEndian, remoteAddress.littleEndian,
      (UInt64(rkey) | UInt64(immediate) << 32).littleEndian
    )
  }
}

/// A packet waiting to be written: its header, and payload read from registered memory (which
/// the verbs contract keeps valid until the request completes).
struct SoftOut {
  var header: (UInt64, UInt64, UInt64, UInt64)
  var payload: UnsafeRawPointer?
  var length: Int
  var isRequest: Bool
  /// Bytes of header and payload already written.
  var sent = 0

  init(header: SoftPacket, payload: UnsafeRawPointer?, length: Int, isRequest: Bool) {
    self.header = header.words
    self.payload = payload
    self.length = length
    self.isRequest = isRequest
  }
}

/// One wire between two queue pairs: a non-blocking Unix stream socket with its input state
/// machine and output queue. Used only under the device's lock.
final class SoftLink {
  let fd: Int32
  var qp: SoftQueuePair?
  var createdAt: Double = 0
  var closed = false
  var closeWhenFlushed = false
  var helloDone = false
  var peerGID = VerbsGID.zero
  var peerQPN: UInt32 = 0
  var localQPN: UInt32 = 0
  let helloBytes = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 8)

  // Responder state.
  var lastProcessed: UInt64 = 0
  var lastAcked: UInt64 = 0
  /// A SEND header waiting for a receive to be posted, and since when.
  var pending: SoftPacket?
  var rnrWaiting: Double?

  // Input.
  static let inCapacity = 64 << 10
  private let inbuf = UnsafeMutableRawPointer.allocate(
    byteCount: SoftLink.inCapacity, alignment: 16)
  private var inStart = 0
  private var inEnd = 0
  var readFailed = false
  private var payloadTarget: UnsafeMutableRawPointer?
  var payloadRemaining = 0
  private var keepSmall = false
  var smallPayload: [UInt8] = []
  var onPayloadDone: (() -> Void)?

  // Output.
  private var out = SoftFIFO<SoftOut>()
  var wantWrite = false
  private static let batch = 32
  private let headerSlots = UnsafeMutableRawPointer.allocate(
    byteCount: SoftLink.batch * SoftPacket.size, alignment: 16)
  private let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: SoftLink.batch * 2)

  init(fd: Int32) {
    self.fd = fd
    SoftLink.tune(fd)
  }

  deinit {
    inbuf.deallocate()
    headerSlots.deallocate()
    iovecs.deallocate()
    helloBytes.deallocate()
  }

  /// Larger socket buffers: fewer wake-ups for bulk transfers.
  static func tune(_ fd: Int32) {
    var size: Int32 = 1 << 20
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
  }

  // MARK: output

  func enqueue(_ item: SoftOut) { out.append(item) }

  func dropUnsentRequests() { out.removeAll { $0.isRequest && $0.sent == 0 } }

  enum WriteResult { case done, blocked, failed }

  /// Writes queued packets with as few system calls as possible.
  func writeOut() -> WriteResult {
    while !out.isEmpty {
      var count = 0
      var items = 0
      while items < out.count && items < SoftLink.batch {
        let item = out[items]
        let slot = headerSlots + items * SoftPacket.size
        withUnsafeBytes(of: item.header) { slot.copyMemory(from: $0.baseAddress!, byteCount: 32) }
        if item.sent < SoftPacket.size {
          iovecs[count] = iovec(iov_base: slot + item.sent, iov_len: SoftPacket.size - item.sent)
          count += 1
        }
        let payloadSent = max(0, item.sent - SoftPacket.size)
        if let payload = item.payload, payloadSent < item.length {
          iovecs[count] = iovec(
            iov_base: UnsafeMutableRawPointer(mutating: payload + payloadSent),
            iov_len: item.length - payloadSent)
          count += 1
        }
        items += 1
      }
      var message = msghdr()
      message.msg_iov = iovecs
      message.msg_iovlen = count
      let written = sendmsg(fd, &message, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
      if written < 0 {
        if errno == EINTR { continue }
        return errno == EAGAIN || errno == EWOULDBLOCK ? .blocked : .failed
      }
      var left = written
      while left > 0, var item = out.first {
        let total = SoftPacket.size + item.length
        let take = min(left, total - item.sent)
        item.sent += take
        left -= take
        if item.sent == total {
          _ = out.popFirst()
        } else {
          out[0] = item
        }
      }
    }
    return .done
  }

  // MARK: input

  /// The next header, or nil when no whole header is available (`readFailed` tells EOF or
  /// error from "try later").
  func readHeader() -> SoftPacket? {
    while inEnd - inStart < SoftPacket.size {
      if inStart > 0 {
        let available = inEnd - inStart
        if available > 0 { inbuf.copyMemory(from: inbuf + inStart, byteCount: available) }
        inEnd = available
        inStart = 0
      }
      let got = Glibc.read(fd, inbuf + inEnd, SoftLink.inCapacity - inEnd)
      if got > 0 {
        inEnd += got
      } else if got == 0 {
        readFailed = true
        return nil
      } else if errno == EINTR {
        continue
      } else {
        readFailed = errno != EAGAIN && errno != EWOULDBLOCK
        return nil
      }
    }
    let base = inbuf + inStart
    let words = (
      UInt64(littleEndian: base.loadUnaligned(as: UInt64.self)),
      UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
      UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
      UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    )
    inStart += SoftPacket.size
    return SoftPacket(words: words)
  }

  /// Expects `count` payload bytes next: into `target`, or discarded when it is nil; with
  /// `keepSmall` they are also kept in `smallPayload` (HELLO).
  func startPayload(into target: UnsafeMutableRawPointer?, count: Int, keepSmall: Bool = false) {
    payloadTarget = target
    payloadRemaining = count
    self.keepSmall = keepSmall
    smallPayload.removeAll()
  }

  enum ReadResult { case progress, wouldBlock, failed }

  func readPayload() -> ReadResult {
    let available = inEnd - inStart
    if available > 0 {
      let n = min(available, payloadRemaining)
      if let target = payloadTarget {
        target.copyMemory(from: inbuf + inStart, byteCount: n)
        payloadTarget = target + n
      }
      if keepSmall {
        smallPayload += UnsafeRawBufferPointer(start: inbuf + inStart, count: n)
      }
      inStart += n
      payloadRemaining -= n
      return .progress
    }
    inStart = 0
    inEnd = 0
    // Large payloads go straight from the socket into registered memory.
    let direct = payloadRemaining >= 16 << 10 && payloadTarget != nil && !keepSmall
    let got =
      direct
      ? Glibc.read(fd, payloadTarget!, payloadRemaining)
      : Glibc.read(fd, inbuf, SoftLink.inCapacity)
    if got > 0 {
      if direct {
        payloadTarget! += got
        payloadRemaining -= got
      } else {
        inEnd = got
      }
      return .progress
    }
    if got == 0 {
      readFailed = true
      return .failed
    }
    if errno == EINTR { return .progress }
    if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
    readFailed = true
    return .failed
  }
}

extension SoftFIFO {
  mutating func removeAll(where predicate: (Element) -> Bool) {
    var kept = SoftFIFO()
    while let item = popFirst() {
      if !predicate(item) { kept.append(item) }
    }
    self = kept
  }
}
