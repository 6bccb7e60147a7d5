/// The three benchmarks of `rados bench`.
public enum RadosBenchMode: String, Sendable, Codable, CaseIterable {
  case write, seq, rand

  public var isRead: Bool { self != .write }
}
