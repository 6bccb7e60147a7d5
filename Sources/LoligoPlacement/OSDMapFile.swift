import Foundation
import LoligoCore
import NIOCore

/// OSD maps on disk: an 8-byte magic (`loligoOM`) followed by the map's versioned encoding.
/// The magic keeps a CRUSH map, a Ceph osdmap or a JSON dump from being misread as one.
public enum OSDMapFile {
  public static let magic = Array("loligoOM".utf8)

  public enum LoadError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case notAnOSDMap(path: String)
    case malformed(path: String, reason: String)

    public var description: String {
      switch self {
      case .unreadable(let path, let reason): return "\(path): \(reason)"
      case .notAnOSDMap(let path):
        return "\(path): not a Loligo OSD map (create one with `loligo osdmap create` or "
          + "`loligo osdmap import`)"
      case .malformed(let path, let reason): return "\(path): malformed OSD map: \(reason)"
      }
    }
  }

  public static func encode(_ map: OSDMap) -> [UInt8] {
    var buffer = ByteBufferAllocator().buffer(capacity: 4096)
    buffer.writeBytes(magic)
    map.encode(to: &buffer)
    return Array(buffer.readableBytesView)
  }

  public static func decode(_ bytes: [UInt8], path: String = "<input>") throws(LoadError)
    -> OSDMap
  {
    guard bytes.starts(with: magic) else { throw .notAnOSDMap(path: path) }
    var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
    buffer.writeBytes(bytes.dropFirst(magic.count))
    do {
      let map = try OSDMap(from: &buffer)
      guard buffer.readableBytes == 0 else {
        throw DecodeError.invalid(field: "osdmap", reason: "trailing bytes")
      }
      return map
    } catch {
      throw .malformed(path: path, reason: "\(error)")
    }
  }

  public static func load(path: String) throws(LoadError) -> OSDMap {
    let bytes: [UInt8]
    do {
      bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
      throw .unreadable(path: path, reason: error.localizedDescription)
    }
    return try decode(bytes, path: path)
  }

  public static func save(_ map: OSDMap, path: String) throws {
    try Data(encode(map)).write(to: URL(fileURLWithPath: path))
  }
}
