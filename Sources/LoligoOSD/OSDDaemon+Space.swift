import Foundation
import LoligoCore
import LoligoPlacement
import NIOCore

/// The OSD's space as it reports it to the monitors (Ceph's `osd_stat_t` kb, kb_used,
/// kb_avail), from which they mark it nearfull, backfillfull or full.
extension OSDDaemon {
  var spaceFields: [String: Any] {
    let space = store.space()
    return [
      "kb": Int(space.total / 1024), "kb_used": Int(space.used / 1024),
      "kb_avail": Int(space.available / 1024),
    ]
  }

  /// Tells the monitors at once when its fullness by the map's ratios is not what the map
  /// says, rather than at the next report (a disk fills in less than a report interval), as
  /// Ceph's OSDs send MOSDFull on a change: a report of its space alone. At most every 200 ms.
  func checkFullness() {
    guard !stopped, let map, map.isUp(id), let entry = map.entry(id) else { return }
    let now = NIODeadline.now()
    guard now - lastSpaceReport >= .milliseconds(200) else { return }
    let fullness = map.fullness(usedRatio: store.space().ratio)
    guard entry.state.intersection(OSDMap.fullnessStates) != fullness else { return }
    lastSpaceReport = now
    _ = monClient.command(
      [
        "prefix": "pg stats", "id": Int(id), "epoch": Int(map.epoch), "pgs": [Any](),
        "osd_stats": spaceFields,
      ], timeout: .seconds(5))
  }

  /// What a memstore OSD reports as its size when `memstore_device_bytes` is 0.
  static func physicalMemory() -> UInt64 {
    let pages = sysconf(Int32(_SC_PHYS_PAGES))
    let size = sysconf(Int32(_SC_PAGESIZE))
    return pages > 0 && size > 0 ? UInt64(pages) * UInt64(size) : 1 << 30
  }
}
