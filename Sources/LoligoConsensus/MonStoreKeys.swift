import NIOCore

/// Key layout of the monitor store (prefix + key → bytes). Integers are 8-byte little endian
/// (`ByteBuffer(littleEndian:)`), flags one byte. A RocksDB implementation stores the same
/// pairs, e.g. as `prefix` `\0` `key`.
///
/// | prefix     | key                    | value                                                  |
/// |------------|------------------------|--------------------------------------------------------|
/// | `paxos`    | `first_committed`      | u64, oldest version still kept (0: none yet)           |
/// | `paxos`    | `last_committed`       | u64, newest committed version (0: none yet)            |
/// | `paxos`    | 20-digit version       | value bytes of that version (a `ProposalBatch`)        |
/// | `paxos`    | `last_pn`              | u64, highest proposal number this monitor generated    |
/// | `paxos`    | `accepted_pn`          | u64, highest proposal number promised (acceptor state) |
/// | `paxos`    | `pending_v`            | u64, version of the accepted-but-uncommitted value     |
/// | `paxos`    | `pending_pn`           | u64, proposal number that value was accepted under     |
/// | `election` | `epoch`                | u64, election epoch (odd: electing, even: stable)      |
/// | `monitor`  | `joined`               | u8, 1 once this monitor has been in a quorum           |
/// | `mon_sync` | `in_sync`              | u8, 1 while a full sync is incomplete (store unusable) |
/// | `mon_sync` | `last_committed_floor` | u64, a full sync must reach at least this version      |
///
/// Versions are zero-padded to 20 digits so bytewise key order is numeric order. The value at
/// `last_committed + 1`, when `pending_v` names it, is the accepted but uncommitted value;
/// anything else above `last_committed` is stale and ignored. Services may keep their own
/// prefixes in the same store; a full sync copies the prefixes listed in
/// `MonitorConfig.serviceStorePrefixes` along with the paxos versions.
public enum MonStoreKeys {
  public static let paxos = "paxos"
  public static let firstCommitted = "first_committed"
  public static let lastCommitted = "last_committed"
  public static let lastPN = "last_pn"
  public static let acceptedPN = "accepted_pn"
  public static let pendingVersion = "pending_v"
  public static let pendingPN = "pending_pn"

  public static let election = "election"
  public static let epoch = "epoch"

  public static let monitor = "monitor"
  public static let joined = "joined"

  public static let sync = "mon_sync"
  public static let inSync = "in_sync"
  public static let syncFloor = "last_committed_floor"

  /// Prefixes that belong to this monitor alone and are never copied by a sync.
  public static let localPrefixes: Set<String> = [election, monitor, sync]

  /// The `paxos` key of a version: 20 decimal digits.
  public static func version(_ version: UInt64) -> String {
    let digits = String(version)
    return String(repeating: "0", count: 20 - digits.count) + digits
  }

  /// The version a `paxos` key names, or nil for the metadata keys.
  public static func parseVersion(_ key: String) -> UInt64? {
    guard key.utf8.count == 20, key.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
      return nil
    }
    return UInt64(key)
  }

  public static func encode(_ flag: Bool) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 1)
    buffer.writeInteger(UInt8(flag ? 1 : 0))
    return buffer
  }
}
