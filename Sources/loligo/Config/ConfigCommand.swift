import ArgumentParser
import LoligoCore

/// `loligo config help|show`: every option with its default and meaning, and the effective
/// values for one entity with where each came from.
struct ConfigCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config", abstract: "Configuration options: list them, show effective values.",
    subcommands: [Help.self, Show.self])

  struct Help: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "List every option with its type, default and meaning.")

    @Flag(help: "Print a Markdown table (the README's is made this way).")
    var markdown = false

    func run() {
      if markdown {
        print("| option | type | default | meaning |")
        print("|---|---|---|---|")
        for option in ConfigOption.all {
          let type = option.typeDescription.replacingOccurrences(of: "|", with: "\\|")
          let value = "\(option.defaultValue)"
          print(
            "| `\(option.name)` | \(type) | `\(value.isEmpty ? "\"\"" : value)` | \(option.help) |")
        }
        return
      }
      for option in ConfigOption.all {
        print("\(option.name) (\(option.typeDescription), default \(option.defaultValue))")
        print("    \(option.help)")
      }
    }
  }

  struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the effective value of every option and where it came from.",
      discussion: """
        Reads the cluster file (--conf, else $LOLIGO_CONF, else ./loligo.toml when it exists) \
        with the sections for --entity, then applies --set overrides.

        Example:
          loligo config show --conf cluster.toml --entity osd.0 --set ms_async_op_threads=2
        """)

    @Option(help: "Cluster TOML file.") var conf: String?
    @Option(help: "Entity whose sections apply, e.g. osd.0, mon.a, client.") var entity: String?
    @Option(name: .customLong("set"), help: "Override NAME=VALUE (repeatable).")
    var overrides: [String] = []
    @Option(help: "plain or json.") var format: String = "plain"

    func run() throws {
      var config = Config()
      do {
        if let path = ClusterFile.locate(explicit: conf) {
          try config.load(file: path, entity: entity)
        }
        for override in overrides {
          guard let eq = override.firstIndex(of: "=") else {
            throw ValidationError("--set takes NAME=VALUE, got '\(override)'")
          }
          try config.set(String(override[..<eq]), String(override[override.index(after: eq)...]))
        }
      } catch let error as ConfigError {
        throw ValidationError(error.description)
      }
      switch format {
      case "json":
        let fields = config.dump().map { entry -> String in
          let value: String
          switch entry.value {
          case .string(let s): value = "\"\(s)\""
          default: value = entry.value.description
          }
          return "  \"\(entry.option.name)\": \(value)"
        }
        print("{\n" + fields.joined(separator: ",\n") + "\n}")
      case "plain":
        let width = ConfigOption.all.map(\.name.count).max() ?? 0
        for entry in config.dump() {
          let name = entry.option.name.padding(toLength: width, withPad: " ", startingAt: 0)
          print("\(name)  \(entry.value)  (\(entry.origin))")
        }
      default:
        throw ValidationError("--format must be plain or json")
      }
    }
  }
}
