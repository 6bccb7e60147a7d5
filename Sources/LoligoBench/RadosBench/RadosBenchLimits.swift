import Foundation
import LoligoCore

/// What one bench run may ask for, checked before it allocates a buffer or connects: writes no
/// larger than the cluster takes (`WriteSizeLimit`), and the ops in flight (`-t` buffers of
/// `-b` bytes: one per slot for writes, one per reply for reads) within half of this
/// machine's memory, so a slip such as `-t 65536 -b 4M` fails at once instead of pushing the
/// machine, and the OSDs that often run on it, into swap.
public struct RadosBenchLimits: Sendable, Equatable {
  public var write: WriteSizeLimit
  /// Bytes the ops in flight may hold at once.
  public var inFlightBytes: UInt64

  public init(write: WriteSizeLimit, inFlightBytes: UInt64) {
    self.write = write
    self.inFlightBytes = inFlightBytes
  }

  /// The client's limits from `config`, and half of this machine's memory.
  public init(config: Config) {
    self.init(write: WriteSizeLimit(config: config), inFlightBytes: Self.halfOfPhysicalMemory())
  }

  /// Half of the physical memory: the other half is left to the daemons beside the bench (a
  /// memstore OSD keeps every object in RAM) and the rest of the machine.
  public static func halfOfPhysicalMemory() -> UInt64 {
    let pages = sysconf(Int32(_SC_PHYS_PAGES))
    let pageSize = sysconf(Int32(_SC_PAGESIZE))
    guard pages > 0, pageSize > 0 else { return .max }  // unknown: no bound rather than a wrong one
    return UInt64(pages) * UInt64(pageSize) / 2
  }

  /// How a refusal names the op size and the ops in flight: as typed (`-b 4M`, `-t 16`), or
  /// as a profile's keys.
  public struct Names: Sendable {
    public var opSize: String
    public var concurrency: String

    public init(opSize: String, concurrency: String) {
      self.opSize = opSize
      self.concurrency = concurrency
    }

    /// `-b TEXT` when the size was typed, else the size itself (reads take it from the write).
    public static func commandLine(blockSize: String?, opSize: UInt64, concurrentIOs: Int) -> Names
    {
      Names(
        opSize: blockSize.map { "-b \($0)" } ?? "ops of \(byteCountText(opSize))",
        concurrency: "-t \(concurrentIOs)")
    }
  }

  /// nil when a run of `mode` with `concurrentIOs` ops of `opSize` bytes fits; else one line
  /// naming the limit that refuses it and what sets it.
  public func refusal(mode: RadosBenchMode, opSize: UInt64, concurrentIOs: Int, names: Names)
    -> String?
  {
    if mode == .write, let refusal = write.refusal(of: opSize, what: names.opSize) {
      return refusal
    }
    let (total, overflow) = opSize.multipliedReportingOverflow(by: UInt64(max(concurrentIOs, 0)))
    guard overflow || total > inFlightBytes else { return nil }
    let totalText = overflow ? "more than 16 EiB" : byteCountText(total)
    return
      "\(names.concurrency) x \(names.opSize) = \(totalText) in flight, more than the "
      + "\(byteCountText(inFlightBytes)) a bench may hold (half of this machine's memory)"
  }
}
