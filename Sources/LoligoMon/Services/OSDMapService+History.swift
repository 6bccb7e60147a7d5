import Foundation
import LoligoConsensus
import LoligoCore
import LoligoMessages
import LoligoPlacement
import NIOCore

/// The OSD map history the monitors keep for the OSDs, which need every epoch since a PG was
/// last clean to work out its past intervals: the base (the full map of the oldest epoch kept)
/// and each incremental after it. The leader decides how far to trim (`trimTarget`) and
/// proposes it (`osd trim`); every monitor then advances its base by the same incrementals, so
/// the history stays the same everywhere.
extension OSDMapService {
  /// Epochs one trim moves the base at most, bounding the work of one commit (Ceph's
  /// paxos_service_trim_max).
  static let maxTrimPerCommit: UInt32 = 500

  /// The epoch the base may move to (nil: not past the current base), keeping at least
  /// `minEpochs` epochs (`mon_min_osdmap_epochs`) and every epoch from the smallest
  /// last_epoch_clean of all PGs on. Nil `lastEpochClean` (a PG never reported) trims nothing.
  static func trimTarget(
    epoch: UInt32, base: UInt32, minEpochs: Int, lastEpochClean: UInt32?
  ) -> UInt32? {
    guard let lastEpochClean, minEpochs >= 1, Int(epoch) + 1 > minEpochs else { return nil }
    let target = min(lastEpochClean, UInt32(Int(epoch) + 1 - minEpochs))
    return target > base ? target : nil
  }

  /// Moves the base to `target` (bounded by the newest epoch and `maxTrimPerCommit`), applying
  /// and deleting the incrementals up to it. Nil when nothing moved.
  @discardableResult
  mutating func trim(
    to target: UInt32, store: any MonStoreReader, into t: inout MonStoreTransaction
  )
    -> UInt32?
  {
    let to = min(target, map.epoch, base.epoch &+ Self.maxTrimPerCommit)
    guard to > base.epoch else { return nil }
    var next = base
    var deletes: [MonStoreOp] = []
    for epoch in (base.epoch + 1)...to {
      guard var raw = Self.incremental(epoch, store: store),
        let incremental = try? OSDMapIncremental(from: &raw), (try? next.apply(incremental)) != nil
      else {
        // Every monitor holds the same history, so they all stop here alike.
        Log.shared.error("mon", "osdmap trim: incremental \(epoch) missing or unusable")
        return nil
      }
      deletes.append(.delete(prefix: Self.prefix, key: Self.incrementalKey(epoch)))
    }
    base = next
    firstIncremental = to + 1
    t.ops.append(contentsOf: deletes)
    t.ops.append(.put(prefix: Self.prefix, key: Self.baseKey, value: base.encoded()))
    return to
  }
}

extension OSDMapService {
  /// What a subscriber asking from epoch `from` gets, in messages of at most `maxMaps` maps
  /// and about `maxBytes`. From 0: the newest full map (clients need no history). From an
  /// epoch at or before the oldest incremental: the base full map and every incremental after
  /// it (an OSD working out past intervals needs them all). From a later epoch: the
  /// incrementals from there. Nothing when `from` is past the newest epoch.
  func updates(
    from: UInt32, fsid: UUID, store: any MonStoreReader, maxMaps: Int, maxBytes: Int
  ) -> [OSDMapUpdate] {
    guard from <= map.epoch else { return [] }
    var batch = OSDMapBatcher(
      fsid: fsid, oldest: base.epoch, newest: map.epoch, maxMaps: maxMaps, maxBytes: maxBytes)
    if from == 0 {
      batch.add(full: map.epoch, map.encoded())
      return batch.finish()
    }
    if from <= firstIncremental { batch.add(full: base.epoch, base.encoded()) }
    let start = max(from, firstIncremental)
    if start <= map.epoch {
      for epoch in start...map.epoch {
        guard let incremental = Self.incremental(epoch, store: store) else {
          // Not held after all: the newest full map alone is still right.
          var whole = OSDMapBatcher(
            fsid: fsid, oldest: base.epoch, newest: map.epoch, maxMaps: 1, maxBytes: maxBytes)
          whole.add(full: map.epoch, map.encoded())
          return whole.finish()
        }
        batch.add(incremental: epoch, incremental)
      }
    }
    return batch.finish()
  }
}
