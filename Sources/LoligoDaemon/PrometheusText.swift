import Foundation

/// Prometheus' text exposition format, version 0.0.4: each metric family is a `# HELP` line, a
/// `# TYPE` line and its samples, one per line. Counters are named `..._total`; a histogram is
/// its cumulative `_bucket{le="..."}` samples ending with `le="+Inf"`, then `_sum` and `_count`.
/// Families must not repeat, so each is written whole, once.
public struct PrometheusText: Sendable {
  public enum Kind: String, Sendable { case counter, gauge, histogram }
  public typealias Labels = [(name: String, value: String)]

  /// The media type scrapers expect for this format.
  public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

  public private(set) var text = ""
  private var families: Set<String> = []

  public init() {}

  /// Starts a family; a second family of the same name is a programming error.
  public mutating func family(_ name: String, _ kind: Kind, help: String) {
    let name = Self.metricName(name)
    precondition(families.insert(name).inserted, "metric family \(name) written twice")
    text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
  }

  /// One sample line of the family just started (or of its `_bucket`/`_sum`/`_count` series).
  public mutating func sample(_ name: String, _ labels: Labels = [], _ value: Double) {
    text += Self.metricName(name)
    if !labels.isEmpty {
      text += "{"
      text += labels.map { "\(Self.labelName($0.name))=\"\(Self.escapeLabel($0.value))\"" }
        .joined(separator: ",")
      text += "}"
    }
    text += " \(Self.format(value))\n"
  }

  /// A counter family with one sample; `name` ends in `_total`.
  public mutating func counter(_ name: String, help: String, _ value: UInt64) {
    family(name, .counter, help: help)
    sample(name, [], Double(value))
  }

  /// A gauge family with one sample.
  public mutating func gauge(_ name: String, help: String, _ value: Double) {
    family(name, .gauge, help: help)
    sample(name, [], value)
  }

  /// A gauge family with one sample per label set.
  public mutating func gauge(_ name: String, help: String, _ samples: [(Labels, Double)]) {
    family(name, .gauge, help: help)
    for (labels, value) in samples { sample(name, labels, value) }
  }

  /// A histogram family: `bounds` are the buckets' upper bounds (ascending, without +Inf),
  /// `counts` the observations per bucket, not cumulative, with one more for beyond the last
  /// bound. The count is the buckets' total, so `le="+Inf"` and `_count` always agree.
  public mutating func histogram(
    _ name: String, help: String, bounds: [Double], counts: [UInt64], sum: Double
  ) {
    precondition(counts.count == bounds.count + 1, "one count per bucket plus the overflow")
    family(name, .histogram, help: help)
    var cumulative: UInt64 = 0
    for (index, bound) in bounds.enumerated() {
      cumulative &+= counts[index]
      sample(name + "_bucket", [("le", Self.format(bound))], Double(cumulative))
    }
    cumulative &+= counts[bounds.count]
    sample(name + "_bucket", [("le", "+Inf")], Double(cumulative))
    sample(name + "_sum", [], sum)
    sample(name + "_count", [], Double(cumulative))
  }

  /// Integers without a fraction; non-finite values as the format spells them.
  static func format(_ value: Double) -> String {
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
  }

  /// `[a-zA-Z_:][a-zA-Z0-9_:]*`: anything else becomes `_`.
  static func metricName(_ name: String) -> String {
    sanitized(name, allowColon: true)
  }

  static func labelName(_ name: String) -> String { sanitized(name, allowColon: false) }

  private static func sanitized(_ name: String, allowColon: Bool) -> String {
    var result = ""
    for (index, scalar) in name.unicodeScalars.enumerated() {
      let letter = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
      let digit = ("0"..."9").contains(scalar)
      let allowed = letter || (allowColon && scalar == ":") || (digit && index > 0)
      result.unicodeScalars.append(allowed ? scalar : "_")
    }
    return result.isEmpty ? "_" : result
  }

  /// Label values escape backslash, double quote and newline.
  static func escapeLabel(_ value: String) -> String {
    value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      .replacingOccurrences(of: "\n", with: "\\n")
  }

  /// Help text escapes backslash and newline.
  static func escapeHelp(_ value: String) -> String {
    value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
  }
}
