import LoligoPlacement
import XCTest

/// Cases beyond the shared vectors (device classes, every bucket algorithm, legacy tunables,
/// indep rules with holes, partial reweights), with expected mappings printed by Ceph 16.2.15's
/// crushtool for these exact maps:
/// `crushtool -c MAP -o MAP.bin; crushtool -i MAP.bin --test --show-mappings --rule R
/// --num-rep N --min-x 0 --max-x 15 --weight 9 0 [--weight 2 0.5]`.
final class CrushRegressionTests: XCTestCase {
  /// Legacy tunables (no tunable lines), straw2/straw/list/tree hosts, device classes.
  static let classMap = """
    device 0 osd.0 class hdd
    device 1 osd.1 class ssd
    device 2 osd.2 class hdd
    device 3 osd.3 class ssd
    device 4 osd.4 class hdd
    device 5 osd.5 class ssd
    device 6 osd.6 class hdd
    device 7 osd.7 class ssd
    device 8 osd.8 class hdd
    device 9 osd.9 class hdd
    type 0 osd
    type 1 host
    type 2 root
    host a {
    	id -2
    	alg straw2
    	hash 0
    	item osd.0 weight 1.000
    	item osd.1 weight 0.500
    }
    host b {
    	id -3
    	alg straw
    	hash 0
    	item osd.2 weight 2.000
    	item osd.3 weight 2.000
    }
    host c {
    	id -4
    	alg list
    	hash 0
    	item osd.4 weight 1.500
    	item osd.5 weight 0.750
    }
    host d {
    	id -5
    	alg tree
    	hash 0
    	item osd.6 weight 1.000
    	item osd.7 weight 3.000
    	item osd.8 weight 0.250
    }
    host e {
    	id -6
    	alg straw
    	hash 0
    	item osd.9 weight 1.000
    }
    root default {
    	id -1
    	id -20 class ssd
    	alg straw2
    	hash 0
    	item a
    	item b
    	item c
    	item d weight 2.000
    	item e
    }
    rule ssd {
    	id 0
    	type replicated
    	min_size 1
    	max_size 10
    	step take default class ssd
    	step chooseleaf firstn 0 type host
    	step emit
    }
    rule ec {
    	id 1
    	type erasure
    	min_size 3
    	max_size 6
    	step set_chooseleaf_tries 5
    	step take default
    	step chooseleaf indep 0 type host
    	step emit
    }
    rule flat {
    	id 2
    	type replicated
    	min_size 1
    	max_size 10
    	step take default
    	step choose firstn 0 type osd
    	step emit
    }
    """

  /// The same hierarchy without classes and with a uniform host (Ceph cannot clone uniform
  /// buckets per class, so the two features are tested apart).
  static let uniformMap = """
    device 0 osd.0
    device 1 osd.1
    device 2 osd.2
    device 3 osd.3
    device 4 osd.4
    device 5 osd.5
    device 6 osd.6
    device 7 osd.7
    device 8 osd.8
    device 9 osd.9
    type 0 osd
    type 1 host
    type 2 root
    host a {
    	id -2
    	alg straw2
    	hash 0
    	item osd.0 weight 1.000
    	item osd.1 weight 0.500
    }
    host b {
    	id -3
    	alg uniform
    	hash 0
    	item osd.2 weight 2.000
    	item osd.3 weight 2.000
    }
    host c {
    	id -4
    	alg list
    	hash 0
    	item osd.4 weight 1.500
    	item osd.5 weight 0.750
    }
    host d {
    	id -5
    	alg tree
    	hash 0
    	item osd.6 weight 1.000
    	item osd.7 weight 3.000
    	item osd.8 weight 0.250
    }
    host e {
    	id -6
    	alg straw
    	hash 0
    	item osd.9 weight 1.000
    }
    root default {
    	id -1
    	id -20
    	alg straw2
    	hash 0
    	item a
    	item b
    	item c
    	item d weight 2.000
    	item e
    }
    rule ssd {
    	id 0
    	type replicated
    	min_size 1
    	max_size 10
    	step take default
    	step chooseleaf firstn 0 type host
    	step emit
    }
    rule ec {
    	id 1
    	type erasure
    	min_size 3
    	max_size 6
    	step set_chooseleaf_tries 5
    	step take default
    	step chooseleaf indep 0 type host
    	step emit
    }
    rule flat {
    	id 2
    	type replicated
    	min_size 1
    	max_size 10
    	step take default
    	step choose firstn 0 type osd
    	step emit
    }
    """

  func mappings(_ text: String, rule: Int, replicas: Int, weights: [Int32: UInt32]) throws
    -> [[Int32]]
  {
    var tester = CrushTester(map: try CrushTextParser.parse(text))
    tester.minX = 0
    tester.maxX = 15
    tester.minRule = rule
    tester.maxRule = rule
    tester.minReplicas = replicas
    tester.maxReplicas = replicas
    tester.deviceWeights = weights
    tester.showMappings = true
    var result: [[Int32]] = []
    tester.run { line in result.append(Vectors.osdList(String(line.split(separator: " ")[5]))!) }
    return result
  }

  static func parse(_ text: String) -> [[Int32]] {
    text.split(separator: " ").map { Vectors.osdList(String($0))! }
  }

  func testDeviceClassesAndAlgorithms() throws {
    let out: [Int32: UInt32] = [9: 0]
    XCTAssertEqual(
      try mappings(Self.classMap, rule: 0, replicas: 3, weights: out),
      Self.parse(
        "[7,3,1] [5,1,3] [7,3,5] [7,3,5] [7,3,5] [7,3,1] [3,5,1] [7,5,3] [7,3,1] [7,3,5] "
          + "[7,3,5] [3,1,5] [7,3,1] [3,7,1] [3,7,5] [7,3,5]"))
    XCTAssertEqual(
      try mappings(Self.classMap, rule: 1, replicas: 4, weights: out),
      Self.parse(
        "[7,4,1,2] [6,2,0,4] [4,1,7,2] [3,7,4,1] [5,7,3,0] [3,1,5,7] [0,4,7,2] [7,5,0,2] "
          + "[7,0,3,5] [5,2,0,6] [0,2,8,5] [3,7,1,4] [4,7,1,3] [0,2,5,7] [2,6,2147483647,5] "
          + "[3,0,6,4]"))
    XCTAssertEqual(
      try mappings(Self.classMap, rule: 2, replicas: 3, weights: out),
      Self.parse(
        "[7,4,5] [2,3,6] [4,5,7] [3,6,2] [5,7,6] [3,2] [7,5,6] [7,4,1] [4,1,3] [5,4] [2,3,0] "
          + "[3,7,2] [4,5,2] [0,3,4] [2,7,3] [3,2,6]"))
  }

  func testShadowIDsAndTextRoundTrip() throws {
    let map = try CrushTextParser.parse(Self.classMap)
    // Shadow buckets take the lowest free ids, root first, class by class (hdd before ssd).
    XCTAssertEqual(map.itemID(named: "a~hdd"), -7)
    XCTAssertEqual(map.itemID(named: "default~hdd"), -12)
    XCTAssertEqual(map.itemID(named: "a~ssd"), -13)
    XCTAssertEqual(map.classBuckets[-1]?[map.classID(named: "ssd")!], -20)
    let text = try CrushTextWriter.text(of: map)
    XCTAssertTrue(text.contains("\tid -7 class hdd\t\t# do not change unnecessarily\n"))
    XCTAssertTrue(text.contains("\tstep take default class ssd\n"))
    XCTAssertFalse(text.contains("~"))
    XCTAssertEqual(try CrushTextParser.parse(text), map)
  }

  func testUniformLegacyAndPartialReweight() throws {
    let weights: [Int32: UInt32] = [9: 0, 2: 0x8000]
    XCTAssertEqual(
      try mappings(Self.uniformMap, rule: 0, replicas: 3, weights: weights),
      Self.parse(
        "[7,4,3] [3,5,1] [4,6,3] [3,6,0] [5,7,0] [3,7,4] [4,3,6] [7,4,1] [1,2,4] [5,8,3] "
          + "[3,5,0] [2,7,5] [4,3,0] [0,3,4] [2,7,0] [2,7,5]"))
    XCTAssertEqual(
      try mappings(Self.uniformMap, rule: 1, replicas: 4, weights: weights),
      Self.parse(
        "[7,4,1,3] [6,0,2147483647,4] [4,1,7,3] [3,7,4,1] [5,7,3,0] [4,2147483647,0,7] "
          + "[0,4,7,2] [7,5,0,2] [7,0,3,5] [5,3,0,6] [0,6,2147483647,5] [2,7,1,4] "
          + "[4,2147483647,1,6] [0,3,5,7] [2,6,2147483647,5] [2,0,6,4]"))
    XCTAssertEqual(
      try mappings(Self.uniformMap, rule: 2, replicas: 3, weights: weights),
      Self.parse(
        "[7,4,5] [3,6,7] [4,5,7] [3,6,2] [5,7,6] [3] [7,5,6] [7,4,1] [4,1,3] [5,4] [3,8,0] "
          + "[2,7,3] [4,5,3] [0,3,4] [2,7,3] [2,3,6]"))
  }

  /// Like crushtool, a uniform bucket stops the per-class shadow trees; a rule that needs
  /// them is then an error, while a map that does not still compiles.
  func testUniformBucketBlocksClassShadows() throws {
    let withClasses = Self.uniformMap
      .replacingOccurrences(of: "device 1 osd.1\n", with: "device 1 osd.1 class ssd\n")
      .replacingOccurrences(of: "device 0 osd.0\n", with: "device 0 osd.0 class hdd\n")
      .replacingOccurrences(of: "device 2 osd.2\n", with: "device 2 osd.2 class hdd\n")
    let map = try CrushTextParser.parse(withClasses)
    XCTAssertNotNil(map.itemID(named: "a~hdd"))
    XCTAssertNil(map.itemID(named: "default~hdd"))
    let needsClass = withClasses.replacingOccurrences(
      of: "step take default\n\tstep chooseleaf firstn",
      with: "step take default class ssd\n\tstep chooseleaf firstn")
    XCTAssertThrowsError(try CrushTextParser.parse(needsClass)) { error in
      XCTAssertTrue("\(error)".contains("has no class information"), "\(error)")
    }
  }
}
