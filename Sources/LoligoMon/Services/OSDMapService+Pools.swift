import LoligoPlacement

/// Pool commands: `osd pool create`, `delete`, `set`.
extension OSDMapService {
  func createPool(_ fields: [String: Any], _ pending: inout Pending) throws -> CommandResult {
    let view = pending.view
    guard let name = fields["pool"] as? String, Self.validName(name) else {
      return .error(
        .invalid, "pool name must be 1-128 characters of letters, digits, '-', '_', '.'")
    }
    let pgNum = (fields["pg_num"] as? Int) ?? 32
    let size = (fields["size"] as? Int) ?? 3
    let minSize = (fields["min_size"] as? Int) ?? (size - size / 2)
    if let id = view.poolID(named: name), let existing = view.pool(id) {
      if UInt32(exactly: pgNum) == existing.pgNum && Int(existing.size) == size {
        return CommandResult(0, "pool '\(name)' already exists")
      }
      return .error(.exists, "pool '\(name)' exists with other settings")
    }
    guard (1...Int(Self.maxPGsPerPool)).contains(pgNum) else {
      return .error(.range, "pg_num must be 1...\(Self.maxPGsPerPool)")
    }
    guard (1...10).contains(size), (1...size).contains(minSize) else {
      return .error(.range, "size must be 1...10 and min_size 1...size")
    }
    guard view.pools.count < Self.maxPools else { return .error(.range, "too many pools") }
    let id = view.poolMax + 1
    try stage(&pending) { inc in
      inc.newPoolMax = id
      inc.newPools[id] = Pool(
        name: name, size: UInt8(size), minSize: UInt8(minSize), pgNum: UInt32(pgNum),
        lastChange: inc.epoch)
    }
    return CommandResult(0, "pool '\(name)' created (id \(id))")
  }

  func deletePool(_ fields: [String: Any], _ pending: inout Pending) throws -> CommandResult {
    guard let name = fields["pool"] as? String, let id = pending.view.poolID(named: name) else {
      return CommandResult(0, "pool '\(fields["pool"] ?? "")' does not exist")
    }
    try stage(&pending) { $0.oldPools.insert(id) }
    return CommandResult(0, "pool '\(name)' removed")
  }

  func setPool(_ fields: [String: Any], _ pending: inout Pending) throws -> CommandResult {
    let view = pending.view
    guard let name = fields["pool"] as? String, let id = view.poolID(named: name),
      var pool = view.pool(id)
    else { return .error(.noEntry, "unknown pool '\(fields["pool"] ?? "")'") }
    guard let variable = fields["var"] as? String, let text = fields["val"] as? String,
      let value = Int(text)
    else { return .error(.invalid, "osd pool set needs var and an integer val") }
    switch variable {
    case "size":
      guard (1...10).contains(value) else { return .error(.range, "size must be 1...10") }
      pool.size = UInt8(value)
      if Int(pool.minSize) > value { pool.minSize = UInt8(value) }
    case "min_size":
      guard (1...Int(pool.size)).contains(value) else {
        return .error(.range, "min_size must be 1...size")
      }
      pool.minSize = UInt8(value)
    case "pg_num":
      guard (1...Int(Self.maxPGsPerPool)).contains(value) else {
        return .error(.range, "pg_num out of range")
      }
      pool.setPGNum(UInt32(value))
    case "pgp_num":
      guard (1...Int(pool.pgNum)).contains(value) else {
        return .error(.range, "pgp_num must be 1...pg_num")
      }
      pool.setPGPNum(UInt32(value))
    default:
      return .error(.invalid, "cannot set '\(variable)' (size, min_size, pg_num, pgp_num)")
    }
    pool.lastChange = pending.incremental.epoch
    try stage(&pending) { $0.newPools[id] = pool }
    return CommandResult(0, "set pool \(id) \(variable) to \(value)")
  }
}
