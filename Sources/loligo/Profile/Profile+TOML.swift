import Foundation

extension Profile {
  /// The profile as it runs, every default filled in, as TOML that loads back into the same
  /// profile (its name included): what a run keeps as `profile.toml`, and what `loligo profile
  /// show` prints.
  func asRunTOML() -> String {
    var lines = [
      "# The profile as run: \(path), every default filled in.",
      "name = \(Self.quoted(name))",
      "description = \(Self.quoted(description))",
      "kind = \(Self.quoted(kind))",
      "trace = \(trace)",
    ]
    if kind == "pool" {
      let p = poolRun
      lines += [
        "", "[cluster]", "mons = \(p.mons)", "osds = \(p.osds)",
        "objectstore = \(Self.quoted(p.objectStore))",
        "", "[pool]", "name = \(Self.quoted(p.poolName))", "pg_num = \(p.pgNum)",
        "size = \(p.size)", "min_size = \(p.minSize)",
        "", "[bench]", "seconds = \(p.seconds)", "block_size = \(Self.quoted(p.blockSize))",
        "concurrency = \(p.concurrency)",
        "modes = [\(p.modes.map(Self.quoted).joined(separator: ", "))]",
      ]
    } else if kind == "recovery" {
      let p = poolRun
      let r = recoveryRun
      lines += [
        "", "[cluster]", "mons = \(p.mons)", "osds = \(p.osds)",
        "objectstore = \(Self.quoted(p.objectStore))",
        "", "[pool]", "name = \(Self.quoted(p.poolName))", "pg_num = \(p.pgNum)",
        "size = \(p.size)", "min_size = \(p.minSize)", "prefill_objects = \(r.prefillObjects)",
        "prefill_size = \(Self.quoted(r.prefillSize))",
        "", "[bench]", "block_size = \(Self.quoted(p.blockSize))",
        "concurrency = \(p.concurrency)",
        "", "[recovery]", "osd = \(r.osd)", "action = \(Self.quoted(r.action.rawValue))",
        "pre_time = \(r.preTime)", "post_time = \(r.postTime)",
        "clean_timeout = \(r.cleanTimeout)",
      ]
    } else {
      lines += [
        "", "[server]", "workers = \(server.workers)", "think_time_us = \(server.thinkTimeUs)",
        "", "[client]", "numjobs = \(client.numjobs)", "concurrency = \(client.concurrency)",
        "ios = \(client.ios)", "think_time_us = \(client.thinkTimeUs)",
        "msg_length = \(client.messageLength)",
      ]
    }
    if !config.isEmpty {
      lines += ["", "[config]"]
      for (key, value) in config {
        // Numbers and booleans bare, as the options read them either way; the rest quoted.
        let bare = Int(value) != nil || Double(value) != nil || value == "true" || value == "false"
        lines.append("\(key) = \(bare ? value : Self.quoted(value))")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// A TOML basic string.
  static func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": result += "\\\""
      case "\\": result += "\\\\"
      case "\n": result += "\\n"
      case "\t": result += "\\t"
      case _ where scalar.value < 0x20 || scalar.value == 0x7F:
        result += String(format: "\\u%04X", scalar.value)
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result + "\""
  }
}
