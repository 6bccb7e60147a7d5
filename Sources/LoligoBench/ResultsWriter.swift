import Foundation

/// Writes a benchmark's result: one JSON document (schema-versioned) and one per-second CSV.
///
/// Layout: `<results dir>/<UTC timestamp>-<name>/result.json` and `per-second.csv`, or with an
/// explicit JSON path, that file and the CSV beside it (`<path minus .json>.csv`). Files are
/// written to a temporary name and renamed, so a crash never leaves half a result.
public struct ResultsWriter {
  public let jsonURL: URL
  public let csvURL: URL

  /// A new run directory under `resultsDirectory`.
  public init(resultsDirectory: String, name: String, date: Date = Date()) throws {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
    let safeName = name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
    var directory = URL(fileURLWithPath: resultsDirectory)
      .appendingPathComponent("\(formatter.string(from: date))-\(String(safeName))")
    var suffix = 1
    while FileManager.default.fileExists(atPath: directory.path) {
      suffix += 1
      directory = URL(fileURLWithPath: resultsDirectory)
        .appendingPathComponent("\(formatter.string(from: date))-\(String(safeName))-\(suffix)")
    }
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
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

  public func write<T: Encodable>(json value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    var data = try encoder.encode(value)
    data.append(0x0A)
    try atomicWrite(data, to: jsonURL)
  }

  public func write(csvHeader: [String], rows: [[String]]) throws {
    var text = csvHeader.joined(separator: ",") + "\n"
    for row in rows { text += row.joined(separator: ",") + "\n" }
    try atomicWrite(Data(text.utf8), to: csvURL)
  }

  private func atomicWrite(_ data: Data, to url: URL) throws {
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
