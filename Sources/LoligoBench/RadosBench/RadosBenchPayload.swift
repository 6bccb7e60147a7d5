import Foundation
import LoligoCore
import NIOCore

/// The bytes of op N, as rados bench writes them: `opSize` bytes of `z`, overwritten at the
/// start by `snprintf(buf, opSize, "I'm the %16dth op!", N)` (so a NUL follows the text, and a
/// short op holds a cut-off text and its NUL). Reads compare what comes back with the same.
public struct RadosBenchPayload: Sendable {
  public let opSize: Int
  /// The part that differs between ops: text, NUL and some `z`s. 40 bytes hold the text for
  /// any 64-bit op number, so everything after it is `z` for every op.
  static let variableBytes = 40
  private let filler: [UInt8]
  /// For the checksum of op N without reading it: crc (seed 0) of the `z` tail after the
  /// head, and the shift of a register over that tail's length.
  private let tailCRC: UInt32
  private let tailShift: CRC32C.Shift

  public init(opSize: Int) {
    self.opSize = opSize
    filler = [UInt8](repeating: UInt8(ascii: "z"), count: opSize)
    let tail = max(0, opSize - Self.variableBytes)
    tailCRC = filler.withUnsafeBytes {
      CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<tail]), seed: 0)
    }
    tailShift = CRC32C.Shift(zeroBytes: tail)
  }

  /// crc32c (seed -1, as msgr2 data segments use) of op `index`, from its 40-byte head and
  /// the tail's precomputed part: what a write can send, and what a read's checked crc must be.
  public func crc(for index: UInt64) -> UInt32 { crc(head: head(for: index)) }

  private func crc(head: [UInt8]) -> UInt32 {
    CRC32C.combine(CRC32C.checksum(head, seed: CRC32C.segmentSeed), tailCRC, shift: tailShift)
  }

  /// Whether `buffer` is exactly op `index`. With `crc`, the checksum the transport computed
  /// over the received bytes (and checked against the sender's), the comparison is of the
  /// checksums: the bytes are not read again.
  public func matches(_ buffer: ByteBuffer, crc: UInt32?, index: UInt64) -> Bool {
    guard let crc else { return matches(buffer, index: index) }
    return buffer.readableBytes == opSize && crc == self.crc(for: index)
  }

  /// The first `min(opSize, 40)` bytes of op `index`.
  public func head(for index: UInt64) -> [UInt8] {
    let headLength = min(opSize, Self.variableBytes)
    guard headLength > 0 else { return [] }
    var head = [UInt8](repeating: UInt8(ascii: "z"), count: headLength)
    let number = String(index)
    let padding = String(repeating: " ", count: max(0, 16 - number.count))
    let text = Array("I'm the \(padding)\(number)th op!".utf8)
    // snprintf writes at most opSize - 1 characters and always a terminating NUL.
    let kept = min(text.count, opSize - 1)
    head.replaceSubrange(0..<kept, with: text[0..<kept])
    head[kept] = 0
    return head
  }

  /// A new buffer holding op `index`.
  public func make(for index: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
    var buffer = allocator.buffer(capacity: opSize)
    buffer.writeBytes(filler)
    stamp(&buffer, for: index)
    return buffer
  }

  /// Turns a buffer made by `make` into op `index` by rewriting only its head. If the previous
  /// write still holds the buffer, copy-on-write gives this op its own storage.
  /// Returns the op's crc, from the same head (one formatting per op).
  @discardableResult
  public func stamp(_ buffer: inout ByteBuffer, for index: UInt64) -> UInt32 {
    let head = head(for: index)
    buffer.setBytes(head, at: buffer.readerIndex)
    return crc(head: head)
  }

  /// Whether `buffer` is exactly op `index`.
  public func matches(_ buffer: ByteBuffer, index: UInt64) -> Bool {
    guard buffer.readableBytes == opSize else { return false }
    let head = head(for: index)
    guard !head.isEmpty else { return true }
    return buffer.withUnsafeReadableBytes { raw in
      guard let base = raw.baseAddress else { return opSize == 0 }
      let headEqual = head.withUnsafeBytes { memcmp(base, $0.baseAddress!, head.count) == 0 }
      guard headEqual else { return false }
      let tail = opSize - head.count
      guard tail > 0 else { return true }
      return filler.withUnsafeBytes { memcmp(base + head.count, $0.baseAddress!, tail) == 0 }
    }
  }
}
