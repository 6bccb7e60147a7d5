/// An object's identity inside a placement group: its name in a namespace. Ordered by
/// (namespace, name), the order in which object stores list a collection.
public struct ObjectID: Hashable, Sendable, Comparable, CustomStringConvertible {
  public var name: String
  public var namespace: String

  public init(_ name: String, namespace: String = "") {
    self.name = name
    self.namespace = namespace
  }

  public var description: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }

  public static func < (a: ObjectID, b: ObjectID) -> Bool {
    (a.namespace, a.name) < (b.namespace, b.name)
  }
}
