/// A JSON value with its keys in the order given, for rados bench's `--format json` document:
/// the keys keep rados's order (people read it), and numbers are JSON numbers, where rados
/// emitted every value as a string.
public indirect enum RadosBenchJSON: Sendable, Equatable {
  case int(Int64)
  case uint(UInt64)
  case double(Double)
  case string(String)
  case bool(Bool)
  case array([RadosBenchJSON])
  case object([(String, RadosBenchJSON)])

  public static func == (lhs: RadosBenchJSON, rhs: RadosBenchJSON) -> Bool {
    lhs.rendered(pretty: false) == rhs.rendered(pretty: false)
  }

  /// Indentation of `json-pretty`, as Ceph's JSON formatter uses.
  static let indentUnit = "    "

  /// Compact (`json`) or indented (`json-pretty`), starting at `depth` levels of indentation.
  public func rendered(pretty: Bool, depth: Int = 0) -> String {
    var text = ""
    render(into: &text, pretty: pretty, depth: depth)
    return text
  }

  func render(into text: inout String, pretty: Bool, depth: Int) {
    switch self {
    case .int(let value): text += String(value)
    case .uint(let value): text += String(value)
    case .double(let value): text += Self.number(value)
    case .string(let value): text += Self.quoted(value)
    case .bool(let value): text += value ? "true" : "false"
    case .array(let items):
      text += "["
      for (index, item) in items.enumerated() {
        if index > 0 { text += "," }
        if pretty { text += "\n" + Self.indent(depth + 1) }
        item.render(into: &text, pretty: pretty, depth: depth + 1)
      }
      if pretty && !items.isEmpty { text += "\n" + Self.indent(depth) }
      text += "]"
    case .object(let members):
      text += "{"
      for (index, (key, value)) in members.enumerated() {
        if index > 0 { text += "," }
        if pretty { text += "\n" + Self.indent(depth + 1) }
        text += Self.member(key, pretty: pretty)
        value.render(into: &text, pretty: pretty, depth: depth + 1)
      }
      if pretty && !members.isEmpty { text += "\n" + Self.indent(depth) }
      text += "}"
    }
  }

  static func indent(_ depth: Int) -> String { String(repeating: indentUnit, count: depth) }

  /// `"key":` or, pretty, `"key": `.
  static func member(_ key: String, pretty: Bool) -> String {
    quoted(key) + (pretty ? ": " : ":")
  }

  /// Shortest text that reads back as the same double; JSON has no infinity or NaN, so those
  /// become null.
  static func number(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    return "\(value)"
  }

  static func quoted(_ string: String) -> String {
    var text = "\""
    for scalar in string.unicodeScalars {
      switch scalar {
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      case "\n": text += "\\n"
      case "\r": text += "\\r"
      case "\t": text += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: text.unicodeScalars.append(scalar)
      }
    }
    return text + "\""
  }
}
