import LoligoPlacement

extension PGID {
  /// `POOL.SEED` exactly as Ceph prints it (decimal pool, hex seed, nothing else, at most 32
  /// characters): what the monitors accept from clients and OSDs. `PGID(_:)` alone also takes
  /// signs and spaces Int64 and UInt32 tolerate.
  init?(strict text: String) {
    guard text.utf8.count <= 32,
      text.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == ".") }),
      let parsed = PGID(text), parsed.pool >= 0
    else { return nil }
    self = parsed
  }
}
