/// One named configuration option: its type, limits, default and what it is for.
/// Names follow Ceph's (`ms_type`, `ms_async_op_threads`, ...). Every limit the code enforces
/// is an option here, so a user can find and change it.
public struct ConfigOption: Sendable, Hashable {
  public enum Kind: Sendable, Hashable {
    case int(ClosedRange<Int64>)
    /// A byte count; text may carry K/M/G/T suffixes (powers of 1024) or Ki/Mi/Gi/Ti.
    case size(ClosedRange<Int64>)
    /// A byte count as `size` that must also be a power of two (block sizes).
    case powerOfTwoSize(ClosedRange<Int64>)
    case double(ClosedRange<Double>)
    case bool
    /// One of a fixed set of words; `aliases` map other spellings to them.
    case choice([String], aliases: [String: String])
    case string
  }

  public let name: String
  public let kind: Kind
  public let defaultValue: ConfigValue
  public let help: String

  public init(_ name: String, _ kind: Kind, default value: ConfigValue, _ help: String) {
    self.name = name
    self.kind = kind
    self.defaultValue = value
    self.help = help
  }

  public static func == (a: ConfigOption, b: ConfigOption) -> Bool { a.name == b.name }
  public func hash(into h: inout Hasher) { h.combine(name) }

  /// A short description of the accepted values, for `--help` and `config show`.
  public var typeDescription: String {
    switch kind {
    case .int(let r): return "integer \(r.lowerBound)...\(r.upperBound)"
    case .size(let r): return "size \(r.lowerBound)...\(r.upperBound) bytes (K/M/G suffixes)"
    case .powerOfTwoSize(let r):
      return "power of two \(r.lowerBound)...\(r.upperBound) bytes (K/M/G suffixes)"
    case .double(let r): return "number \(r.lowerBound)...\(r.upperBound)"
    case .bool: return "true|false"
    case .choice(let words, _): return words.joined(separator: "|")
    case .string: return "string"
    }
  }

  /// Parses and checks a textual value (command line, environment).
  public func parse(_ text: String) throws(ConfigError) -> ConfigValue {
    switch kind {
    case .int(let range):
      guard let v = Int64(text) else { throw .badValue(name, text, typeDescription) }
      return try check(.int(v), v, range)
    case .size(let range):
      guard let v = parseSize(text) else { throw .badValue(name, text, typeDescription) }
      return try check(.int(v), v, range)
    case .powerOfTwoSize(let range):
      guard let v = parseSize(text) else { throw .badValue(name, text, typeDescription) }
      return try check(.int(v), v, range)
    case .double(let range):
      guard let v = Double(text), v.isFinite else {
        throw .badValue(name, text, typeDescription)
      }
      guard range.contains(v) else { throw .outOfRange(name, text, typeDescription) }
      return .double(v)
    case .bool:
      switch text.lowercased() {
      case "true", "1", "yes", "on": return .bool(true)
      case "false", "0", "no", "off": return .bool(false)
      default: throw .badValue(name, text, typeDescription)
      }
    case .choice(let words, let aliases):
      let word = aliases[text] ?? text
      guard words.contains(word) else { throw .badValue(name, text, typeDescription) }
      return .string(word)
    case .string:
      return .string(text)
    }
  }

  /// Checks a typed value (from TOML), converting integers given for sizes and doubles.
  public func validate(_ value: ConfigValue) throws(ConfigError) -> ConfigValue {
    switch (kind, value) {
    case (.int(let range), .int(let v)), (.size(let range), .int(let v)),
      (.powerOfTwoSize(let range), .int(let v)):
      return try check(value, v, range)
    case (.size, .string(let s)), (.powerOfTwoSize, .string(let s)):
      return try parse(s)
    case (.double, .int(let v)):
      return try parse(String(v))
    case (.double(let range), .double(let v)):
      guard range.contains(v) else { throw .outOfRange(name, "\(v)", typeDescription) }
      return value
    case (.bool, .bool):
      return value
    case (.choice, .string(let s)), (.string, .string(let s)):
      return try parse(s)
    default:
      throw .badValue(name, value.description, typeDescription)
    }
  }

  private func check(_ value: ConfigValue, _ v: Int64, _ range: ClosedRange<Int64>)
    throws(ConfigError) -> ConfigValue
  {
    guard range.contains(v) else { throw .outOfRange(name, String(v), typeDescription) }
    if case .powerOfTwoSize = kind, v & (v - 1) != 0 {
      throw .badValue(name, String(v), typeDescription)
    }
    return value
  }
}

/// Parses "4096", "4K", "4KiB", "1M", "2G" (powers of 1024). Nil when malformed or overflowing.
public func parseSize(_ text: String) -> Int64? {
  var digits = Substring(text)
  var unit = Substring("")
  if let firstNonDigit = text.firstIndex(where: { !$0.isNumber }) {
    digits = text[..<firstNonDigit]
    unit = text[firstNonDigit...]
  }
  guard let base = Int64(digits) else { return nil }
  let shifts: [String: Int64] = [
    "": 0, "B": 0, "K": 10, "KB": 10, "KIB": 10, "M": 20, "MB": 20, "MIB": 20,
    "G": 30, "GB": 30, "GIB": 30, "T": 40, "TB": 40, "TIB": 40,
  ]
  guard let shift = shifts[unit.uppercased()] else { return nil }
  let (result, overflow) = base.multipliedReportingOverflow(by: 1 << shift)
  return overflow ? nil : result
}

public enum ConfigValue: Sendable, Hashable, CustomStringConvertible {
  case int(Int64)
  case double(Double)
  case bool(Bool)
  case string(String)

  public var description: String {
    switch self {
    case .int(let v): return String(v)
    case .double(let v): return String(v)
    case .bool(let v): return String(v)
    case .string(let v): return v
    }
  }
}

public enum ConfigError: Error, Equatable, CustomStringConvertible {
  case unknownOption(String)
  case badValue(String, String, String)
  case outOfRange(String, String, String)
  case missingValue(String)
  case file(String, String)

  public var description: String {
    switch self {
    case .unknownOption(let name):
      return "unknown config option '\(name)' (see 'loligo config help')"
    case .badValue(let name, let text, let expected):
      return "bad value '\(text)' for \(name): expected \(expected)"
    case .outOfRange(let name, let text, let expected):
      return "value \(text) for \(name) is out of range: expected \(expected)"
    case .missingValue(let name):
      return "option --\(name) needs a value"
    case .file(let path, let reason):
      return "config file \(path): \(reason)"
    }
  }
}
