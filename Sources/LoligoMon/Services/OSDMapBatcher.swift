import Foundation
import LoligoMessages
import NIOCore

/// Splits OSD map epochs for a subscriber into messages of at most `maxMaps` maps and about
/// `maxBytes` bytes (a single larger map goes alone), in epoch order.
struct OSDMapBatcher {
  let fsid: UUID
  let oldest: UInt32
  let newest: UInt32
  let maxMaps: Int
  let maxBytes: Int
  private var updates: [OSDMapUpdate] = []
  private var current: OSDMapUpdate
  private var count = 0
  private var bytes = 0

  init(fsid: UUID, oldest: UInt32, newest: UInt32, maxMaps: Int, maxBytes: Int) {
    self.fsid = fsid
    self.oldest = oldest
    self.newest = newest
    self.maxMaps = max(1, min(maxMaps, OSDMapUpdate.maxMaps))
    self.maxBytes = max(1, maxBytes)
    current = OSDMapUpdate(fsid: fsid, oldest: oldest, newest: newest)
  }

  mutating func add(full epoch: UInt32, _ map: ByteBuffer) {
    makeRoom(for: map.readableBytes)
    current.fullMaps[epoch] = map
  }

  mutating func add(incremental epoch: UInt32, _ map: ByteBuffer) {
    makeRoom(for: map.readableBytes)
    current.incrementals[epoch] = map
  }

  private mutating func makeRoom(for size: Int) {
    if count > 0 && (count >= maxMaps || bytes + size > maxBytes) {
      updates.append(current)
      current = OSDMapUpdate(fsid: fsid, oldest: oldest, newest: newest)
      count = 0
      bytes = 0
    }
    count += 1
    bytes += size
  }

  /// The messages, in order.
  mutating func finish() -> [OSDMapUpdate] {
    if count > 0 { updates.append(current) }
    count = 0
    return updates
  }
}
