import Foundation

/// Writes a benchmark's result: one JSON document (schema-versioned) and one per-second CSV.
///
/// Layout: `result.json` and `per-second.csv` in the directory `ResultsLocation` names (a new
/// `<results dir>/<UTC timestamp>-<name>/`, or a profile step's), or with an explicit JSON
/// path, that file and the CSV beside it (`<path minus .json>.csv`). Files are written to a
/// temporary name and renamed, so a crash never leaves half a result.
public struct ResultsWriter {
  public let jsonURL: URL
  public let csvURL: URL

  public init(_ location: ResultsLocation, name: String, date: Date = Date()) throws {
    let directory: URL
    switch location {
    case .newRunDirectory(let parent):
      directory = try Self.newRunDirectory(under: parent, name: name, date: date)
    case .directory(let path):
      directory = URL(fileURLWithPath: path)
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }
    jsonURL = directory.appendingPathComponent("result.json")
    csvURL = directory.appendingPathComponent("per-second.csv")
  }

  /// Exactly the given JSON path, CSV beside it.
  public init(jsonPath: String) throws {
    jsonURL = URL(fileURLWithPath: jsonPath)
    let base = jsonURL.pathExtension == "json" ? jsonURL.deletingPathExtension() : jsonURL
    csvURL = base.appendingPathExtension("csv")
    try FileManager.default.createDirectory(
      at: jsonURL.deletingLastPathComponent(), withIntermediateDirectories: true)
  }

  /// Creates `<parent>/<UTC timestamp>-<name>/` (`-2`, `-3`, ... when it exists: two runs in
  /// one second) and returns it. Characters other than letters, digits, `-` and `_` in `name`
  /// become `_`.
  public static func newRunDirectory(under parent: String, name: String, date: Date = Date())
    throws -> URL
  {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
    let safeName = name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
    let base = "\(formatter.string(from: date))-\(String(safeName))"
    try FileManager.default.createDirectory(
      at: URL(fileURLWithPath: parent), withIntermediateDirectories: true)
    var suffix = 1
    while true {
      let directory = URL(fileURLWithPath: parent)
        .appendingPathComponent(suffix == 1 ? base : "\(base)-\(suffix)")
      // mkdir(2) without intermediates fails on an existing directory: two runs started in the
      // same second never share one.
      if mkdir(directory.path, 0o755) == 0 { return directory }
      guard errno == EEXIST else {
        throw CocoaError(
          .fileWriteUnknown,
          userInfo: [
            NSFilePathErrorKey: directory.path, "reason": String(cString: strerror(errno)),
          ])
      }
      suffix += 1
    }
  }

  public func write<T: Encodable>(json value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var data = try encoder.encode(value)
    data.append(0x0A)
    try Self.atomicWrite(data, to: jsonURL)
  }

  public func write(csvHeader: [String], rows: [[String]]) throws {
    var text = csvHeader.joined(separator: ",") + "\n"
    for row in rows { text += row.joined(separator: ",") + "\n" }
    try Self.atomicWrite(Data(text.utf8), to: csvURL)
  }

  /// Writes `data` to a temporary name beside `url`, then renames it over `url`.
  public static func atomicWrite(_ data: Data, to url: URL) throws {
    let temporary = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    try data.write(to: temporary)
    // rename(2) replaces the old file atomically.
    guard rename(temporary.path, url.path) == 0 else {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temporary)
      throw CocoaError(
        .fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, "reason": reason])
    }
  }
}
