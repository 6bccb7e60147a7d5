import Foundation

/// Names of the objects a bench run creates, exactly as rados bench forms them, so a later
/// `seq`, `rand` or `cleanup` (ours or rados's) finds what a `write` left:
/// `benchmark_data_<hostname>_<pid>_object<N>`, and the metadata object
/// `benchmark_last_metadata` (or `--run-name`).
public struct RadosBenchNaming: Sendable, Equatable {
  public static let prefixBase = "benchmark_data"
  public static let defaultMetadataObject = "benchmark_last_metadata"
  /// rados reads the hostname into a 30-byte buffer and terminates it, keeping 29 bytes.
  public static let maxHostnameBytes = 29

  public let hostname: String

  public init(hostname: String) {
    self.hostname = Self.truncated(hostname)
  }

  /// `benchmark_data_<hostname>`: what `cleanup` searches for without metadata.
  public var prefixWithoutPID: String { "\(Self.prefixBase)_\(hostname)" }

  /// `benchmark_data_<hostname>_<pid>`.
  public func prefix(pid: Int32) -> String { "\(prefixWithoutPID)_\(pid)" }

  public func objectName(_ objectNumber: UInt64, pid: Int32) -> String {
    "\(prefix(pid: pid))_object\(objectNumber)"
  }

  public static func metadataObject(runName: String?) -> String {
    guard let runName, !runName.isEmpty else { return defaultMetadataObject }
    return runName
  }

  /// This machine's hostname as `gethostname` reports it, truncated as rados truncates it.
  public static func currentHostname() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return truncated(String(decoding: bytes, as: UTF8.self))
  }

  /// The first 29 bytes, cut back to a whole UTF-8 character (hostnames are ASCII in practice).
  static func truncated(_ name: String) -> String {
    var bytes = Array(name.utf8.prefix(maxHostnameBytes))
    while String(validating: bytes, as: UTF8.self) == nil { bytes.removeLast() }
    return String(decoding: bytes, as: UTF8.self)
  }
}
