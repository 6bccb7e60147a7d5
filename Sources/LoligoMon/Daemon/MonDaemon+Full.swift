import Foundation
import LoligoConsensus
import LoligoPlacement

/// The leader marks OSDs nearfull, backfillfull or full from the space they report (Ceph's
/// monitors do it from each OSD's MOSDFull): the states go into the OSD map, where clients,
/// the OSDs' peering and the health checks see them. On the core loop.
extension MonDaemon {
  /// Proposes `osd full-states` for every OSD whose state in the map is not what its last
  /// space report and the map's ratios make it. A down OSD is not full (it takes no writes,
  /// and its state would outlive it); an up OSD not heard from since this leader took over
  /// keeps what it has. A map from before the ratios existed gets the configured ones first,
  /// as Ceph's monitors do on upgrade. Not proposed again within 5 s unless it changed.
  func proposeFullStates() {
    guard !stopped, status.role == .leader else { return }
    let map = services.osdmap.map
    var proposals: [[String: Any]] = []
    if map.fullRatio == 0 && map.backfillfullRatio == 0 && map.nearfullRatio == 0 {
      proposals = [
        ["prefix": "osd set-full-ratio", "ratio": config.double(.monOSDFullRatio)],
        ["prefix": "osd set-backfillfull-ratio", "ratio": config.double(.monOSDBackfillfullRatio)],
        ["prefix": "osd set-nearfull-ratio", "ratio": config.double(.monOSDNearfullRatio)],
      ]
    } else {
      let changes = Self.fullStateChanges(map, space: pgMap.osdSpace)
      guard !changes.isEmpty else { return }
      proposals = [
        [
          "prefix": "osd full-states",
          "states": changes.map { ["osd": Int($0.osd), "state": $0.state] },
        ]
      ]
    }
    let now = Self.seconds()
    let key = proposals.map { "\($0.sorted { $0.key < $1.key })" }.joined()
    if let last = lastFullProposal, last.fields == key, now - last.at < 5 { return }
    lastFullProposal = (key, now)
    for fields in proposals {
      internalTid += 1
      let payload = MonProposalPayload(fields: fields, stamp: Date().timeIntervalSince1970)
      step(.client(ClientRequest(clientId: 0, tid: internalTid, payload: payload.encoded())))
    }
  }

  /// The OSDs whose full state should change, with the state's name.
  static func fullStateChanges(_ map: OSDMap, space: [Int32: OSDSpace]) -> [(
    osd: Int32, state: String
  )] {
    var changes: [(osd: Int32, state: String)] = []
    for (index, entry) in map.osds.enumerated() where entry.exists {
      let osd = Int32(index)
      let want: OSDState
      if !entry.isUp {
        want = []
      } else if let reported = space[osd], reported.kb > 0 {
        want = map.fullness(usedRatio: Double(reported.kbUsed) / Double(reported.kb))
      } else {
        continue
      }
      if entry.state.intersection(OSDMap.fullnessStates) != want {
        changes.append((osd, OSDMapService.fullStateName(want)))
      }
    }
    return changes
  }
}
