/// A bad command line: one line for stderr, exit status 1 (rados prints these and returns 1).
public struct RadosBenchUsageError: Error, Equatable, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}
