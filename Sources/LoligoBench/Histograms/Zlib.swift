import CZlib

/// zlib streams (RFC 1950) in memory: what HdrHistogram's compressed encoding wraps.
enum Zlib {
  enum Failure: Error, Equatable {
    /// The stream is damaged or not zlib at all.
    case corrupt
    /// The input ended before the stream did.
    case truncated
    /// Inflating would produce more than the caller allows.
    case tooLarge
  }

  /// `bytes` compressed at zlib's default level.
  static func compress(_ bytes: [UInt8]) -> [UInt8] {
    var capacity = compressBound(uLong(bytes.count))
    var output = [UInt8](repeating: 0, count: Int(capacity))
    let status = output.withUnsafeMutableBufferPointer { out in
      bytes.withUnsafeBufferPointer { input in
        compress2(
          out.baseAddress, &capacity, input.baseAddress, uLong(input.count),
          Z_DEFAULT_COMPRESSION)
      }
    }
    // compressBound is enough by zlib's contract; anything else is a broken library.
    precondition(status == Z_OK, "zlib compress2 failed: \(status)")
    output.removeSubrange(Int(capacity)...)
    return output
  }

  /// The inflated contents of the zlib stream `bytes`, never more than `limit` bytes: input
  /// comes from files anyone may have written. Bytes after the stream's end are ignored.
  static func inflate(_ bytes: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
    var stream = z_stream()
    guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
    else { throw .corrupt }
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    let chunk = 64 * 1024
    var buffer = [UInt8](repeating: 0, count: chunk)
    var input = bytes
    let inputCount = input.count
    return try input.withUnsafeMutableBufferPointer { (source) throws(Failure) -> [UInt8] in
      stream.next_in = source.baseAddress
      stream.avail_in = uInt(inputCount)
      while true {
        let status = buffer.withUnsafeMutableBufferPointer { out in
          stream.next_out = out.baseAddress
          stream.avail_out = uInt(chunk)
          return CZlib.inflate(&stream, Z_NO_FLUSH)
        }
        let produced = chunk - Int(stream.avail_out)
        guard output.count + produced <= limit else { throw .tooLarge }
        output.append(contentsOf: buffer[..<produced])
        switch status {
        case Z_STREAM_END: return output
        case Z_OK: continue
        // No progress possible: with input left that would be a zlib bug, without it the
        // stream was cut short.
        case Z_BUF_ERROR: throw stream.avail_in == 0 ? .truncated : .corrupt
        default: throw .corrupt
        }
      }
    }
  }
}
