import LoligoPlacement

/// A PG's log: the entries after `tail` up to `head`, oldest first, with an index of the
/// requests they answer. Entries are only appended at the head (versions strictly increase)
/// and trimmed at the tail; peering replaces a divergent suffix as a whole.
public struct PGLog: Sendable, Equatable {
  /// Entries `storage[start...]`; the prefix before `start` was trimmed and is dropped lazily.
  private var storage: [PGLogEntry] = []
  private var start = 0
  /// Every entry after `tail` is in the log; nothing at or before it is.
  public private(set) var tail: EVersion
  /// Request → the version that applied it, for the entries in the log.
  private var requests: [RequestID: EVersion] = [:]

  public init(tail: EVersion = .zero, entries: [PGLogEntry] = []) {
    self.tail = tail
    for entry in entries { append(entry) }
  }

  public static func == (a: PGLog, b: PGLog) -> Bool {
    a.tail == b.tail && a.entries.elementsEqual(b.entries)
  }

  public var entries: ArraySlice<PGLogEntry> { storage[start...] }
  public var count: Int { storage.count - start }
  public var isEmpty: Bool { count == 0 }
  /// The newest entry's version, or the tail when the log is empty.
  public var head: EVersion { start < storage.count ? storage[storage.count - 1].version : tail }

  /// Appends `entry`, whose version must be newer than the head.
  public mutating func append(_ entry: PGLogEntry) {
    precondition(entry.version > head, "log entry \(entry.version) not after head \(head)")
    storage.append(entry)
    requests[entry.reqid] = entry.version
  }

  /// The version that applied `request`, if the log still holds it.
  public func version(of request: RequestID) -> EVersion? { requests[request] }

  /// Whether the log holds an entry of exactly this version.
  public func contains(_ version: EVersion) -> Bool { index(of: version) != nil }

  public func entry(_ version: EVersion) -> PGLogEntry? {
    index(of: version).map { storage[$0] }
  }

  /// Entries newer than `version`, oldest first.
  public func entries(after version: EVersion) -> ArraySlice<PGLogEntry> {
    var low = start
    var high = storage.count
    while low < high {
      let middle = (low + high) / 2
      if storage[middle].version <= version { low = middle + 1 } else { high = middle }
    }
    return storage[low...]
  }

  /// Drops entries up to and including `version` (never past the head); returns them.
  @discardableResult
  public mutating func trim(to version: EVersion) -> [PGLogEntry] {
    var dropped: [PGLogEntry] = []
    while start < storage.count, storage[start].version <= version {
      let entry = storage[start]
      dropped.append(entry)
      if requests[entry.reqid] == entry.version { requests[entry.reqid] = nil }
      start += 1
    }
    if let last = dropped.last { tail = last.version }
    if start > 64 && start * 2 > storage.count {
      storage.removeFirst(start)
      start = 0
    }
    return dropped
  }

  /// Trims the oldest entries so that at most `keep` remain; returns them.
  @discardableResult
  public mutating func trim(keeping keep: Int) -> [PGLogEntry] {
    guard count > keep else { return [] }
    return trim(to: storage[start + count - keep - 1].version)
  }

  /// Drops entries newer than `version` (a divergent suffix); returns them, oldest first.
  public mutating func rewind(to version: EVersion) -> [PGLogEntry] {
    let newer = Array(entries(after: version))
    guard !newer.isEmpty else { return [] }
    storage.removeLast(newer.count)
    for entry in newer where requests[entry.reqid] == entry.version {
      requests[entry.reqid] = nil
    }
    for entry in entries where requests[entry.reqid] == nil {
      requests[entry.reqid] = entry.version
    }
    return newer
  }

  private func index(of version: EVersion) -> Int? {
    guard version > tail else { return nil }
    var low = start
    var high = storage.count
    while low < high {
      let middle = (low + high) / 2
      if storage[middle].version < version { low = middle + 1 } else { high = middle }
    }
    return low < storage.count && storage[low].version == version ? low : nil
  }
}
