import LoligoPlacement

/// `osd set|unset KEY`: the cluster-wide flags of the OSD map (Ceph's `CEPH_OSDMAP_*`). The
/// monitors obey noup, nodown, noout and noin themselves (boots, failures, automatic out and
/// in); the OSDs obey the others.
extension OSDMapService {
  /// The bits a key names: each flag by its name, and `pause` for both pauses, as in Ceph.
  static func flagBits(_ key: String) -> UInt32? {
    if key == "pause" { return OSDMapFlags.pauseRead | OSDMapFlags.pauseWrite }
    return OSDMapFlags.named.first { $0.name == key }?.bit
  }

  func setFlag(_ fields: [String: Any], set: Bool, _ pending: inout Pending) throws
    -> CommandResult
  {
    guard let key = fields["key"] as? String, let bits = Self.flagBits(key) else {
      let known = OSDMapFlags.named.map(\.name) + ["pause"]
      return .error(
        .invalid,
        "unrecognized flag '\(fields["key"] ?? "")' (one of \(known.joined(separator: ", ")))")
    }
    let current = pending.view.flags
    let next = set ? current | bits : current & ~bits
    // Setting a flag already set is not a new epoch.
    if next != current { try stage(&pending) { $0.newFlags = next } }
    return CommandResult(0, "\(key) is \(set ? "set" : "unset")")
  }
}
