/// Why a peer's bytes were refused. Any of these closes that connection with a logged reason.
public enum FrameError: Error, Equatable, CustomStringConvertible {
  case badBanner(String)
  case badPreambleCRC(expected: UInt32, actual: UInt32)
  case badSegmentCRC(segment: Int, expected: UInt32, actual: UInt32)
  case badSegmentCount(Int)
  case oversizeSegment(segment: Int, length: UInt32, limit: Int)
  case emptyLastSegment
  case unknownTag(UInt8)
  case badLateStatus(UInt8)
  case unexpectedFrame(FrameTag, state: String)
  case badPayload(FrameTag, String)

  public var description: String {
    switch self {
    case .badBanner(let why): return "bad banner: \(why)"
    case .badPreambleCRC(let e, let a):
      return "bad preamble crc: computed \(hex(e)), frame says \(hex(a))"
    case .badSegmentCRC(let s, let e, let a):
      return "bad crc on segment \(s): computed \(hex(e)), frame says \(hex(a))"
    case .badSegmentCount(let n): return "bad segment count \(n) (must be 1...4)"
    case .oversizeSegment(let s, let l, let limit):
      return "segment \(s) of \(l) bytes exceeds limit \(limit)"
    case .emptyLastSegment: return "last segment is empty"
    case .unknownTag(let t): return "unknown frame tag \(t)"
    case .badLateStatus(let s): return "bad late status 0x\(String(s, radix: 16))"
    case .unexpectedFrame(let tag, let state): return "unexpected \(tag) frame in state \(state)"
    case .badPayload(let tag, let why): return "malformed \(tag) payload: \(why)"
    }
  }
}

private func hex(_ v: UInt32) -> String { "0x" + String(v, radix: 16) }
