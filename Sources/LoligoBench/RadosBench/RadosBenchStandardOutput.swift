import Foundation

/// The process's stdout and stderr, written unbuffered line by line so the per-second table
/// shows as it happens even through a pipe, as rados's `std::endl` does.
public final class RadosBenchStandardOutput: RadosBenchOutput, @unchecked Sendable {
  private let lock = NSLock()
  private let formattedHandle: FileHandle

  /// `formattedPath`: the `-o` file for the JSON document, created or truncated now.
  public init(formattedPath: String? = nil) throws(RadosBenchUsageError) {
    guard let formattedPath else {
      formattedHandle = .standardOutput
      return
    }
    guard FileManager.default.createFile(atPath: formattedPath, contents: nil),
      let handle = FileHandle(forWritingAtPath: formattedPath)
    else {
      throw RadosBenchUsageError("cannot open \(formattedPath) for writing")
    }
    formattedHandle = handle
  }

  public func standardOutput(_ line: String) { write(line + "\n", to: .standardOutput) }
  public func standardError(_ line: String) { write(line + "\n", to: .standardError) }
  public func formatted(_ text: String) { write(text, to: formattedHandle) }

  private func write(_ text: String, to handle: FileHandle) {
    lock.lock()
    defer { lock.unlock() }
    handle.write(Data(text.utf8))
  }
}
