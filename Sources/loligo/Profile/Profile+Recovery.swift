import LoligoBench
import LoligoCore
import TOMLKit

extension Profile {
  /// A recovery profile (`kind = "recovery"`), in the spirit of CBT's `recovery_test`: a
  /// cluster and pool as a pool profile has them (`[cluster]`, `[pool]`), the pool prefilled,
  /// a client load (`[bench]`), and one OSD taken out under that load and brought back:
  ///
  ///     [pool]
  ///     prefill_objects = 2000    # the dataset, written before the load
  ///     prefill_size = "64K"
  ///     [bench]
  ///     block_size = "4K"         # each write overwrites one block of the dataset
  ///     concurrency = 16
  ///     [recovery]
  ///     osd = 0                   # the OSD taken out
  ///     action = "out"            # osd out, then osd in; or "kill": kill -9 + down + out,
  ///                               # then restart + in
  ///     pre_time = 10             # seconds of load before the action
  ///     post_time = 10            # seconds of load after the second recovery
  ///     clean_timeout = 300       # longest wait for active+clean, each way
  ///
  /// The load overwrites the prefilled objects (as CBT's load writes into an RBD image of
  /// fixed size) rather than creating new ones: what there is to recover stays the dataset's
  /// size however long a recovery takes, and every block's last acknowledged version is known
  /// for the read-back at the end. Unknown keys are refused, so a misspelt one does not silently run with its default.
  struct RecoveryRun {
    enum Action: String {
      /// `osd out` (the OSD stays up), then `osd in`.
      case out
      /// kill -9, `osd down` and `osd out` (as CBT marks it down and out), then the OSD
      /// started again and `osd in`.
      case kill
    }

    var prefillObjects = 2000
    var prefillSize = "64K"
    var osd = 0
    var action = Action.out
    var preTime = 10
    var postTime = 10
    var cleanTimeout = 300
  }

  /// The keys a recovery profile may have, by table ("" is the top level).
  static let recoveryKeys: [String: Set<String>] = [
    "": ["name", "description", "kind", "trace", "cluster", "pool", "bench", "recovery", "config"],
    "cluster": ["mons", "osds", "objectstore"],
    "pool": ["name", "pg_num", "size", "min_size", "prefill_objects", "prefill_size"],
    "bench": ["block_size", "concurrency"],
    "recovery": ["osd", "action", "pre_time", "post_time", "clean_timeout"],
  ]

  /// Reads a recovery profile's own fields, once `poolRun`'s cluster and pool are read.
  mutating func parseRecovery(
    _ table: TOMLTable,
    integer: (TOMLTable?, String, Int, ClosedRange<Int>) throws -> Int
  ) throws {
    for (section, allowed) in Self.recoveryKeys.sorted(by: { $0.key < $1.key }) {
      let keys = section.isEmpty ? Array(table.keys) : Array(table[section]?.table?.keys ?? [])
      if let unknown = keys.sorted().first(where: { !allowed.contains($0) }) {
        let place = section.isEmpty ? "" : "[\(section)] "
        throw ProfileError(
          "\(path): \(place)\(unknown) is not a recovery profile key (known: "
            + "\(allowed.sorted().joined(separator: ", ")))")
      }
    }
    let p = poolRun
    guard p.osds > p.size else {
      throw ProfileError(
        "\(path): a recovery profile needs more OSDs than the pool's size (osds \(p.osds), "
          + "size \(p.size)): with one OSD out, size copies need size other OSDs to be clean")
    }
    let pool = table["pool"]?.table
    var r = RecoveryRun()
    r.prefillObjects = try integer(pool, "prefill_objects", r.prefillObjects, 1...10_000_000)
    r.prefillSize = pool?["prefill_size"]?.string ?? r.prefillSize
    guard (parseSize(r.prefillSize) ?? 0) >= 1 else {
      throw ProfileError("\(path): prefill_size '\(r.prefillSize)' is not a size")
    }
    let recovery = table["recovery"]?.table
    r.osd = try integer(recovery, "osd", 0, 0...(p.osds - 1))
    if let raw = recovery?["action"] {
      guard let text = raw.string, let action = RecoveryRun.Action(rawValue: text) else {
        throw ProfileError("\(path): action must be \"out\" or \"kill\"")
      }
      r.action = action
    }
    r.preTime = try integer(recovery, "pre_time", r.preTime, 0...3600)
    r.postTime = try integer(recovery, "post_time", r.postTime, 0...3600)
    r.cleanTimeout = try integer(recovery, "clean_timeout", r.cleanTimeout, 1...86400)
    recoveryRun = r
  }

  /// The dataset the prefill writes and the load overwrites.
  var recoveryDataset: RecoveryDataset {
    RecoveryDataset(
      objects: recoveryRun.prefillObjects,
      objectSize: Int(parseSize(recoveryRun.prefillSize) ?? 0),
      blockSize: Int(parseSize(poolRun.blockSize) ?? 0))
  }

  /// Refuses a dataset the load cannot write: once block_size and concurrency are read.
  func checkRecoveryDataset() throws {
    let d = recoveryDataset
    guard d.blockSize >= 1, d.objectSize % d.blockSize == 0 else {
      throw ProfileError(
        "\(path): prefill_size \(recoveryRun.prefillSize) must be a multiple of block_size "
          + "\(poolRun.blockSize): each write overwrites one whole block of an object")
    }
    guard d.objects >= poolRun.concurrency else {
      throw ProfileError(
        "\(path): prefill_objects \(d.objects) must be at least concurrency "
          + "\(poolRun.concurrency): each write in flight has objects of its own")
    }
    // The load keeps two versions per block in memory.
    guard d.blocks <= 100_000_000 else {
      throw ProfileError(
        "\(path): prefill_objects x prefill_size / block_size is \(d.blocks) blocks, more than "
          + "100 000 000")
    }
  }
}
