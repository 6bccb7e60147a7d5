import LoligoCore
import NIOCore

/// What one step produces, gathered while the step runs.
///
/// All store writes of a step go into one transaction placed first in the output list. That is
/// safe because a crash part-way through the outputs then looks like a step that completed
/// with some messages lost, which the protocol tolerates; and it costs one sync per step.
/// Reads go through an overlay of the step's own writes, because the daemon applies the
/// transaction only after the step returns.
struct MonEffects {
  let store: any MonStoreReader
  private(set) var ops: [MonStoreOp] = []
  private var overlay: [String: [String: ByteBuffer?]] = [:]
  private var clearedPrefixes: Set<String> = []
  var outputs: [MonOutput] = []
  /// Versions committed during this step, for client replies.
  var commits: [CommittedValue] = []

  init(store: any MonStoreReader) {
    self.store = store
  }

  func get(_ prefix: String, _ key: String) -> ByteBuffer? {
    if let entry = overlay[prefix]?[key] { return entry }
    if clearedPrefixes.contains(prefix) { return nil }
    return store.get(prefix: prefix, key: key)
  }

  func getUInt64(_ prefix: String, _ key: String) -> UInt64 {
    get(prefix, key)?.littleEndianUInt64 ?? 0
  }

  func getFlag(_ prefix: String, _ key: String) -> Bool {
    guard var buffer = get(prefix, key), let byte = buffer.readInteger(as: UInt8.self) else {
      return false
    }
    return byte != 0
  }

  mutating func put(_ prefix: String, _ key: String, _ value: ByteBuffer) {
    ops.append(.put(prefix: prefix, key: key, value: value))
    overlay[prefix, default: [:]][key] = .some(value)
  }

  mutating func put(_ prefix: String, _ key: String, _ value: UInt64) {
    put(prefix, key, ByteBuffer(littleEndian: value))
  }

  mutating func putFlag(_ prefix: String, _ key: String, _ value: Bool) {
    put(prefix, key, MonStoreKeys.encode(value))
  }

  mutating func delete(_ prefix: String, _ key: String) {
    ops.append(.delete(prefix: prefix, key: key))
    overlay[prefix, default: [:]][key] = .some(nil)
  }

  mutating func deletePrefix(_ prefix: String) {
    ops.append(.deletePrefix(prefix))
    overlay[prefix] = [:]
    clearedPrefixes.insert(prefix)
  }

  mutating func send(_ to: Int, _ message: MonMessage) {
    outputs.append(.send(to: to, message))
  }

  mutating func emit(_ output: MonOutput) {
    outputs.append(output)
  }

  mutating func committed(_ value: CommittedValue) {
    outputs.append(.committed(value))
    commits.append(value)
  }

  func finish() -> [MonOutput] {
    if ops.isEmpty { return outputs }
    return [.store(MonStoreTransaction(ops: ops))] + outputs
  }
}
