/// Per-OSD state bits as Ceph keeps them in the OSD map (`CEPH_OSD_*`).
public struct OSDState: OptionSet, Sendable, Hashable {
  public var rawValue: UInt32
  public init(rawValue: UInt32) { self.rawValue = rawValue }

  public static let exists = OSDState(rawValue: 1 << 0)
  public static let up = OSDState(rawValue: 1 << 1)
  /// Marked out automatically (after being down too long).
  public static let autoOut = OSDState(rawValue: 1 << 2)
  /// Created but never marked in.
  public static let new = OSDState(rawValue: 1 << 3)
  public static let full = OSDState(rawValue: 1 << 4)
  public static let nearFull = OSDState(rawValue: 1 << 5)
  public static let backfillFull = OSDState(rawValue: 1 << 6)
  public static let destroyed = OSDState(rawValue: 1 << 7)
  public static let noUp = OSDState(rawValue: 1 << 8)
  public static let noDown = OSDState(rawValue: 1 << 9)
  public static let noIn = OSDState(rawValue: 1 << 10)
  public static let noOut = OSDState(rawValue: 1 << 11)
  public static let stop = OSDState(rawValue: 1 << 12)

  private static let named: [(OSDState, String)] = [
    (.exists, "exists"), (.up, "up"), (.autoOut, "autoout"), (.new, "new"), (.full, "full"),
    (.nearFull, "nearfull"), (.backfillFull, "backfillfull"), (.destroyed, "destroyed"),
    (.noUp, "noup"), (.noDown, "nodown"), (.noIn, "noin"), (.noOut, "noout"), (.stop, "stop"),
  ]

  /// Names as Ceph prints them (`exists,up`).
  public var names: [String] { Self.named.filter { contains($0.0) }.map(\.1) }

  public init?(name: String) {
    guard let match = Self.named.first(where: { $0.1 == name }) else { return nil }
    self = match.0
  }
}

/// One OSD's entry in the map: state, reweight, primary affinity, addresses and the epochs
/// that bound its current up interval.
public struct OSDEntry: Sendable, Hashable {
  public var state: OSDState
  /// Reweight in 16.16: 0x10000 fully in, 0 out; what CRUSH's `is_out` test sees.
  public var weight: UInt32
  /// Chance (16.16) of serving as primary when chosen first; 0x10000 is the default.
  public var primaryAffinity: UInt32
  /// Where clients reach the OSD (e.g. `v2:10.0.0.1:6800/1234`); empty when unknown.
  public var publicAddress: String
  /// Where peers reach it for replication; empty when unknown.
  public var clusterAddress: String
  public var upFrom: UInt32
  public var upThru: UInt32
  public var downAt: UInt32

  public init(
    state: OSDState = [], weight: UInt32 = 0, primaryAffinity: UInt32 = OSDMap.defaultAffinity,
    publicAddress: String = "", clusterAddress: String = "", upFrom: UInt32 = 0,
    upThru: UInt32 = 0, downAt: UInt32 = 0
  ) {
    self.state = state
    self.weight = weight
    self.primaryAffinity = primaryAffinity
    self.publicAddress = publicAddress
    self.clusterAddress = clusterAddress
    self.upFrom = upFrom
    self.upThru = upThru
    self.downAt = downAt
  }

  public var exists: Bool { state.contains(.exists) }
  public var isUp: Bool { state.contains(.exists) && state.contains(.up) }
  public var isIn: Bool { weight != 0 }
}
