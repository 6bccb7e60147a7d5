/// Cluster-wide flags of the OSD map (Ceph's `CEPH_OSDMAP_*` bits, `ceph osd set|unset`).
public enum OSDMapFlags {
  public static let pauseRead: UInt32 = 1 << 2
  public static let pauseWrite: UInt32 = 1 << 3
  /// No OSD is marked up (boots wait).
  public static let noUp: UInt32 = 1 << 5
  /// No OSD is marked down (failure reports are kept, not acted on).
  public static let noDown: UInt32 = 1 << 6
  /// Down OSDs are not marked out automatically.
  public static let noOut: UInt32 = 1 << 7
  /// Booting OSDs are not marked in automatically.
  public static let noIn: UInt32 = 1 << 8
  /// No backfill starts.
  public static let noBackfill: UInt32 = 1 << 9
  /// No recovery or backfill starts.
  public static let noRecover: UInt32 = 1 << 10

  /// The names `osd set|unset` takes, with their bits.
  public static let named: [(name: String, bit: UInt32)] = [
    ("pauserd", pauseRead), ("pausewr", pauseWrite), ("noup", noUp), ("nodown", noDown),
    ("noout", noOut), ("noin", noIn), ("nobackfill", noBackfill), ("norecover", noRecover),
  ]

  /// `noout,norecover`: the set flags' names, as `ceph osd dump` prints them.
  public static func names(_ flags: UInt32) -> [String] {
    named.filter { flags & $0.bit != 0 }.map(\.name)
  }
}
