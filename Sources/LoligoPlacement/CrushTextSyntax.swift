/// The syntax layer of the CRUSH text format (what `crushtool -d` prints and `crushtool -c`
/// reads): tokens and a statement tree, before any name is resolved. `CrushTextParser` gives
/// the statements their meaning.
///
/// Grammar (Ceph 16.2's, with `#` comments):
///
///     map      := (tunable | device | type)* (bucket | rule)* choose_args*
///     tunable  := "tunable" NAME UINT
///     device   := "device" UINT NAME ["class" NAME]
///     type     := "type" UINT NAME
///     bucket   := NAME NAME "{" ("id" NEGINT ["class" NAME])* "alg" NAME ("hash" INT|"rjenkins1")*
///                 ("item" NAME ["weight" REAL] ["pos" UINT])* "}"
///     rule     := "rule" [NAME] "{" ("id"|"ruleset") UINT "type" ("replicated"|"erasure")
///                 ["min_size" UINT] ["max_size" UINT] step+ "}"
///     step     := "step" ( "take" NAME ["class" NAME] | "set_..." UINT
///                 | ("choose"|"chooseleaf") ("firstn"|"indep") INT "type" NAME | "emit" )
///     choose_args := "choose_args" UINT "{" ("{" "bucket_id" NEGINT
///                 ["weight_set" "[" ("[" REAL* "]")* "]"] ["ids" "[" INT* "]"] "}")* "}"
///
/// Names are made of letters, digits, `-`, `_` and `.`. Tokens are separated by white space;
/// braces and brackets also stand alone.
struct CrushTextToken: Equatable {
  var text: Substring
  var line: Int
}

enum CrushTextSyntax {
  struct Tunable {
    var name: String
    var value: UInt32
    var line: Int
  }

  struct Device {
    var id: Int32
    var name: String
    var className: String?
    var line: Int
  }

  struct TypeName {
    var id: Int32
    var name: String
    var line: Int
  }

  struct BucketID {
    var id: Int32
    var className: String?
    var line: Int
  }

  struct BucketItem {
    var name: String
    /// The raw text of the weight, converted like Ceph (`strtof * 65536`).
    var weight: UInt32?
    var position: Int?
    var line: Int
  }

  struct Bucket {
    var typeName: String
    var name: String
    var ids: [BucketID]
    var algorithm: String
    var algorithmLine: Int
    var hash: UInt8
    var items: [BucketItem]
    var line: Int
  }

  struct Step {
    var keyword: String
    var mode: String?
    var count: Int32
    var name: String?
    var className: String?
    var line: Int
  }

  struct Rule {
    var name: String?
    var id: Int
    var type: UInt8
    var minSize: UInt8
    var maxSize: UInt8
    var steps: [Step]
    var line: Int
  }

  struct ChooseArg {
    var bucketID: Int32
    var weightSet: [[UInt32]]?
    var ids: [Int32]?
    var line: Int
  }

  struct ChooseArgs {
    var index: Int64
    var args: [ChooseArg]
    var line: Int
  }

  enum Statement {
    case tunable(Tunable)
    case device(Device)
    case type(TypeName)
    case bucket(Bucket)
    case rule(Rule)
    case chooseArgs(ChooseArgs)
  }

  static let stepSetters = [
    "set_choose_tries", "set_choose_local_tries", "set_choose_local_fallback_tries",
    "set_chooseleaf_tries", "set_chooseleaf_vary_r", "set_chooseleaf_stable",
  ]

  /// Splits `text` into tokens, dropping comments.
  static func tokenize(_ text: String) -> [CrushTextToken] {
    var tokens: [CrushTextToken] = []
    var lineNumber = 0
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      var line = rawLine
      if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
      var start: Substring.Index? = nil
      var index = line.startIndex
      while index < line.endIndex {
        let character = line[index]
        if character.isWhitespace || "{}[]".contains(character) {
          if let begin = start {
            tokens.append(CrushTextToken(text: line[begin..<index], line: lineNumber))
            start = nil
          }
          if !character.isWhitespace {
            tokens.append(
              CrushTextToken(text: line[index..<line.index(after: index)], line: lineNumber))
          }
        } else if start == nil {
          start = index
        }
        index = line.index(after: index)
      }
      if let begin = start {
        tokens.append(CrushTextToken(text: line[begin...], line: lineNumber))
      }
    }
    return tokens
  }

  static func isName(_ text: Substring) -> Bool {
    !text.isEmpty
      && text.utf8.allSatisfy { byte in
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a)
          || (byte >= 0x61 && byte <= 0x7a) || byte == 0x2d || byte == 0x5f || byte == 0x2e
      }
  }

  /// A real number as Spirit's `real_p` accepts it: optional sign, digits with an optional
  /// fraction (or a fraction alone), optional exponent.
  static func isReal(_ text: Substring) -> Bool {
    var bytes = Array(text.utf8)[...]
    if let first = bytes.first, first == 0x2b || first == 0x2d { bytes = bytes.dropFirst() }
    let isDigit = { (byte: UInt8) in byte >= 0x30 && byte <= 0x39 }
    let whole = bytes.prefix(while: isDigit)
    bytes = bytes.dropFirst(whole.count)
    var fraction = 0
    if bytes.first == 0x2e {
      bytes = bytes.dropFirst()
      fraction = bytes.prefix(while: isDigit).count
      bytes = bytes.dropFirst(fraction)
    }
    guard whole.count + fraction > 0 else { return false }
    if let e = bytes.first, e == 0x65 || e == 0x45 {
      bytes = bytes.dropFirst()
      if let sign = bytes.first, sign == 0x2b || sign == 0x2d { bytes = bytes.dropFirst() }
      let exponent = bytes.prefix(while: isDigit).count
      guard exponent > 0 else { return false }
      bytes = bytes.dropFirst(exponent)
    }
    return bytes.isEmpty
  }
}

/// Reads statements from tokens; every failure names the line of the offending token (or the
/// last line for a premature end).
struct CrushTextReader {
  private let tokens: [CrushTextToken]
  private var position = 0
  private let lastLine: Int

  init(_ text: String) {
    tokens = CrushTextSyntax.tokenize(text)
    lastLine = max(text.split(separator: "\n", omittingEmptySubsequences: false).count, 1)
  }

  typealias Syntax = CrushTextSyntax

  private var atEnd: Bool { position >= tokens.count }
  private var peek: Substring? { atEnd ? nil : tokens[position].text }
  private var line: Int { atEnd ? lastLine : tokens[position].line }

  private func error(_ message: String) -> CrushTextError {
    CrushTextError(line: line, message)
  }

  private func found() -> String {
    guard let peek else { return "end of input" }
    return "'\(peek)'"
  }

  private mutating func next() -> CrushTextToken? {
    guard !atEnd else { return nil }
    defer { position += 1 }
    return tokens[position]
  }

  private mutating func accept(_ keyword: String) -> Bool {
    if peek == keyword[...] {
      position += 1
      return true
    }
    return false
  }

  private mutating func expect(_ keyword: String, _ context: String) throws(CrushTextError) {
    guard accept(keyword) else {
      throw error("expected '\(keyword)' \(context), found \(found())")
    }
  }

  private mutating func name(_ what: String) throws(CrushTextError) -> String {
    guard let token = peek, CrushTextSyntax.isName(token), !"{}[]".contains(token) else {
      throw error("expected \(what) (letters, digits, '-', '_', '.'), found \(found())")
    }
    position += 1
    return String(token)
  }

  /// An integer within `range`; the text must be digits with an optional leading '-'
  /// (only when `negative` allows it).
  private mutating func integer(
    _ what: String, _ range: ClosedRange<Int64>, negative: Bool = false, positive: Bool = true
  ) throws(CrushTextError) -> Int64 {
    guard let token = peek else { throw error("expected \(what), found end of input") }
    var digits = token
    let isNegative = digits.first == "-"
    if isNegative { digits = digits.dropFirst() }
    guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
      isNegative ? negative : positive
    else {
      throw error("expected \(what), found \(found())")
    }
    guard let value = Int64(token), range.contains(value) else {
      throw error("\(what) \(token) is out of range \(range.lowerBound)...\(range.upperBound)")
    }
    position += 1
    return value
  }

  private mutating func weight(_ what: String) throws(CrushTextError) -> UInt32 {
    guard let token = peek, CrushTextSyntax.isReal(token),
      let value = FixedPoint.weight(fromText: token)
    else {
      throw error("expected \(what) (a number), found \(found())")
    }
    position += 1
    return value
  }

  // MARK: statements

  mutating func statements() throws(CrushTextError) -> [Syntax.Statement] {
    var result: [Syntax.Statement] = []
    // Phase 0: tunables, devices, types; 1: buckets and rules; 2: choose_args.
    var phase = 0
    while let token = peek {
      let startLine = line
      switch token {
      case "tunable", "device", "type":
        guard phase == 0 else {
          throw error("'\(token)' must come before all buckets and rules")
        }
        position += 1
        if token == "tunable" {
          let name = try name("tunable name")
          let value = try integer("tunable value", 0...Int64(UInt32.max))
          result.append(.tunable(Syntax.Tunable(name: name, value: UInt32(value), line: startLine)))
        } else if token == "device" {
          let id = try integer("device id", 0...Int64(CrushMap.maximumDevices - 1))
          let name = try name("device name")
          var className: String? = nil
          if accept("class") { className = try self.name("device class name") }
          result.append(
            .device(
              Syntax.Device(id: Int32(id), name: name, className: className, line: startLine)))
        } else {
          let id = try integer("type id", 0...Int64(UInt16.max))
          let name = try name("type name")
          result.append(.type(Syntax.TypeName(id: Int32(id), name: name, line: startLine)))
        }
      case "rule":
        guard phase <= 1 else { throw error("rules must come before choose_args") }
        phase = 1
        position += 1
        result.append(.rule(try rule(line: startLine)))
      case "choose_args":
        phase = 2
        position += 1
        result.append(.chooseArgs(try chooseArgs(line: startLine)))
      default:
        guard phase <= 1 else { throw error("buckets must come before choose_args") }
        guard CrushTextSyntax.isName(token) else {
          throw error("expected a tunable, device, type, bucket or rule, found \(found())")
        }
        phase = 1
        result.append(.bucket(try bucket(line: startLine)))
      }
    }
    return result
  }

  private mutating func bucket(line startLine: Int) throws(CrushTextError) -> Syntax.Bucket {
    let typeName = try name("bucket type")
    let name = try name("bucket name")
    try expect("{", "after bucket '\(name)'")
    var ids: [Syntax.BucketID] = []
    while peek == "id" {
      let idLine = line
      position += 1
      let id = try integer(
        "bucket id", -Int64(CrushMap.maximumBuckets)...0, negative: true, positive: false)
      var className: String? = nil
      if accept("class") { className = try self.name("device class name") }
      ids.append(Syntax.BucketID(id: Int32(id), className: className, line: idLine))
    }
    let algorithmLine = line
    try expect("alg", "in bucket '\(name)' (after its id lines)")
    let algorithm = try self.name("bucket algorithm")
    var hash: UInt8 = CrushHash.rjenkins1
    while accept("hash") {
      if accept("rjenkins1") {
        hash = CrushHash.rjenkins1
      } else {
        let value = try integer("hash id", Int64(Int32.min)...Int64(Int32.max), negative: true)
        hash = UInt8(truncatingIfNeeded: value)
      }
    }
    var items: [Syntax.BucketItem] = []
    while peek == "item" {
      let itemLine = line
      position += 1
      let itemName = try self.name("item name")
      var weight: UInt32? = nil
      var itemPosition: Int? = nil
      if accept("weight") { weight = try self.weight("item weight") }
      if accept("pos") {
        itemPosition = Int(try integer("item position", 0...Int64(CrushBucket.maximumItems)))
      }
      items.append(
        Syntax.BucketItem(name: itemName, weight: weight, position: itemPosition, line: itemLine))
      guard items.count <= CrushBucket.maximumItems else {
        throw error("bucket '\(name)' has more than \(CrushBucket.maximumItems) items")
      }
    }
    try expect("}", "to close bucket '\(name)' (or 'item ...')")
    return Syntax.Bucket(
      typeName: typeName, name: name, ids: ids, algorithm: algorithm,
      algorithmLine: algorithmLine, hash: hash, items: items, line: startLine)
  }

  private mutating func rule(line startLine: Int) throws(CrushTextError) -> Syntax.Rule {
    var ruleName: String? = nil
    if peek != "{" { ruleName = try name("rule name") }
    try expect("{", "after the rule name")
    guard accept("id") || accept("ruleset") else {
      throw error("expected 'id' in rule, found \(found())")
    }
    let id = Int(try integer("rule id", 0...Int64(CrushMap.maximumRules - 1)))
    try expect("type", "in rule (after its id)")
    let type: UInt8
    if accept("replicated") {
      type = CrushRule.typeReplicated
    } else if accept("erasure") {
      type = CrushRule.typeErasure
    } else {
      throw error("expected rule type 'replicated' or 'erasure', found \(found())")
    }
    var minSize: UInt8 = 1
    var maxSize: UInt8 = 10
    if accept("min_size") { minSize = UInt8(try integer("min_size", 0...255)) }
    if accept("max_size") { maxSize = UInt8(try integer("max_size", 0...255)) }
    var steps: [Syntax.Step] = []
    while accept("step") {
      steps.append(try step())
    }
    guard !steps.isEmpty else { throw error("expected 'step' in rule, found \(found())") }
    try expect("}", "to close the rule (or 'step ...')")
    return Syntax.Rule(
      name: ruleName, id: id, type: type, minSize: minSize, maxSize: maxSize, steps: steps,
      line: startLine)
  }

  private mutating func step() throws(CrushTextError) -> Syntax.Step {
    let stepLine = line
    guard let keyword = next() else { throw error("expected a step, found end of input") }
    switch keyword.text {
    case "take":
      let item = try name("bucket or device to take")
      var className: String? = nil
      if accept("class") { className = try name("device class name") }
      return Syntax.Step(
        keyword: "take", mode: nil, count: 0, name: item, className: className, line: stepLine)
    case "emit":
      return Syntax.Step(
        keyword: "emit", mode: nil, count: 0, name: nil, className: nil, line: stepLine)
    case "choose", "chooseleaf":
      let mode: String
      if accept("firstn") {
        mode = "firstn"
      } else if accept("indep") {
        mode = "indep"
      } else {
        throw error("expected 'firstn' or 'indep' after '\(keyword.text)', found \(found())")
      }
      let count = try integer(
        "replica count", Int64(Int32.min)...Int64(Int32.max), negative: true)
      try expect("type", "after the replica count")
      let typeName = try name("bucket type")
      return Syntax.Step(
        keyword: String(keyword.text), mode: mode, count: Int32(count), name: typeName,
        className: nil, line: stepLine)
    default:
      guard CrushTextSyntax.stepSetters.contains(String(keyword.text)) else {
        position -= 1
        throw error(
          "unknown step \(found()) (expected take, choose, chooseleaf, emit or set_...)")
      }
      let value = try integer(String(keyword.text) + " value", 0...Int64(Int32.max))
      return Syntax.Step(
        keyword: String(keyword.text), mode: nil, count: Int32(value), name: nil,
        className: nil, line: stepLine)
    }
  }

  private mutating func chooseArgs(line startLine: Int) throws(CrushTextError)
    -> Syntax.ChooseArgs
  {
    // Ceph reads the index with strtol (saturating at 2^63 - 1) and stores it through an int,
    // which is how the decompiled compat set `18446744073709551615` reads back as -1.
    guard let token = peek, !token.isEmpty, token.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
    else {
      throw error("expected a choose_args index, found \(found())")
    }
    position += 1
    let saturated = Int64(token) ?? Int64.max
    let index = Int64(Int32(truncatingIfNeeded: saturated))
    try expect("{", "after the choose_args index")
    var args: [Syntax.ChooseArg] = []
    while accept("{") {
      let argLine = line
      try expect("bucket_id", "in choose_args entry")
      let bucketID = try integer(
        "bucket id", -Int64(CrushMap.maximumBuckets)...(-1), negative: true, positive: false)
      var weightSet: [[UInt32]]? = nil
      var ids: [Int32]? = nil
      if accept("weight_set") {
        try expect("[", "after 'weight_set'")
        var sets: [[UInt32]] = []
        while accept("[") {
          var weights: [UInt32] = []
          while let token = peek, token != "]" {
            weights.append(try weight("weight_set weight"))
            guard weights.count <= CrushBucket.maximumItems else {
              throw error("weight_set vector too long")
            }
          }
          try expect("]", "to close a weight_set vector")
          sets.append(weights)
        }
        try expect("]", "to close 'weight_set'")
        weightSet = sets
      }
      if accept("ids") {
        try expect("[", "after 'ids'")
        var values: [Int32] = []
        while let token = peek, token != "]" {
          values.append(
            Int32(try integer("id", Int64(Int32.min)...Int64(Int32.max), negative: true)))
          guard values.count <= CrushBucket.maximumItems else { throw error("ids too long") }
        }
        try expect("]", "to close 'ids'")
        ids = values
      }
      try expect("}", "to close the choose_args entry")
      args.append(
        Syntax.ChooseArg(bucketID: Int32(bucketID), weightSet: weightSet, ids: ids, line: argLine))
    }
    try expect("}", "to close 'choose_args'")
    return Syntax.ChooseArgs(index: index, args: args, line: startLine)
  }
}
