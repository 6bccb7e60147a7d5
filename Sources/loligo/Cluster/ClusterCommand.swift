import ArgumentParser
import Foundation
import LoligoClient
import LoligoCore
import LoligoDaemon
import LoligoMessages

/// `loligo cluster up|down|status`: a whole cluster on this machine, like Ceph's vstart.sh.
struct ClusterCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cluster", abstract: "Start, inspect and stop a local cluster on 127.0.0.1.",
    subcommands: [Up.self, Down.self, Status.self])

  static let defaultDirectory = "loligo-cluster"

  /// The tools live beside this executable.
  static func tool(_ name: String) -> String {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
      .deletingLastPathComponent().appendingPathComponent(name).path
  }

  struct Up: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create and start monitors (and OSDs) on 127.0.0.1 and wait until they serve.",
      discussion: """
        Writes DIR/loligo.toml, creates each daemon's store (--mkfs), starts each daemon in the \
        background (pid file, log and admin socket in DIR) and waits for the monitors' quorum \
        and for every OSD to be up. With OSDs it then creates the default pool (--pool, unless \
        --no-pool) and waits until each of its placement groups is active on its primary. \
        Prints how to point the tools at the cluster.

        Example:
          loligo cluster up --mons 3 --osds 3 --dir /tmp/c1
          export LOLIGO_CONF=/tmp/c1/loligo.toml
          loligo -p bench bench 10 write
        """)

    @Option(help: "Monitors to start (1...9).") var mons = 1
    @Option(help: "OSDs to start (0: monitors only).") var osds = 3
    @Option(help: "OSD object store: memstore or durable.") var objectstore = "memstore"
    @Option(help: "Cluster directory.") var dir = ClusterCommand.defaultDirectory
    @Option(help: "Seconds to wait for the cluster to serve.") var timeout: Double = 60
    @Option(help: "Default pool created once the OSDs are up.") var pool = "bench"
    @Option(help: "Placement groups of the default pool.") var pgNum = 32
    @Option(help: "Replicas of the default pool (default: 3, or fewer with fewer OSDs).")
    var size: Int?
    @Option(help: "min_size of the default pool (default: the monitor's, from size).")
    var minSize: Int?
    @Flag(help: "Create no default pool.") var noPool = false
    @Flag(
      help: ArgumentHelp(
        "Serve Prometheus metrics from every daemon on a free port of 127.0.0.1.",
        discussion: "Each daemon's prometheus_port goes into its section of DIR/loligo.toml."))
    var metrics = false
    @Option(name: .customLong("set"), help: "Extra [global] option NAME=VALUE (repeatable).")
    var settings: [String] = []

    func validate() throws {
      guard (1...9).contains(mons) else { throw ValidationError("--mons must be 1...9") }
      guard (0...64).contains(osds) else { throw ValidationError("--osds must be 0...64") }
      guard ["memstore", "durable"].contains(objectstore) else {
        throw ValidationError("--objectstore must be memstore or durable")
      }
      guard (1...65536).contains(pgNum) else { throw ValidationError("--pg-num must be 1...65536") }
      if let size, !(1...10).contains(size) { throw ValidationError("--size must be 1...10") }
      if let minSize, !(1...(size ?? 10)).contains(minSize) {
        throw ValidationError("--min-size must be 1...size")
      }
      guard !pool.isEmpty else { throw ValidationError("--pool needs a name") }
    }

    func run() throws {
      let started = Date()
      let layout = ClusterLayout(directory: dir)
      let running = layout.daemons().compactMap { daemon -> String? in
        guard let pid = DaemonProcess.readPid(layout.pidFile(daemon.name)),
          DaemonProcess.isAlive(pid)
        else { return nil }
        return "\(daemon.name) (pid \(pid))"
      }
      guard running.isEmpty else {
        throw ClusterError(
          "a cluster is already running in \(layout.directory): \(running.joined(separator: ", "))"
            + "; stop it with 'loligo cluster down --dir \(dir)'")
      }
      // A fresh directory each time: stale stores would hold another fsid.
      try? FileManager.default.removeItem(atPath: layout.directory)
      var extra: [String: String] = [:]
      for setting in settings {
        guard let eq = setting.firstIndex(of: "=") else {
          throw ValidationError("--set takes NAME=VALUE")
        }
        let name = String(setting[..<eq])
        let value = String(setting[setting.index(after: eq)...])
        var probe = Config()
        do { try probe.set(name, value) } catch { throw ValidationError("\(error)") }
        extra[name] =
          Int(value) != nil || Double(value) != nil || ["true", "false"].contains(value)
          ? value : "\"\(value)\""
      }
      let names = ClusterLayout.monitorNames(mons)
      // One call, so no port is handed out twice.
      let metricsDaemons =
        metrics ? names.map { "mon.\($0)" } + (0..<osds).map { "osd.\($0)" } : []
      let free = try ClusterLayout.freePorts(mons + metricsDaemons.count)
      let ports = Array(free.prefix(mons))
      let metricsPorts = Dictionary(
        uniqueKeysWithValues: zip(metricsDaemons, free.dropFirst(mons)))
      try layout.write(
        fsid: UUID(), monitors: Array(zip(names, ports)), osds: osds, objectStore: objectstore,
        extra: extra, metricsPorts: metricsPorts)
      say("cluster directory \(layout.directory)")

      for name in names {
        try mkfs("loligo-mon", "mon.\(name)", ["--id", name], layout)
      }
      for name in names {
        try start("loligo-mon", "mon.\(name)", ["--id", name], layout)
      }
      let config = try ClusterClient.config(path: layout.confPath)
      let client = try MonClient.connect(config: config)
      defer { client.shutdown() }
      try waitFor("quorum of \(mons)", deadline: started.addingTimeInterval(timeout)) {
        guard let status = try? ClusterClient.json(client, ["prefix": "quorum_status"], timeout: 2),
          let quorum = status["quorum_names"] as? [String]
        else { return nil }
        return quorum.count == mons
          ? "quorum \(quorum.joined(separator: ",")), leader \(status["quorum_leader_name"] ?? "?")"
          : nil
      }
      if osds > 0 {
        for id in 0..<osds {
          try mkfs("loligo-osd", "osd.\(id)", ["--id", String(id)], layout)
        }
        for id in 0..<osds {
          try start("loligo-osd", "osd.\(id)", ["--id", String(id)], layout)
        }
        try waitFor("\(osds) OSDs up", deadline: started.addingTimeInterval(timeout)) {
          guard let status = try? ClusterClient.json(client, ["prefix": "status"], timeout: 2),
            let osdmap = status["osdmap"] as? [String: Any],
            let up = osdmap["num_up_osds"] as? Int
          else { return nil }
          return up == osds ? "\(up) OSDs up (osdmap epoch \(osdmap["epoch"] ?? "?"))" : nil
        }
        if !noPool {
          try createDefaultPool(client, layout, deadline: started.addingTimeInterval(timeout))
        }
      }
      say(
        String(
          format: "cluster up in %.1f s: %d monitor(s), %d OSD(s) (%@)",
          Date().timeIntervalSince(started), mons, osds, objectstore))
      for daemon in layout.daemons() {
        guard let url = layout.metricsURL(daemon.name) else { continue }
        say("metrics of \(daemon.name): \(url)")
      }
      say("use it with:  export LOLIGO_CONF=\(layout.confPath)")
      say("stop it with: loligo cluster down --dir \(dir)")
    }

    /// Creates the default pool and waits until every one of its PGs is active on its primary,
    /// as the OSDs' admin sockets report it.
    private func createDefaultPool(_ client: MonClient, _ layout: ClusterLayout, deadline: Date)
      throws
    {
      var fields: [String: Any] = [
        "prefix": "osd pool create", "pool": pool, "pg_num": pgNum, "size": size ?? min(3, osds),
      ]
      if let minSize { fields["min_size"] = minSize }
      let reply = try client.commandSync(fields, timeout: .seconds(30))
      guard reply.result == 0 else {
        throw ClusterError("creating pool '\(pool)' failed: \(reply.status)")
      }
      let pools =
        try ClusterClient.json(client, ["prefix": "osd dump"])["pools"] as? [[String: Any]]
      guard let id = pools?.first(where: { $0["pool_name"] as? String == pool })?["pool"] as? Int
      else { throw ClusterError("pool '\(pool)' is not in the OSD map after its creation") }
      var lastCount = -1
      try waitFor("\(pgNum) PGs of pool '\(pool)' active", deadline: deadline) {
        var active = 0
        for daemon in layout.daemons() where daemon.name.hasPrefix("osd.") {
          active += Self.activePrimaryPGs(of: id, layout: layout, daemon: daemon.name)
        }
        if active != lastCount && active < pgNum && lastCount >= 0 {
          say("  \(active)/\(pgNum) PGs active")
        }
        lastCount = active
        return active >= pgNum ? "pool '\(pool)' (id \(id)): \(pgNum) PGs active" : nil
      }
    }

    /// How many PGs of `pool` the OSD leads and reports active.
    static func activePrimaryPGs(of pool: Int, layout: ClusterLayout, daemon: String) -> Int {
      guard
        let path = try? DaemonCommand.socketPath(of: daemon, clusterFile: layout.confPath),
        let reply = try? adminSocketRequest(path: path, command: "pg ls", timeout: 2),
        let object = try? JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any],
        let pgs = object["pgs"] as? [[String: Any]]
      else { return 0 }
      return pgs.filter {
        $0["pool"] as? Int == pool && ($0["state"] as? String)?.hasPrefix("active") == true
      }.count
    }

    private func mkfs(
      _ tool: String, _ name: String, _ arguments: [String], _ layout: ClusterLayout
    ) throws {
      let (status, output) = try DaemonProcess.run(
        ClusterCommand.tool(tool), arguments + ["--conf", layout.confPath, "--mkfs"])
      guard status == 0 else {
        throw ClusterError("\(name) --mkfs failed: \(output.split(separator: "\n").last ?? "")")
      }
    }

    private func start(
      _ tool: String, _ name: String, _ arguments: [String], _ layout: ClusterLayout
    ) throws {
      let pid = try DaemonProcess.spawn(
        ClusterCommand.tool(tool), arguments + ["--conf", layout.confPath],
        output: layout.outputFile(name))
      say("started \(name) (pid \(pid))")
    }

    private func waitFor(_ what: String, deadline: Date, _ check: () -> String?) throws {
      var lastReport = Date()
      while Date() < deadline {
        if let done = check() {
          say(done)
          return
        }
        if Date().timeIntervalSince(lastReport) > 5 {
          say("waiting for \(what)...")
          lastReport = Date()
        }
        usleep(100_000)
      }
      throw ClusterError("timed out waiting for \(what); see the logs in \(dir)")
    }
  }

  struct Down: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Stop the daemons a cluster directory lists, by their pid files.")
    @Option(help: "Cluster directory.") var dir = ClusterCommand.defaultDirectory

    func run() throws {
      let layout = ClusterLayout(directory: dir)
      let daemons = layout.daemons()
      guard !daemons.isEmpty else { throw ClusterError("no cluster in \(layout.directory)") }
      // OSDs first, then monitors, so nothing is reported down to a missing quorum.
      for daemon in daemons.reversed() {
        guard let pid = DaemonProcess.readPid(layout.pidFile(daemon.name)) else { continue }
        guard DaemonProcess.isAlive(pid) else { continue }
        let killed = DaemonProcess.stop(pid)
        say("stopped \(daemon.name) (pid \(pid))\(killed ? " with SIGKILL" : "")")
      }
    }
  }

  struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List the cluster's daemons with pid, address and state.")
    @Option(help: "Cluster directory.") var dir = ClusterCommand.defaultDirectory
    @Option(help: "plain or json.") var format = "plain"

    func run() throws {
      let layout = ClusterLayout(directory: dir)
      let daemons = layout.daemons()
      guard !daemons.isEmpty else { throw ClusterError("no cluster in \(layout.directory)") }
      var quorum: [String] = []
      var leader = ""
      var upOSDs = Set<String>()
      if let config = try? ClusterClient.config(path: layout.confPath),
        let client = try? MonClient.connect(config: config)
      {
        defer { client.shutdown() }
        if let q = try? ClusterClient.json(client, ["prefix": "quorum_status"], timeout: 3) {
          quorum = q["quorum_names"] as? [String] ?? []
          leader = q["quorum_leader_name"] as? String ?? ""
        }
        if let dump = try? ClusterClient.json(client, ["prefix": "osd dump"], timeout: 3),
          let osds = dump["osds"] as? [[String: Any]]
        {
          for osd in osds where (osd["up"] as? Int) == 1 {
            upOSDs.insert("osd.\(osd["osd"] ?? "")")
          }
        }
      }
      var rows: [[String: Any]] = []
      for daemon in daemons {
        let pid = DaemonProcess.readPid(layout.pidFile(daemon.name))
        let alive = pid.map(DaemonProcess.isAlive) ?? false
        var state = alive ? "running" : "stopped"
        if alive && daemon.type == "mon" {
          state =
            daemon.id == leader ? "leader" : quorum.contains(daemon.id) ? "peon" : "out of quorum"
        } else if alive && daemon.type == "osd" {
          state = upOSDs.contains(daemon.name) ? "up" : "down"
        }
        var row: [String: Any] = [
          "name": daemon.name, "pid": pid.map(Int.init) ?? 0, "alive": alive, "state": state,
        ]
        if let metrics = layout.metricsURL(daemon.name) { row["metrics"] = metrics }
        rows.append(row)
      }
      if format == "json" {
        print(try ClusterClient.render(["daemons": rows, "dir": layout.directory]))
        return
      }
      for row in rows {
        let pidText = (row["pid"] as? Int).map { $0 > 0 ? String($0) : "-" } ?? "-"
        print(
          "\((row["name"] as! String).padding(toLength: 8, withPad: " ", startingAt: 0)) pid \(pidText.padding(toLength: 8, withPad: " ", startingAt: 0)) \(row["state"] as! String)"
            + ((row["metrics"] as? String).map { "  metrics \($0)" } ?? ""))
      }
    }
  }
}
