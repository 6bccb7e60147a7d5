import ArgumentParser
import Foundation
import LoligoClient
import LoligoCore
import LoligoMessages
import NIOCore

/// Options every command that talks to the monitors takes.
struct ClusterOptions: ParsableArguments {
  @Option(help: "Cluster file; else $LOLIGO_CONF, else ./loligo.toml.") var conf: String?
  @Option(help: "Output: plain or json.") var format: OutputFormat = .plain
  @Option(help: "Seconds to wait for the monitors.") var timeout: Int64 = 30

  enum OutputFormat: String, ExpressibleByArgument { case plain, json }

  /// A monitor client for this cluster (the caller shuts it down).
  func connect() throws -> MonClient {
    try MonClient.connect(config: try ClusterClient.config(path: conf))
  }

  /// Runs one monitor command; prints its output; throws (exit non-zero) on an error reply.
  func run(_ fields: [String: Any], input: ByteBuffer = ByteBuffer()) throws -> MonCommandReply {
    let client = try connect()
    defer { client.shutdown() }
    return try run(fields, input: input, on: client)
  }

  /// Runs one monitor command on `client`; throws on an error reply.
  func run(_ fields: [String: Any], input: ByteBuffer = ByteBuffer(), on client: MonClient)
    throws -> MonCommandReply
  {
    let reply: MonCommandReply
    do {
      reply = try client.commandSync(fields, input: input, timeout: .seconds(timeout))
    } catch {
      throw ClusterError("\(error)")
    }
    guard reply.result == 0 else {
      throw ClusterError(
        reply.status.isEmpty ? "error \(reply.result)" : "\(reply.status) (error \(reply.result))")
    }
    return reply
  }

  func json(_ fields: [String: Any], on client: MonClient? = nil) throws -> Any {
    let reply = try client.map { try run(fields, on: $0) } ?? run(fields)
    guard
      let value = try? JSONSerialization.jsonObject(
        with: Data(reply.outputString.utf8), options: [.fragmentsAllowed])
    else { throw ClusterError("monitor reply is not JSON") }
    return value
  }

  /// Prints `value` as JSON, or with `plain` when the format is plain.
  func emit(_ value: Any, plain: (Any) -> String) throws {
    if format == .json {
      print(try ClusterClient.render(value))
    } else {
      print(plain(value), terminator: "")
    }
  }
}

/// `loligo quorum-status`.
struct QuorumStatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "quorum-status", abstract: "Election epoch, quorum members and leader.")
  @OptionGroup var options: ClusterOptions

  func run() throws {
    try options.emit(try options.json(["prefix": "quorum_status"])) { value in
      let q = value as? [String: Any] ?? [:]
      let names = (q["quorum_names"] as? [String] ?? []).joined(separator: ",")
      return
        "election epoch \(q["election_epoch"] ?? 0), quorum \(names), leader \(q["quorum_leader_name"] ?? "-")\n"
    }
  }
}

/// `loligo pool create|ls|delete|set`.
struct PoolCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pool", abstract: "Create, list, change and delete pools.",
    subcommands: [Create.self, List.self, Delete.self, Set.self])

  struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a replicated pool.",
      discussion: "Example: loligo pool create bench 64 --size 3 --min-size 2")
    @Argument(help: "Pool name.") var name: String
    @Argument(help: "Placement groups (1...65536); default osd_pool_default_pg_num.") var pgNum:
      Int?
    @Option(help: "Replicas (default osd_pool_default_size).") var size: Int?
    @Option(help: "Replicas needed to accept writes.") var minSize: Int?
    @OptionGroup var options: ClusterOptions

    func validate() throws {
      if let pgNum, !(1...65536).contains(pgNum) {
        throw ValidationError("PG_NUM must be 1...65536")
      }
      if let size, !(1...10).contains(size) { throw ValidationError("--size must be 1...10") }
      if let minSize, minSize < 1 || minSize > (size ?? 10) {
        throw ValidationError("--min-size must be 1...size")
      }
    }

    func run() throws {
      var fields: [String: Any] = ["prefix": "osd pool create", "pool": name]
      if let pgNum { fields["pg_num"] = pgNum }
      if let size { fields["size"] = size }
      if let minSize { fields["min_size"] = minSize }
      let reply = try options.run(fields)
      print(reply.status)
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List pools.")
    @Flag(help: "With size, min_size and pg_num.") var detail = false
    @OptionGroup var options: ClusterOptions

    func run() throws {
      try options.emit(try options.json(["prefix": "osd pool ls"])) { value in
        (value as? [[String: Any]] ?? []).map { pool in
          detail
            ? "\(pool["pool"] ?? 0) '\(pool["pool_name"] ?? "")' size \(pool["size"] ?? 0) min_size \(pool["min_size"] ?? 0) pg_num \(pool["pg_num"] ?? 0)\n"
            : "\(pool["pool_name"] ?? "")\n"
        }.joined()
      }
    }
  }

  struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "delete", abstract: "Delete a pool and all its objects.")
    @Argument(help: "Pool name.") var name: String
    @Flag(name: .customLong("yes-i-really-mean-it"), help: "Required: deletion cannot be undone.")
    var confirmed = false
    @OptionGroup var options: ClusterOptions

    func validate() throws {
      guard confirmed else {
        throw ValidationError(
          "deleting pool '\(name)' destroys its data; add --yes-i-really-mean-it")
      }
    }

    func run() throws {
      print(try options.run(["prefix": "osd pool delete", "pool": name]).status)
    }
  }

  struct Set: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Change size, min_size, pg_num or pgp_num of a pool.")
    @Argument(help: "Pool name.") var name: String
    @Argument(help: "size, min_size, pg_num or pgp_num.") var variable: String
    @Argument(help: "New value.") var value: Int
    @OptionGroup var options: ClusterOptions

    func run() throws {
      print(
        try options.run([
          "prefix": "osd pool set", "pool": name, "var": variable, "val": String(value),
        ]).status)
    }
  }
}

/// `loligo osd dump|tree|down|out|in|set|unset`.
struct OSDCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "osd",
    abstract:
      "The OSD map: dump, tree, df; mark OSDs down, out, in; cluster flags; full ratios.",
    subcommands: [
      Dump.self, Tree.self, DF.self, Mark.self, MarkOut.self, MarkIn.self, SetFlag.self,
      UnsetFlag.self, PGTemp.self, SetFullRatio.self, SetBackfillfullRatio.self,
      SetNearfullRatio.self,
    ])

  struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Epoch, pools and every OSD's state.")
    @OptionGroup var options: ClusterOptions

    func run() throws {
      try options.emit(try options.json(["prefix": "osd dump"])) { value in
        let d = value as? [String: Any] ?? [:]
        var text =
          "epoch \(d["epoch"] ?? 0)\nfsid \(d["fsid"] ?? "")\n"
          + "flags\((d["flags"] as? String).map { $0.isEmpty ? "" : " " + $0 } ?? "")\n"
          + "max_osd \(d["max_osd"] ?? 0)\n"
        for pool in d["pools"] as? [[String: Any]] ?? [] {
          text +=
            "pool \(pool["pool"] ?? 0) '\(pool["pool_name"] ?? "")' replicated size \(pool["size"] ?? 0) min_size \(pool["min_size"] ?? 0) crush_rule \(pool["crush_rule"] ?? 0) pg_num \(pool["pg_num"] ?? 0) pgp_num \(pool["pgp_num"] ?? 0) flags \(pool["flags_names"] ?? "")\n"
        }
        for osd in d["osds"] as? [[String: Any]] ?? [] {
          let up = (osd["up"] as? Int) == 1 ? "up" : "down"
          let isIn = (osd["in"] as? Int) == 1 ? "in" : "out"
          text +=
            "osd.\(osd["osd"] ?? 0) \(up)  \(isIn) weight \(osd["weight"] ?? 0) up_from \(osd["up_from"] ?? 0) up_thru \(osd["up_thru"] ?? 0) down_at \(osd["down_at"] ?? 0) \(osd["public_addr"] ?? "")\n"
        }
        for entry in d["pg_temp"] as? [[String: Any]] ?? [] {
          let osds = (entry["osds"] as? [Int] ?? []).map(String.init).joined(separator: ",")
          text += "pg_temp \(entry["pgid"] ?? "") [\(osds)]\n"
        }
        return text
      }
    }
  }

  struct Tree: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The CRUSH hierarchy with OSD states.")
    @OptionGroup var options: ClusterOptions

    func run() throws {
      try options.emit(try options.json(["prefix": "osd tree"])) { value in
        let nodes = (value as? [String: Any])?["nodes"] as? [[String: Any]] ?? []
        var text = "ID   TYPE  NAME        STATUS  REWEIGHT\n"
        for node in nodes {
          let type = node["type"] as? String ?? ""
          let indent = type == "root" ? "" : type == "host" ? "  " : "    "
          let id = String(describing: node["id"] ?? "").padding(
            toLength: 5, withPad: " ", startingAt: 0)
          let name = (indent + (node["name"] as? String ?? "")).padding(
            toLength: 12, withPad: " ", startingAt: 0)
          let status = (node["status"] as? String ?? "").padding(
            toLength: 8, withPad: " ", startingAt: 0)
          let reweight = node["reweight"].map { String(format: "%.5f", ($0 as? Double) ?? 0) } ?? ""
          text +=
            "\(id)\(type.padding(toLength: 6, withPad: " ", startingAt: 0))\(name)\(status)\(reweight)\n"
        }
        return text
      }
    }
  }

  static func parse(_ ids: [String]) throws -> [Int] {
    try ids.map { text in
      let digits = text.hasPrefix("osd.") ? String(text.dropFirst(4)) : text
      guard let id = Int(digits), id >= 0 else {
        throw ValidationError("'\(text)' is not an OSD id")
      }
      return id
    }
  }

  struct Mark: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "down", abstract: "Mark OSDs down.")
    @Argument(help: "OSD ids (3 or osd.3).") var ids: [String]
    @OptionGroup var options: ClusterOptions
    func run() throws {
      print(try options.run(["prefix": "osd down", "ids": try OSDCommand.parse(ids)]).status)
    }
  }

  struct MarkOut: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "out", abstract: "Mark OSDs out (no data placed on them).")
    @Argument(help: "OSD ids.") var ids: [String]
    @OptionGroup var options: ClusterOptions
    func run() throws {
      print(try options.run(["prefix": "osd out", "ids": try OSDCommand.parse(ids)]).status)
    }
  }

  struct MarkIn: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "in", abstract: "Mark OSDs in.")
    @Argument(help: "OSD ids.") var ids: [String]
    @OptionGroup var options: ClusterOptions
    func run() throws {
      print(try options.run(["prefix": "osd in", "ids": try OSDCommand.parse(ids)]).status)
    }
  }

  struct PGTemp: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "pg-temp", abstract: "Force a PG's acting set (no OSDs: remove the override).",
      discussion: """
        The OSDs must exist and be up, at most the pool's size, no OSD twice. The monitors drop \
        the entry by themselves once it equals the PG's up set or none of its OSDs is up.

        Examples:
          loligo osd pg-temp 1.a 2 0
          loligo osd pg-temp 1.a
        """)
    @Argument(help: "The PG (POOL.SEED, e.g. 1.a).") var pgid: String
    @Argument(help: "OSD ids (3 or osd.3), primary first.") var ids: [String] = []
    @OptionGroup var options: ClusterOptions
    func run() throws {
      try PGCommand.parsePGID(pgid)
      print(
        try options.run([
          "prefix": "osd pg-temp", "pgid": pgid, "id": try OSDCommand.parse(ids),
        ]).status)
    }
  }

  /// The keys `osd set|unset` take (Ceph's names).
  static let flagKeys = [
    "noup", "nodown", "noout", "noin", "nobackfill", "norecover", "pauserd", "pausewr", "pause",
  ]

  static func validateFlag(_ key: String) throws {
    guard flagKeys.contains(key) else {
      throw ClusterError("unknown flag '\(key)' (one of \(flagKeys.joined(separator: ", ")))")
    }
  }

  struct SetFlag: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set", abstract: "Set a cluster flag.",
      discussion: """
        noup: booting OSDs are not marked up. nodown: failure reports and `osd down` are not \
        acted on. noout: down OSDs are not marked out after mon_osd_down_out_interval. noin: \
        booting OSDs that were new or automatically out are not marked in. nobackfill, \
        norecover: the OSDs start no backfill, no recovery. pauserd, pausewr (pause: both): \
        the OSDs hold reads, writes.

        Example: loligo osd set noout
        """)
    @Argument(help: "noup, nodown, noout, noin, nobackfill, norecover, pauserd, pausewr, pause.")
    var key: String
    @OptionGroup var options: ClusterOptions
    func run() throws {
      try OSDCommand.validateFlag(key)
      print(try options.run(["prefix": "osd set", "key": key]).status)
    }
  }

  struct UnsetFlag: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "unset", abstract: "Unset a cluster flag.")
    @Argument(help: "A flag `osd set` takes.") var key: String
    @OptionGroup var options: ClusterOptions
    func run() throws {
      try OSDCommand.validateFlag(key)
      print(try options.run(["prefix": "osd unset", "key": key]).status)
    }
  }
}

/// `loligo config-key set|get|ls|rm`: small values stored by the monitors.
struct ConfigKeyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config-key", abstract: "Keys and values kept by the monitors (on Paxos).",
    subcommands: [SetKey.self, GetKey.self, ListKeys.self, RemoveKey.self])

  struct SetKey: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "set", abstract: "Set KEY to VALUE (committed before it returns).")
    @Argument var key: String
    @Argument var value: String
    @OptionGroup var options: ClusterOptions
    func run() throws {
      print(try options.run(["prefix": "config-key set", "key": key, "val": value]).status)
    }
  }

  struct GetKey: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "get", abstract: "Print the value of KEY.")
    @Argument var key: String
    @OptionGroup var options: ClusterOptions
    func run() throws {
      print(try options.run(["prefix": "config-key get", "key": key]).outputString)
    }
  }

  struct ListKeys: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List keys.")
    @OptionGroup var options: ClusterOptions
    func run() throws {
      try options.emit(try options.json(["prefix": "config-key ls"])) { value in
        (value as? [String] ?? []).map { $0 + "\n" }.joined()
      }
    }
  }

  struct RemoveKey: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove KEY.")
    @Argument var key: String
    @OptionGroup var options: ClusterOptions
    func run() throws {
      print(try options.run(["prefix": "config-key rm", "key": key]).status)
    }
  }
}
