/// The most data one write op from this client can carry, and the option that sets it: the
/// OSDs refuse more than `osd_max_write_size`, a peer drops a message larger than
/// `ms_max_message_size`, and a connection queues no more than `ms_max_queued_bytes`. A larger
/// write can only fail (or wait out its time-out), so the tools refuse it before they allocate
/// or send anything.
public struct WriteSizeLimit: Sendable, Equatable {
  /// The part of a message kept for an op's header (object name, op list), so the data may
  /// fill the rest of `ms_max_message_size`.
  public static let messageOverhead = 4096

  /// The largest write allowed, in bytes.
  public let bytes: UInt64
  /// The option that sets `bytes`.
  public let option: ConfigOption
  /// The option's value and what it bounds, for the refusal.
  private let reason: String

  public init(config: Config) {
    let writeSize = config.int(.osdMaxWriteSize) << 20
    let messageSize = config.int(.msMaxMessageSize)
    let queued = config.int(.msMaxQueuedBytes)
    let text = { (bytes: Int) in byteCountText(UInt64(bytes)) }
    let candidates: [(bytes: Int, option: ConfigOption, reason: String)] = [
      (writeSize, .osdMaxWriteSize, "\(text(writeSize)), the largest write an OSD accepts"),
      (
        messageSize - Self.messageOverhead, .msMaxMessageSize,
        "\(text(messageSize)) less \(text(Self.messageOverhead)) for the op's header, the "
          + "largest message a peer accepts"
      ),
      (queued, .msMaxQueuedBytes, "\(text(queued)), what one connection may hold queued"),
    ]
    // The first of the smallest: with the defaults (90 MiB, 128 MiB, 512 MiB) the OSD's limit.
    let smallest = candidates.min { $0.bytes < $1.bytes }!
    bytes = UInt64(max(smallest.bytes, 0))
    option = smallest.option
    reason = smallest.reason
  }

  /// nil when a write of `size` bytes fits; else one line that names the limit and the option
  /// that sets it. `what` names the write (`-b 1G`, a file); `sizeIsLowerBound`: more may
  /// follow (a stream still being read).
  public func refusal(of size: UInt64, what: String, sizeIsLowerBound: Bool = false) -> String? {
    guard size > bytes else { return nil }
    let amount = sizeIsLowerBound ? "more than \(byteCountText(bytes))" : byteCountText(size)
    return "\(what): a write of \(amount) is more than \(option.name) allows (\(reason))"
  }
}
