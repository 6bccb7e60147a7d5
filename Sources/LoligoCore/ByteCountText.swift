import Foundation

/// A byte count as people read it in messages: `90 MiB`, `1.5 GiB`, `1028 MiB`, `11.8 GiB`,
/// `512 bytes` (IEC units, the ones the size options and `-b` take). Exact where a unit allows
/// (one decimal, or the next smaller unit), else rounded to a tenth.
public func byteCountText(_ bytes: UInt64) -> String {
  let units: [(shift: UInt64, name: String)] = [
    (50, "PiB"), (40, "TiB"), (30, "GiB"), (20, "MiB"), (10, "KiB"),
  ]
  for (index, unit) in units.enumerated() where bytes >= 1 << unit.shift {
    let size: UInt64 = 1 << unit.shift
    if bytes % size == 0 { return "\(bytes / size) \(unit.name)" }
    let tenths = bytes.multipliedReportingOverflow(by: 10)
    if !tenths.overflow && tenths.partialValue % size == 0 {
      return String(format: "%.1f %@", Double(bytes) / Double(size), unit.name)
    }
    if index + 1 < units.count, bytes % (size >> 10) == 0 {
      return "\(bytes / (size >> 10)) \(units[index + 1].name)"
    }
    return String(format: "%.1f %@", Double(bytes) / Double(size), unit.name)
  }
  return bytes == 1 ? "1 byte" : "\(bytes) bytes"
}
