import Foundation
import LoligoCore
import LoligoWire
import NIOCore

/// The monitor map: which monitors make up the cluster, by name and address. A monitor's rank
/// is its position in the map sorted by address (as in Ceph), and the lowest rank among the
/// monitors that answer an election wins it.
public struct MonMap: Sendable, Equatable {
  public static let version: UInt8 = 1
  public static let maxMonitors = 64

  public struct Entry: Sendable, Equatable {
    public var name: String
    public var addr: EntityAddr
    public init(name: String, addr: EntityAddr) {
      self.name = name
      self.addr = addr
    }
  }

  public var fsid: UUID
  public var epoch: UInt32
  /// In rank order.
  public private(set) var monitors: [Entry]

  public init(fsid: UUID, epoch: UInt32 = 1, monitors: [Entry]) {
    self.fsid = fsid
    self.epoch = epoch
    self.monitors = MonMap.ranked(monitors)
  }

  static func ranked(_ entries: [Entry]) -> [Entry] {
    entries.sorted { a, b in
      if a.addr.ip != b.addr.ip { return a.addr.ip.lexicographicallyPrecedes(b.addr.ip) }
      return (a.addr.port, a.name) < (b.addr.port, b.name)
    }
  }

  /// Parses `mon_host`: `a=127.0.0.1:6789,b=127.0.0.1:6790` (names are required).
  public init(fsid: UUID, monHost: String) throws(MonMapError) {
    var entries: [Entry] = []
    for item in monHost.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
    where !item.isEmpty {
      guard let eq = item.firstIndex(of: "=") else {
        throw .malformed("'\(item)' is not NAME=IP:PORT")
      }
      let name = String(item[..<eq])
      guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
      else { throw .malformed("bad monitor name '\(name)'") }
      do {
        entries.append(
          Entry(name: name, addr: try EntityAddr(parsing: String(item[item.index(after: eq)...]))))
      } catch {
        throw .malformed("\(error)")
      }
    }
    guard !entries.isEmpty else { throw .malformed("mon_host names no monitor") }
    guard Set(entries.map(\.name)).count == entries.count else {
      throw .malformed("duplicate monitor name")
    }
    guard entries.count <= MonMap.maxMonitors else {
      throw .malformed("more than \(MonMap.maxMonitors) monitors")
    }
    self.init(fsid: fsid, monitors: entries)
  }

  public func rank(of name: String) -> Int? { monitors.firstIndex { $0.name == name } }
  public func name(ofRank rank: Int) -> String? {
    monitors.indices.contains(rank) ? monitors[rank].name : nil
  }
  public var count: Int { monitors.count }

  public func encode(to b: inout ByteBuffer) {
    b.writeVersioned(version: MonMap.version, compat: 1) { b in
      b.writeBytes(withUnsafeBytes(of: fsid.uuid) { Array($0) })
      b.writeLE(epoch)
      b.writeArray(monitors) { b, m in
        b.writeCephString(m.name)
        m.addr.encode(to: &b)
      }
    }
  }

  public init(from b: inout ByteBuffer) throws {
    self = try b.readVersioned("monmap", supported: MonMap.version, limit: 1 << 20) { b, _ in
      let fsid = try readUUID(&b)
      let epoch = try b.readLE(UInt32.self, "monmap epoch")
      let monitors = try b.readArray(limit: MonMap.maxMonitors, minimumElementSize: 8, "monitors") {
        b in
        Entry(
          name: try b.readCephString(limit: 256, "monitor name"), addr: try EntityAddr(from: &b))
      }
      return MonMap(fsid: fsid, epoch: epoch, monitors: monitors)
    }
  }
}

public enum MonMapError: Error, Equatable, CustomStringConvertible {
  case malformed(String)
  public var description: String {
    switch self {
    case .malformed(let why): return "bad mon_host: \(why)"
    }
  }
}
