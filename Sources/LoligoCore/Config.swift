import Foundation
import TOMLKit

/// The effective configuration of one process: defaults, then a cluster TOML file, then
/// command-line overrides, each value remembering where it came from.
///
/// File layout (Ceph-like sections): options in `[global]` apply everywhere; a section named
/// for the entity type (`[osd]`) or the entity (`[osd.3]`) overrides them for that entity.
/// Other top-level tables (cluster layout written by `loligo cluster up`) are left to their readers.
public struct Config: Sendable {
  private var values: [String: ConfigValue] = [:]
  private var origins: [String: String] = [:]

  public init() {}

  public subscript(option: ConfigOption) -> ConfigValue {
    values[option.name] ?? option.defaultValue
  }

  public func origin(of option: ConfigOption) -> String {
    origins[option.name] ?? "default"
  }

  public func int(_ option: ConfigOption) -> Int {
    guard case .int(let v) = self[option] else {
      preconditionFailure("\(option.name) is not an integer")
    }
    return Int(v)
  }

  public func double(_ option: ConfigOption) -> Double {
    switch self[option] {
    case .double(let v): return v
    case .int(let v): return Double(v)
    default: preconditionFailure("\(option.name) is not a number")
    }
  }

  public func bool(_ option: ConfigOption) -> Bool {
    guard case .bool(let v) = self[option] else {
      preconditionFailure("\(option.name) is not a bool")
    }
    return v
  }

  public func string(_ option: ConfigOption) -> String {
    guard case .string(let v) = self[option] else {
      preconditionFailure("\(option.name) is not a string")
    }
    return v
  }

  /// Sets an option from text, validating it.
  public mutating func set(_ name: String, _ text: String, origin: String = "command line")
    throws(ConfigError)
  {
    guard let option = ConfigOption.named(name) else { throw .unknownOption(name) }
    values[option.name] = try option.parse(text)
    origins[option.name] = origin
  }

  public mutating func set(_ option: ConfigOption, _ value: ConfigValue, origin: String = "code")
    throws(ConfigError)
  {
    values[option.name] = try option.validate(value)
    origins[option.name] = origin
  }

  /// Reads options from a TOML file: `[global]`, then `[<type>]`, then `[<type>.<id>]`.
  public mutating func load(file path: String, entity: String? = nil) throws(ConfigError) {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw .file(path, "cannot read: \(error.localizedDescription)")
    }
    try load(toml: text, origin: path, entity: entity)
  }

  public mutating func load(toml text: String, origin: String, entity: String? = nil)
    throws(ConfigError)
  {
    let table: TOMLTable
    do {
      table = try TOMLTable(string: text)
    } catch let error as TOMLParseError {
      throw .file(origin, "line \(error.source.begin.line): \(error.description)")
    } catch {
      throw .file(origin, "\(error)")
    }
    // `[osd.3]` in TOML is the table "3" inside "osd"; `["osd.3"]` is one key. Accept both.
    var sections: [(name: String, table: TOMLTable?)] = [("global", table["global"]?.table)]
    if let entity {
      if let dot = entity.firstIndex(of: ".") {
        let type = String(entity[..<dot])
        let id = String(entity[entity.index(after: dot)...])
        sections.append((type, table[type]?.table))
        sections.append((entity, table[type]?.table?[id]?.table ?? table[entity]?.table))
      } else {
        sections.append((entity, table[entity]?.table))
      }
    }
    for (section, options) in sections {
      guard let options else { continue }
      for (key, raw) in options {
        if raw.table != nil { continue }  // a per-entity section nested in a type section
        guard let option = ConfigOption.named(key) else {
          throw .file(origin, "[\(section)] \(ConfigError.unknownOption(key))")
        }
        let value: ConfigValue
        if let b = raw.bool {
          value = .bool(b)
        } else if let i = raw.int {
          value = .int(Int64(i))
        } else if let d = raw.double {
          value = .double(d)
        } else if let s = raw.string {
          value = .string(s)
        } else {
          throw .file(origin, "[\(section)] \(key): unsupported value type")
        }
        do {
          try set(option, value, origin: "\(origin) [\(section)]")
        } catch {
          throw .file(origin, "[\(section)] \(error)")
        }
      }
    }
  }

  /// Takes Ceph-style option overrides (`--ms_type tcp`, `--ms-crc-data=false`) out of a
  /// command line, leaving the rest for the tool's own parser.
  public mutating func extractOverrides(from arguments: [String]) throws(ConfigError) -> [String] {
    var rest: [String] = []
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      guard argument.hasPrefix("--"), argument.count > 2 else {
        rest.append(argument)
        continue
      }
      let body = argument.dropFirst(2)
      let name: String
      var value: String?
      if let eq = body.firstIndex(of: "=") {
        name = String(body[..<eq])
        value = String(body[body.index(after: eq)...])
      } else {
        name = String(body)
      }
      guard ConfigOption.named(name) != nil else {
        rest.append(argument)
        continue
      }
      if value == nil {
        guard index < arguments.count else { throw .missingValue(name) }
        value = arguments[index]
        index += 1
      }
      try set(name, value!)
    }
    return rest
  }

  /// A string option with Ceph-style metavariables expanded for `entity` (`osd.3`):
  /// `$name` (osd.3), `$type` (osd), `$id` (3), `$run_dir` (the run_dir option).
  public func path(_ option: ConfigOption, entity: String) -> String {
    var text = string(option)
    let type = entity.split(separator: ".").first.map(String.init) ?? entity
    let id = entity.split(separator: ".", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
    if option != .runDir { text = text.replacingOccurrences(of: "$run_dir", with: string(.runDir)) }
    return text.replacingOccurrences(of: "$name", with: entity)
      .replacingOccurrences(of: "$type", with: type)
      .replacingOccurrences(of: "$id", with: id)
  }

  /// Every option with its effective value and where it came from.
  public func dump() -> [(option: ConfigOption, value: ConfigValue, origin: String)] {
    ConfigOption.all.map { ($0, self[$0], origin(of: $0)) }
  }
}
