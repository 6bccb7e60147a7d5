/// The integers of HdrHistogram's V2 counts payload: ZigZag (so small negatives stay short),
/// then LEB128 in at most 9 bytes — 8 of 7 bits with a continuation flag, the 9th carrying
/// the last 8 bits whole.
enum ZigZagLEB128 {
  static func append(_ value: Int64, to bytes: inout [UInt8]) {
    var rest = UInt64(bitPattern: (value << 1) ^ (value >> 63))
    for _ in 0..<8 {
      if rest < 0x80 {
        bytes.append(UInt8(rest))
        return
      }
      bytes.append(UInt8(rest & 0x7F) | 0x80)
      rest >>= 7
    }
    bytes.append(UInt8(rest))
  }

  struct Reader {
    let bytes: ArraySlice<UInt8>
    var position: Int

    init(bytes: ArraySlice<UInt8>) {
      self.bytes = bytes
      position = bytes.startIndex
    }

    /// The next number, or nil at the end; throws when the last one is cut short.
    mutating func next() throws(HdrHistogramDecodingError) -> Int64? {
      guard position < bytes.endIndex else { return nil }
      var raw: UInt64 = 0
      for byteIndex in 0..<9 {
        guard position < bytes.endIndex else { throw .truncated }
        let byte = bytes[position]
        position += 1
        if byteIndex == 8 {
          raw |= UInt64(byte) << 56
          break
        }
        raw |= UInt64(byte & 0x7F) << UInt64(7 * byteIndex)
        if byte & 0x80 == 0 { break }
      }
      return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }
  }
}
