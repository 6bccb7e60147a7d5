import Foundation
import LoligoCore

/// Reading a CRUSH map from disk in either form: Ceph's binary encoding (recognised by its magic
/// number) or the decompiled text.
public enum CrushMapFile {
  public enum LoadError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case text(path: String, CrushTextError)
    case binary(path: String, DecodeError)

    public var description: String {
      switch self {
      case .unreadable(let path, let reason): return "\(path): \(reason)"
      case .text(let path, let error): return "\(path): \(error)"
      case .binary(let path, let error): return "\(path): malformed binary CRUSH map: \(error)"
      }
    }
  }

  /// Largest map file accepted (a map for thousands of devices is well under a megabyte).
  public static let maximumFileSize = 64 << 20

  public static func load(path: String) throws(LoadError) -> CrushMap {
    let data: Data
    do {
      let url = URL(fileURLWithPath: path)
      let size = try url.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
      guard size <= maximumFileSize else {
        throw LoadError.unreadable(path: path, reason: "file larger than \(maximumFileSize) bytes")
      }
      data = try Data(contentsOf: url)
    } catch let error as LoadError {
      throw error
    } catch {
      throw .unreadable(path: path, reason: error.localizedDescription)
    }
    return try parse(Array(data), path: path)
  }

  /// Parses file contents; `path` only labels errors.
  public static func parse(_ bytes: [UInt8], path: String) throws(LoadError) -> CrushMap {
    if CrushBinaryCodec.looksBinary(bytes) {
      do {
        return try CrushBinaryCodec.decode(bytes)
      } catch {
        throw .binary(path: path, error)
      }
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      var line = 1
      for chunk in bytes.split(separator: 0x0a, omittingEmptySubsequences: false) {
        if String(validating: chunk, as: UTF8.self) == nil { break }
        line += 1
      }
      throw .text(path: path, CrushTextError(line: line, "not UTF-8 text (and not a binary map)"))
    }
    do {
      return try CrushTextParser.parse(text)
    } catch {
      throw .text(path: path, error)
    }
  }
}
