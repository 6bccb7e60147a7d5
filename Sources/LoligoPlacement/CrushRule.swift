/// One step of a placement rule. Raw values are Ceph's `CRUSH_RULE_*` opcodes, which the binary
/// map stores as (op, arg1, arg2) triples.
public enum CrushRuleOp: UInt32, Sendable, CaseIterable {
  case noop = 0
  /// arg1: the bucket (or device) to start from.
  case take = 1
  /// arg1: how many (0 or negative: relative to the requested count); arg2: the bucket type.
  case chooseFirstN = 2
  case chooseIndep = 3
  case emit = 4
  case chooseleafFirstN = 6
  case chooseleafIndep = 7
  case setChooseTries = 8
  case setChooseleafTries = 9
  case setChooseLocalTries = 10
  case setChooseLocalFallbackTries = 11
  case setChooseleafVaryR = 12
  case setChooseleafStable = 13
}

/// A rule step: opcode and two arguments, as in `crush_rule_step`.
public struct CrushRuleStep: Sendable, Hashable {
  public var op: CrushRuleOp
  public var arg1: Int32
  public var arg2: Int32

  public init(_ op: CrushRuleOp, _ arg1: Int32 = 0, _ arg2: Int32 = 0) {
    self.op = op
    self.arg1 = arg1
    self.arg2 = arg2
  }

  public static func take(_ item: Int32) -> Self { Self(.take, item) }
  public static func chooseFirstN(_ count: Int32, type: Int32) -> Self {
    Self(.chooseFirstN, count, type)
  }
  public static func chooseIndep(_ count: Int32, type: Int32) -> Self {
    Self(.chooseIndep, count, type)
  }
  public static func chooseleafFirstN(_ count: Int32, type: Int32) -> Self {
    Self(.chooseleafFirstN, count, type)
  }
  public static func chooseleafIndep(_ count: Int32, type: Int32) -> Self {
    Self(.chooseleafIndep, count, type)
  }
  public static let emit = Self(.emit)
}

/// A placement rule: where to start, what to choose, what to emit. `type`, `minSize` and
/// `maxSize` form the rule's mask; Ceph 16.2 uses them to check that a pool of a given type and
/// size may use the rule.
public struct CrushRule: Sendable, Hashable {
  /// `CEPH_PG_TYPE_REPLICATED`.
  public static let typeReplicated: UInt8 = 1
  /// `CEPH_PG_TYPE_ERASURE`.
  public static let typeErasure: UInt8 = 3

  public var name: String?
  public var type: UInt8
  public var minSize: UInt8
  public var maxSize: UInt8
  public var steps: [CrushRuleStep]

  public init(
    name: String?, type: UInt8 = CrushRule.typeReplicated, minSize: UInt8 = 1,
    maxSize: UInt8 = 10, steps: [CrushRuleStep]
  ) {
    self.name = name
    self.type = type
    self.minSize = minSize
    self.maxSize = maxSize
    self.steps = steps
  }

  /// The rule `crushtool --build` and `ceph osd crush rule create-replicated` make:
  /// take `root`, one leaf under each distinct bucket of `failureDomain`, emit.
  public static func replicated(name: String, root: Int32, failureDomain: Int32) -> CrushRule {
    CrushRule(
      name: name, steps: [.take(root), .chooseleafFirstN(0, type: failureDomain), .emit])
  }
}
