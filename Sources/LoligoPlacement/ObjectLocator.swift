/// Where an object lives before hashing (`object_locator_t`): its pool, an optional locator key
/// that replaces the name for placement (objects sharing a key share a PG), an optional
/// namespace (hashed in front of the name, separated by 0x1f) and an optional explicit hash that
/// bypasses naming altogether.
public struct ObjectLocator: Hashable, Sendable {
  public var pool: Int64
  public var key: String
  public var namespace: String
  /// An explicit placement hash (used as the raw PG seed), or nil.
  public var hash: UInt32?

  public init(pool: Int64, key: String = "", namespace: String = "", hash: UInt32? = nil) {
    self.pool = pool
    self.key = key
    self.namespace = namespace
    self.hash = hash
  }

  /// The bytes Ceph hashes for `name` under this locator (`pg_pool_t::hash_key` input):
  /// the key if set, else the name; prefixed by `namespace + 0x1f` when a namespace is set.
  public func hashInput(forName name: String) -> [UInt8] {
    let base = key.isEmpty ? name : key
    guard !namespace.isEmpty else { return Array(base.utf8) }
    return Array(namespace.utf8) + [0x1f] + Array(base.utf8)
  }
}
