import Foundation
import LoligoCore

/// A local cluster's directory: `loligo.toml` (read by every daemon and tool), one data
/// directory, log, pid file and admin socket per daemon, all under `--dir`.
struct ClusterLayout {
  let directory: String
  var confPath: String { "\(directory)/loligo.toml" }

  struct Daemon {
    let name: String  // mon.a, osd.0
    var type: String { String(name.split(separator: ".").first ?? "") }
    var id: String { String(name.split(separator: ".").dropFirst().first ?? "") }
  }

  init(directory: String) {
    self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
  }

  func pidFile(_ daemon: String) -> String { "\(directory)/\(daemon).pid" }
  func logFile(_ daemon: String) -> String { "\(directory)/\(daemon).log" }
  func outputFile(_ daemon: String) -> String { "\(directory)/\(daemon).out" }

  /// Monitor names a, b, c, ... (as Ceph's vstart names them).
  static func monitorNames(_ count: Int) -> [String] {
    (0..<count).map { index in
      let letters = Array("abcdefghijklmnopqrstuvwxyz")
      return index < 26 ? String(letters[index]) : "m\(index)"
    }
  }

  /// The daemons the cluster file lists, monitors first.
  func daemons() -> [Daemon] {
    guard let text = try? String(contentsOfFile: confPath, encoding: .utf8) else { return [] }
    var names: [String] = []
    for line in text.split(separator: "\n") {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      guard trimmed.hasPrefix("[") && trimmed.hasSuffix("]") else { continue }
      let section = trimmed.dropFirst().dropLast().replacingOccurrences(of: "\"", with: "")
      if section.hasPrefix("mon.") || section.hasPrefix("osd.") { names.append(section) }
    }
    return names.map(Daemon.init)
  }

  /// Writes the cluster file; `metricsPorts` gives daemons (`mon.a`, `osd.0`) their
  /// `prometheus_port`.
  func write(
    fsid: UUID, monitors: [(String, Int)], osds: Int, objectStore: String, extra: [String: String],
    metricsPorts: [String: Int] = [:]
  ) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var text = """
      # Written by `loligo cluster up`; read by every daemon and tool of this cluster
      # (export LOLIGO_CONF=\(confPath)).
      [global]
      fsid = "\(fsid.uuidString.lowercased())"
      mon_host = "\(monitors.map { "\($0.0)=127.0.0.1:\($0.1)" }.joined(separator: ","))"
      run_dir = "\(directory)"
      log_file = "\(directory)/$name.log"
      osd_objectstore = "\(objectStore)"

      """
    var extra = extra
    // Every OSD is on this one host: replicas go to distinct OSDs, not hosts (as vstart does).
    if extra["osd_crush_chooseleaf_type"] == nil { extra["osd_crush_chooseleaf_type"] = "0" }
    for (key, value) in extra.sorted(by: { $0.key < $1.key }) {
      text += "\(key) = \(value)\n"
    }
    for (name, port) in monitors {
      text += "\n[\"mon.\(name)\"]\npublic_addr = \"127.0.0.1:\(port)\"\n"
      if let metrics = metricsPorts["mon.\(name)"] { text += "prometheus_port = \(metrics)\n" }
    }
    if osds > 0 {
      // One event loop per OSD: requests are handled on the thread they arrive on.
      text += "\n[osd]\nms_async_op_threads = 1\n"
    }
    for id in 0..<osds {
      text += "\n[\"osd.\(id)\"]\npublic_addr = \"127.0.0.1:0\"\n"
      if let metrics = metricsPorts["osd.\(id)"] { text += "prometheus_port = \(metrics)\n" }
    }
    try text.write(toFile: confPath, atomically: true, encoding: .utf8)
  }

  /// Where a daemon serves Prometheus metrics, if its `prometheus_port` is set.
  func metricsURL(_ daemon: String) -> String? {
    var config = Config()
    guard (try? config.load(file: confPath, entity: daemon)) != nil else { return nil }
    let port = config.int(.prometheusPort)
    return port > 0 ? "http://\(config.string(.prometheusAddr)):\(port)/metrics" : nil
  }

  /// Free TCP ports on 127.0.0.1 (bound and released; good enough on one machine).
  static func freePorts(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { for fd in sockets { close(fd) } }
    var ports: [Int] = []
    for _ in 0..<count {
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      guard fd >= 0 else { throw ClusterError("socket: \(String(cString: strerror(errno)))") }
      sockets.append(fd)
      var addr = sockaddr_in()
      addr.sin_family = sa_family_t(AF_INET)
      addr.sin_addr.s_addr = inet_addr("127.0.0.1")
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let bound = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
      }
      guard bound == 0 else { throw ClusterError("bind: \(String(cString: strerror(errno)))") }
      _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
      }
      ports.append(Int(UInt16(bigEndian: addr.sin_port)))
    }
    return ports
  }
}
