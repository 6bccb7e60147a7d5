/// The command line of `bench` as typed: every value still a string, so that the messages for
/// bad values are rados's own and can be tested without a command-line parser.
public struct RadosBenchArguments: Sendable {
  public var seconds: String
  public var mode: String
  public var concurrentIOs: String?
  public var blockSize: String?
  public var objectSize: String?
  public var maxObjects: String?
  public var noCleanup = false
  public var runName: String?
  public var reuseBench = false
  public var noHints = false
  public var noVerify = false
  public var showTime = false
  public var format: String?
  public var output: String?
  /// `--results DIR`: a new run directory under DIR.
  public var resultsDirectory: String?
  /// `--result-dir DIR`: DIR itself (a profile step).
  public var resultDirectory: String?
  public var pool: String?

  public init(seconds: String, mode: String) {
    self.seconds = seconds
    self.mode = mode
  }
}
