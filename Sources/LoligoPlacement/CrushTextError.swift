/// A problem in CRUSH map text, with the 1-based line it was found on. Printed as
/// `line N: what is wrong`, the form the CLI shows.
public struct CrushTextError: Error, Equatable, Sendable, CustomStringConvertible {
  public var line: Int
  public var message: String

  public init(line: Int, _ message: String) {
    self.line = line
    self.message = message
  }

  public var description: String { "line \(line): \(message)" }
}
