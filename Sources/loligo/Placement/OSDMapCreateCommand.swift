import ArgumentParser
import Foundation
import LoligoPlacement

/// `loligo osdmap create`: osdmaptool's `--createsimple` + `--import-crush` in one step.
struct OSDMapCreateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create",
    abstract: "Create an OSD map with one replicated pool, like osdmaptool --createsimple.",
    discussion: """
      Equivalent to

        osdmaptool F --createsimple N --with-default-pool --pg_bits B \\
          --pgp_bits C --osd_pool_default_size S
        osdmaptool F --import-crush MAP [--mark-up-in] [--mark-out K]

      The pool is replicated, id 1, named rbd, rule 0, hashpspool, rjenkins object hash, \
      pg_num N<<B and pgp_num N<<min(C,B) (or --pg-num/--pgp-num). OSDs exist but are down \
      and out unless --mark-up-in; --mark-out K then sets OSD K's reweight to 0. Unlike \
      osdmaptool, --mark-up-in leaves CRUSH weights alone (osdmaptool raises zero CRUSH \
      weights to 1).

      Example:
        loligo osdmap create -o A.osdmap --num-osds 12 --pg-bits 2 \\
          --pgp-bits 2 --size 3 --crush maps/hosts4x3.txt --mark-up-in \\
          --mark-out 7
      """
  )

  @Option(name: [.customShort("o"), .customLong("output")], help: "Where to write the map.")
  var output: String

  @Option(
    name: [.customLong("num-osds"), .customLong("createsimple")],
    help: "Number of OSDs (max_osd).")
  var numOSDs: Int32

  @Option(
    name: [.customLong("crush"), .customLong("import-crush")],
    help: "CRUSH map (text or binary).")
  var crush: String

  @Option(name: [.customLong("pg-bits"), .customLong("pg_bits")], help: "pg_num = N << bits.")
  var pgBits: Int = 6

  @Option(name: [.customLong("pgp-bits"), .customLong("pgp_bits")], help: "pgp_num = N << bits.")
  var pgpBits: Int = 6

  @Option(name: .customLong("pg-num"), help: "Explicit pg_num (overrides --pg-bits).")
  var pgNum: UInt32?

  @Option(name: .customLong("pgp-num"), help: "Explicit pgp_num (overrides --pgp-bits).")
  var pgpNum: UInt32?

  @Option(
    name: [.customLong("size"), .customLong("osd_pool_default_size")],
    help: "Pool size (replicas).")
  var size: UInt8 = 3

  @Option(name: .customLong("pool-name"), help: "Pool name.")
  var poolName = "rbd"

  @Option(name: .customLong("pool-id"), help: "Pool id.")
  var poolID: Int64 = 1

  @Option(name: .customLong("fsid"), help: "Cluster fsid (default: all zeros, as osdmaptool).")
  var fsid = "00000000-0000-0000-0000-000000000000"

  @Flag(name: [.customLong("mark-up-in")], help: "Mark every OSD up and in.")
  var markUpIn = false

  @Option(name: .customLong("mark-out"), help: "Mark this OSD out (repeatable).")
  var markOut: [Int32] = []

  func run() throws {
    guard let uuid = UUID(uuidString: fsid) else {
      throw PlacementCLI.failure("invalid --fsid \(fsid)")
    }
    let crushMap = try PlacementCLI.loadCrushMap(crush)
    var map: OSDMap
    do {
      map = try OSDMap.simple(
        fsid: uuid, osdCount: numOSDs, pgBits: pgBits, pgpBits: pgpBits, poolSize: size,
        crush: crushMap, poolName: poolName, poolID: poolID, pgNum: pgNum, pgpNum: pgpNum)
      if markUpIn { map.markAllUpIn() }
      for osd in markOut {
        try map.updateEntry(osd) { entry in
          entry.state.insert(.up)
          entry.weight = 0
        }
      }
    } catch {
      throw PlacementCLI.failure(error.description)
    }
    try PlacementCLI.write(Data(OSDMapFile.encode(map)), to: output)
  }
}
