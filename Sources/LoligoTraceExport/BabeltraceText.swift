/// Parses the lines `babeltrace2 --clock-seconds --no-delta TRACE` prints:
///
///     [1795327133.931992790] host loligo_msgr:send: { cpu_id = 0 }, { vpid = 19977,
///       vtid = 19979, procname = "NIO-ELT-1-#2" }, { conn = 1, type = 42, tid = 1, length = 4175 }
///
/// (one line each). The text output is what every babeltrace2 install has; its Python bindings
/// are a separate package. The braces are, in order, the stream packet context, the event
/// context (`vpid`, `vtid`, `procname`: what `loligo trace record` adds) and the payload; the
/// last group is the payload, earlier ones are contexts.
public struct BabeltraceTextParser {
  /// Each thread's name (the `procname` context: the thread's comm) by vpid and vtid.
  public private(set) var threadNames: [ThreadID: String] = [:]
  /// Interned event names, so a million events share a handful of strings.
  private var names: [UInt64: [String]] = [:]

  public init() {}

  public mutating func parse(_ line: String) -> TraceEvent? {
    var copy = line
    return copy.withUTF8 { parse($0) }
  }

  public mutating func parse(_ line: UnsafeBufferPointer<UInt8>) -> TraceEvent? {
    var cursor = Cursor(bytes: line)
    guard let time = cursor.timestamp() else { return nil }
    guard let name = cursor.eventName() else { return nil }
    var groups: [[TraceField]] = []
    while let group = cursor.group() { groups.append(group) }
    var vpid: Int32 = 0
    var vtid: Int32 = 0
    var threadName: String?
    var payload: [TraceField] = []
    for (index, group) in groups.enumerated() {
      let isContext =
        index < groups.count - 1
        || (groups.count > 1 && group.contains { $0.name == "vtid" } && vtid == 0)
      guard isContext else {
        payload = group
        continue
      }
      for field in group {
        switch (field.name, field.value) {
        case ("vpid", .int(let value)): vpid = Int32(truncatingIfNeeded: value)
        case ("vtid", .int(let value)): vtid = Int32(truncatingIfNeeded: value)
        case ("procname", .text(let value)): threadName = value
        default: break
        }
      }
    }
    if let threadName, threadNames[ThreadID(vpid: vpid, vtid: vtid)] != threadName {
      threadNames[ThreadID(vpid: vpid, vtid: vtid)] = threadName
    }
    return TraceEvent(
      time: time, name: intern(name, line), vpid: vpid, vtid: vtid, fields: payload)
  }

  private mutating func intern(_ range: Range<Int>, _ line: UnsafeBufferPointer<UInt8>) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for i in range {
      hash = (hash ^ UInt64(line[i])) &* 0x100_0000_01b3
    }
    let bytes = UnsafeBufferPointer(rebasing: line[range])
    if let known = names[hash]?.first(where: { $0.utf8.elementsEqual(bytes) }) { return known }
    let name = String(decoding: bytes, as: UTF8.self)
    names[hash, default: []].append(name)
    return name
  }
}

public struct ThreadID: Hashable, Sendable, Comparable {
  public var vpid: Int32
  public var vtid: Int32

  public init(vpid: Int32, vtid: Int32) {
    self.vpid = vpid
    self.vtid = vtid
  }

  public static func < (a: ThreadID, b: ThreadID) -> Bool {
    (a.vpid, a.vtid) < (b.vpid, b.vtid)
  }
}

/// A read position in one line.
private struct Cursor {
  let bytes: UnsafeBufferPointer<UInt8>
  var index = 0

  init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  var atEnd: Bool { index >= bytes.count }
  var current: UInt8 { bytes[index] }

  mutating func skipSpaces() {
    while !atEnd && (current == UInt8(ascii: " ") || current == UInt8(ascii: ",")) { index += 1 }
  }

  /// `[SECONDS.FRACTION]` in nanoseconds.
  mutating func timestamp() -> UInt64? {
    guard !atEnd, current == UInt8(ascii: "[") else { return nil }
    index += 1
    var seconds: UInt64 = 0
    var nanos: UInt64 = 0
    var digits = 0
    var inFraction = false
    while !atEnd && current != UInt8(ascii: "]") {
      let c = current
      if c == UInt8(ascii: ".") {
        inFraction = true
      } else if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
        if inFraction {
          if digits < 9 {
            nanos = nanos * 10 + UInt64(c - UInt8(ascii: "0"))
            digits += 1
          }
        } else {
          seconds = seconds &* 10 &+ UInt64(c - UInt8(ascii: "0"))
        }
      } else {
        return nil  // not --clock-seconds
      }
      index += 1
    }
    guard !atEnd, inFraction else { return nil }
    index += 1
    while digits < 9 {
      nanos *= 10
      digits += 1
    }
    return seconds &* 1_000_000_000 &+ nanos
  }

  /// The `provider:event:` token after the optional hostname (and delta).
  mutating func eventName() -> Range<Int>? {
    while !atEnd {
      skipSpaces()
      let start = index
      while !atEnd && current != UInt8(ascii: " ") { index += 1 }
      let end = index
      guard end > start else { return nil }
      let token = UnsafeBufferPointer(rebasing: bytes[start..<end])
      if bytes[end - 1] == UInt8(ascii: ":") && token.dropLast().contains(UInt8(ascii: ":")) {
        return start..<(end - 1)
      }
    }
    return nil
  }

  /// One `{ name = value, ... }` group, or nil at the end of the line.
  mutating func group() -> [TraceField]? {
    skipSpaces()
    guard !atEnd, current == UInt8(ascii: "{") else { return nil }
    index += 1
    var fields: [TraceField] = []
    while true {
      skipSpaces()
      if atEnd { return fields }
      if current == UInt8(ascii: "}") {
        index += 1
        return fields
      }
      let keyStart = index
      while !atEnd && current != UInt8(ascii: " ") && current != UInt8(ascii: "=") { index += 1 }
      let key = String(
        decoding: UnsafeBufferPointer(rebasing: bytes[keyStart..<index]), as: UTF8.self)
      while !atEnd && (current == UInt8(ascii: " ") || current == UInt8(ascii: "=")) { index += 1 }
      guard !atEnd else { return fields }
      fields.append(TraceField(key, value()))
    }
  }

  mutating func value() -> TraceField.Value {
    switch current {
    case UInt8(ascii: "\""):
      return .text(quoted())
    case UInt8(ascii: "["):
      let start = index
      if let values = integerArray() { return .ints(values) }
      index = start  // not integers: kept as text, like a struct
      fallthrough
    case UInt8(ascii: "{"), UInt8(ascii: "("):
      let start = index
      skipNested()
      return .text(
        String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    default:
      let start = index
      while !atEnd && current != UInt8(ascii: ",") && current != UInt8(ascii: " ")
        && current != UInt8(ascii: "}")
      {
        index += 1
      }
      let token = UnsafeBufferPointer(rebasing: bytes[start..<index])
      if let number = Cursor.integer(token) { return .int(number) }
      return .text(String(decoding: token, as: UTF8.self))
    }
  }

  /// `[ [0] = 1, [1] = 2 ]` (babeltrace's array and sequence form) as integers, or nil (the
  /// cursor then anywhere inside) when it holds anything else.
  mutating func integerArray() -> [Int64]? {
    index += 1  // [
    var values: [Int64] = []
    while true {
      skipSpaces()
      guard !atEnd else { return nil }
      if current == UInt8(ascii: "]") {
        index += 1
        return values
      }
      // `[i] = value`: the index is the position, which the order already gives.
      guard current == UInt8(ascii: "[") else { return nil }
      while !atEnd && current != UInt8(ascii: "]") { index += 1 }
      guard !atEnd else { return nil }
      index += 1
      while !atEnd && (current == UInt8(ascii: " ") || current == UInt8(ascii: "=")) { index += 1 }
      let start = index
      while !atEnd && current != UInt8(ascii: ",") && current != UInt8(ascii: " ")
        && current != UInt8(ascii: "]")
      {
        index += 1
      }
      guard let value = Cursor.integer(UnsafeBufferPointer(rebasing: bytes[start..<index]))
      else { return nil }
      values.append(value)
    }
  }

  /// A double-quoted string with babeltrace's C-style escapes.
  mutating func quoted() -> String {
    index += 1
    var out: [UInt8] = []
    while !atEnd && current != UInt8(ascii: "\"") {
      if current == UInt8(ascii: "\\") && index + 1 < bytes.count {
        index += 1
        switch current {
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "r"): out.append(0x0D)
        default: out.append(current)
        }
      } else {
        out.append(current)
      }
      index += 1
    }
    if !atEnd { index += 1 }
    return String(decoding: out, as: UTF8.self)
  }

  /// Skips a bracketed value (struct, array, enum), strings inside included.
  mutating func skipNested() {
    var depth = 0
    while !atEnd {
      switch current {
      case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "("): depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ")"): depth -= 1
      case UInt8(ascii: "\""):
        _ = quoted()
        continue
      default: break
      }
      index += 1
      if depth == 0 { return }
    }
  }

  /// Decimal (maybe negative) or `0x` hexadecimal; unsigned values above Int64.max keep
  /// their bit pattern.
  static func integer(_ token: UnsafeBufferPointer<UInt8>) -> Int64? {
    guard !token.isEmpty else { return nil }
    var i = 0
    var negative = false
    if token[0] == UInt8(ascii: "-") {
      negative = true
      i = 1
    }
    var radix: UInt64 = 10
    if token.count >= i + 2 && token[i] == UInt8(ascii: "0")
      && (token[i + 1] == UInt8(ascii: "x") || token[i + 1] == UInt8(ascii: "X"))
    {
      radix = 16
      i += 2
    }
    guard i < token.count else { return nil }
    var value: UInt64 = 0
    while i < token.count {
      let c = token[i]
      let digit: UInt64
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16:
        digit = UInt64(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16:
        digit = UInt64(c - UInt8(ascii: "A") + 10)
      default: return nil
      }
      value = value &* radix &+ digit
      i += 1
    }
    return negative ? -Int64(bitPattern: value) : Int64(bitPattern: value)
  }
}
