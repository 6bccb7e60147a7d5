/// An object's identity inside a placement group: its name in a namespace.
///
/// Ordered as Ceph orders objects (`hobject_t`'s bitwise sort): by the bit-reversed placement
/// hash first, then namespace and name. The objects of one PG share the hash's low bits, so in
/// this order a PG is a contiguous range, and backfill, listing and scrub all walk a PG in the
/// same order Ceph's do.
public struct ObjectID: Hashable, Sendable, Comparable, CustomStringConvertible {
  public let name: String
  public let namespace: String
  /// The placement hash (rjenkins over `namespace 0x1f name`, as `ObjectLocator` hashes it),
  /// bit-reversed: computed once, it is what sorting compares first.
  public let sortKey: UInt32

  public init(_ name: String, namespace: String = "") {
    self.name = name
    self.namespace = namespace
    let hash =
      namespace.isEmpty
      ? CephStringHash.rjenkins(name.utf8)
      : CephStringHash.rjenkins(
        ObjectLocator(pool: 0, namespace: namespace).hashInput(forName: name))
    self.sortKey = hash.bitReversed
  }

  public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

  public static func < (a: ObjectID, b: ObjectID) -> Bool {
    (a.sortKey, a.namespace, a.name) < (b.sortKey, b.namespace, b.name)
  }

  // The sort key follows from the name and namespace: equality and hashing skip it.
  public static func == (a: ObjectID, b: ObjectID) -> Bool {
    a.name == b.name && a.namespace == b.namespace
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(name)
    hasher.combine(namespace)
  }
}

extension UInt32 {
  /// The bits in reverse order (bit 0 becomes bit 31), as Ceph's `_reverse_bits`.
  var bitReversed: UInt32 {
    var value = self
    value = ((value >> 1) & 0x5555_5555) | ((value & 0x5555_5555) << 1)
    value = ((value >> 2) & 0x3333_3333) | ((value & 0x3333_3333) << 2)
    value = ((value >> 4) & 0x0F0F_0F0F) | ((value & 0x0F0F_0F0F) << 4)
    value = ((value >> 8) & 0x00FF_00FF) | ((value & 0x00FF_00FF) << 8)
    return (value >> 16) | (value << 16)
  }
}
