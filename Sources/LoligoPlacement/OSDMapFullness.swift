/// How full an OSD is by the map's ratios: the rule the monitors mark OSDs by and the OSDs
/// check themselves with (so one tells the monitors as soon as the other would mark it).
extension OSDMap {
  /// The state bits of fullness; an OSD has at most one of them, the highest it reached.
  public static let fullnessStates: OSDState = [.nearFull, .backfillFull, .full]

  /// The fullness of an OSD using `ratio` of its space: above a ratio, strictly, as Ceph
  /// compares. A ratio of 0 is unset and marks nothing.
  public func fullness(usedRatio ratio: Double) -> OSDState {
    if fullRatio > 0, ratio > fullRatio { return .full }
    if backfillfullRatio > 0, ratio > backfillfullRatio { return .backfillFull }
    if nearfullRatio > 0, ratio > nearfullRatio { return .nearFull }
    return []
  }
}
