/// What a bench run ended with.
public struct RadosBenchReport: Sendable {
  /// The process exit status: 0, or 1 after an error, a failed op or a read mismatch.
  public var status: Int32
  /// nil when the run did not get to its summary.
  public var summary: RadosBenchSummary?
  public var rows: [RadosBenchRow] = []
  /// `--results`: the JSON written.
  public var resultPath: String?
}
