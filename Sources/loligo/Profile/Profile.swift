import ArgumentParser
import Foundation
import LoligoCore
import TOMLKit

/// A named workload in `Profiles/<name>.toml`. Messenger profiles describe a perf-msgr
/// server/client pair; cluster profiles (pool benchmarks, and recovery benchmarks: see
/// `Profile.RecoveryRun`) come with the cluster.
///
///     description = "4 KiB messages, 2 jobs x 16 in flight"
///     kind = "messenger"
///     [server]
///     workers = 1
///     think_time_us = 0
///     [client]
///     numjobs = 2
///     concurrency = 16
///     ios = 50000
///     think_time_us = 0
///     msg_length = 4096
///     [config]          # any config option, for both sides
///     ms_type = "tcp"
///
/// Either kind may say `trace = true` (top level): the run is then recorded with LTTng and
/// exported beside its results (see `ProfileTrace`), and `name = "..."` to be named otherwise
/// than its file.
struct Profile {
  struct Server {
    var workers = 1
    var thinkTimeUs = 0
  }

  struct Client {
    var numjobs = 1
    var concurrency = 1
    var ios = 10_000
    var thinkTimeUs = 0
    var messageLength = 4096
  }

  /// A pool profile: a local cluster, a pool, and `rados bench`-style steps.
  struct PoolRun {
    var mons = 1
    var osds = 3
    var objectStore = "memstore"
    var poolName = "bench"
    var pgNum = 32
    var size = 3
    var minSize = 0
    var seconds = 10
    var blockSize = "4M"
    var concurrency = 16
    var modes = ["write", "seq", "rand"]
  }

  var name: String
  var path: String
  var description: String
  var kind: String
  var server = Server()
  var client = Client()
  var poolRun = PoolRun()
  /// A recovery profile's own fields; its cluster, pool and client load are in `poolRun`.
  var recoveryRun = RecoveryRun()
  /// Record the run with `loligo trace` and export it.
  var trace = false
  /// Config overrides as `--name value` pairs for both tools.
  var config: [(String, String)] = []

  /// Finds `name` (a path, or a name under `Profiles/`).
  static func locate(_ name: String, profilesDirectory: String) -> String? {
    let candidates = [
      name, "\(profilesDirectory)/\(name)", "\(profilesDirectory)/\(name).toml",
    ]
    return candidates.first { path in
      var isDirectory: ObjCBool = false
      return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        && !isDirectory.boolValue
    }
  }

  /// Finds and loads `name`; a missing or bad profile is a usage error.
  static func load(_ name: String, profilesDirectory: String) throws -> Profile {
    guard let path = locate(name, profilesDirectory: profilesDirectory) else {
      throw ValidationError("no profile '\(name)' (see 'loligo profile list')")
    }
    do {
      return try Profile(path: path)
    } catch {
      throw ValidationError("\(error)")
    }
  }

  init(path: String) throws {
    self.path = path
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw ProfileError("cannot read profile \(path): \(error.localizedDescription)")
    }
    let table: TOMLTable
    do {
      table = try TOMLTable(string: text)
    } catch let error as TOMLParseError {
      throw ProfileError("\(path): line \(error.source.begin.line): \(error.description)")
    }
    // A profile is named for its file, unless it says otherwise (the copy a run keeps does).
    name =
      table["name"]?.string ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    description = table["description"]?.string ?? ""
    kind = table["kind"]?.string ?? "messenger"
    guard ["messenger", "pool", "recovery"].contains(kind) else {
      throw ProfileError(
        "\(path): kind '\(kind)' is not supported (messenger, pool or recovery)")
    }
    if let raw = table["trace"] {
      guard let value = raw.bool else { throw ProfileError("\(path): trace must be true or false") }
      trace = value
    }
    func integer(_ section: TOMLTable?, _ key: String, _ fallback: Int, _ range: ClosedRange<Int>)
      throws -> Int
    {
      guard let raw = section?[key] else { return fallback }
      guard let value = raw.int, range.contains(value) else {
        throw ProfileError("\(path): \(key) must be an integer in \(range)")
      }
      return value
    }
    let server = table["server"]?.table
    self.server.workers = try integer(server, "workers", 1, 0...1024)
    self.server.thinkTimeUs = try integer(server, "think_time_us", 0, 0...10_000_000)
    let client = table["client"]?.table
    self.client.numjobs = try integer(client, "numjobs", 1, 1...1024)
    self.client.concurrency = try integer(client, "concurrency", 1, 1...65536)
    self.client.ios = try integer(client, "ios", 10_000, 1...Int(Int32.max))
    self.client.thinkTimeUs = try integer(client, "think_time_us", 0, 0...10_000_000)
    self.client.messageLength = try integer(client, "msg_length", 4096, 0...(1 << 30))
    if kind == "pool" || kind == "recovery" {
      let cluster = table["cluster"]?.table
      poolRun.mons = try integer(cluster, "mons", 1, 1...9)
      poolRun.osds = try integer(cluster, "osds", 3, 1...64)
      poolRun.objectStore = cluster?["objectstore"]?.string ?? "memstore"
      guard ["memstore", "durable"].contains(poolRun.objectStore) else {
        throw ProfileError("\(path): objectstore must be memstore or durable")
      }
      let pool = table["pool"]?.table
      poolRun.poolName = pool?["name"]?.string ?? "bench"
      poolRun.pgNum = try integer(pool, "pg_num", 32, 1...65536)
      poolRun.size = try integer(pool, "size", 3, 1...10)
      poolRun.minSize = try integer(pool, "min_size", 0, 0...10)
      guard poolRun.minSize <= poolRun.size else {
        throw ProfileError("\(path): min_size must not be more than size")
      }
      let bench = table["bench"]?.table
      if kind == "recovery" {
        // Its client load is small writes into the prefilled objects.
        poolRun.blockSize = "4K"
        try parseRecovery(table, integer: integer)
      }
      poolRun.seconds = try integer(bench, "seconds", 10, 1...3600)
      poolRun.concurrency = try integer(bench, "concurrency", 16, 1...4096)
      poolRun.blockSize = bench?["block_size"]?.string ?? poolRun.blockSize
      guard parseSize(poolRun.blockSize) != nil else {
        throw ProfileError("\(path): block_size '\(poolRun.blockSize)' is not a size")
      }
      if kind == "recovery" { try checkRecoveryDataset() }
      if let modes = bench?["modes"]?.array {
        poolRun.modes = modes.compactMap { $0.string }
        guard !poolRun.modes.isEmpty,
          poolRun.modes.allSatisfy({ ["write", "seq", "rand"].contains($0) }),
          poolRun.modes.first == "write"
        else { throw ProfileError("\(path): modes must start with write and name write/seq/rand") }
      }
    }
    if let options = table["config"]?.table {
      var check = Config()
      for (key, raw) in options {
        let text =
          raw.string ?? raw.int.map(String.init) ?? raw.bool.map(String.init)
          ?? raw.double.map { String($0) }
        guard let text else {
          throw ProfileError("\(path): [config] \(key) has an unsupported type")
        }
        do {
          try check.set(key, text)
        } catch {
          throw ProfileError("\(path): [config] \(error)")
        }
        config.append((key, text))
      }
      config.sort { $0.0 < $1.0 }
    }
  }
}

struct ProfileError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
