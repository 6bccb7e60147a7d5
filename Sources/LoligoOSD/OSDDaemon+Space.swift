import Foundation
import LoligoCore

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

  /// What a memstore OSD reports as its size when `memstore_device_bytes` is 0.
  static func physicalMemory() -> UInt64 {
    let pages = sysconf(Int32(_SC_PHYS_PAGES))
    let size = sysconf(Int32(_SC_PAGESIZE))
    return pages > 0 && size > 0 ? UInt64(pages) * UInt64(size) : 1 << 30
  }
}
