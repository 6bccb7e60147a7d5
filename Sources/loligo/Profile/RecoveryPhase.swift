/// Where a recovery run is: the load alone, the first recovery (after the OSD went out or was
/// killed), the second (after it came back in), the load alone again.
enum RecoveryPhase: String, CaseIterable, Codable {
  case pre
  case recoveringOut = "recovering-out"
  case recoveringIn = "recovering-in"
  case post

  var isRecovering: Bool { self == .recoveringOut || self == .recoveringIn }
}
