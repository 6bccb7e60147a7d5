/// `--format`: rados's plain text, or its JSON document (compact or indented).
public enum RadosBenchOutputFormat: String, Sendable, Codable {
  case plain
  case json
  case jsonPretty = "json-pretty"
}
