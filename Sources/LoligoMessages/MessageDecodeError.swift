/// Why a received message could not be turned into its typed form.
public struct MessageDecodeError: Error, CustomStringConvertible {
  public let type: UInt16
  public let reason: String
  public var description: String { "cannot decode message type \(type): \(reason)" }
}
