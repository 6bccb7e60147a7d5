/// Where a bench run's text goes. Each line call is one line without its line end. `formatted`
/// is the `--format json` document, in pieces as they are produced (stdout, or the `-o` file).
public protocol RadosBenchOutput: AnyObject, Sendable {
  func standardOutput(_ line: String)
  func standardError(_ line: String)
  func formatted(_ text: String)
}
