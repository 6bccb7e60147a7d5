import Foundation
import LoligoPlacement
import XCTest

/// The text form: round trips, and errors on malformed or hostile input (never a crash).
final class CrushTextTests: XCTestCase {
  static let small = """
    tunable choose_total_tries 50
    device 0 osd.0
    device 1 osd.1
    device 2 osd.2
    type 0 osd
    type 1 host
    type 2 root
    host h0 {
    \tid -2
    \talg straw2
    \thash 0
    \titem osd.0 weight 1.000
    \titem osd.1 weight 2.000
    }
    host h1 {
    \tid -3
    \talg straw2
    \thash 0
    \titem osd.2 weight 1.000
    }
    root default {
    \tid -1
    \talg straw2
    \thash 0
    \titem h0 weight 3.000
    \titem h1 weight 1.000
    }
    rule replicated_rule {
    \tid 0
    \ttype replicated
    \tmin_size 1
    \tmax_size 10
    \tstep take default
    \tstep chooseleaf firstn 0 type host
    \tstep emit
    }

    """

  func testParseWriteParseRoundTrip() throws {
    var texts = [Self.small, CrushRegressionTests.classMap, CrushRegressionTests.uniformMap]
    let directory = try Vectors.directory().appendingPathComponent("maps")
    for name in try FileManager.default.contentsOfDirectory(atPath: directory.path)
    where name.hasSuffix(".txt") && !name.hasSuffix(".tree.txt") {
      texts.append(try Vectors.text(directory.appendingPathComponent(name)))
    }
    for text in texts {
      let map = try CrushTextParser.parse(text)
      let written = try CrushTextWriter.text(of: map)
      let reparsed = try CrushTextParser.parse(written)
      XCTAssertEqual(reparsed, map)
      XCTAssertEqual(try CrushTextWriter.text(of: reparsed), written, "writer is not stable")
    }
  }

  func testWeightSetsRoundTripAndApply() throws {
    let text =
      Self.small + """
        choose_args 18446744073709551615 {
          {
            bucket_id -1
            weight_set [
              [ 0.000 1.000 ]
            ]
          }
        }
        choose_args 3 {
          {
            bucket_id -2
            ids [ -10 -11 ]
          }
        }

        """
    let map = try CrushTextParser.parse(text)
    XCTAssertEqual(map.chooseArgs[-1]?[-1]?.weightSet, [[0, 0x10000]])
    XCTAssertEqual(map.chooseArgs[3]?[-2]?.ids, [-10, -11])
    let written = try CrushTextWriter.text(of: map)
    XCTAssertTrue(written.contains("choose_args 18446744073709551615 {"))
    XCTAssertEqual(try CrushTextParser.parse(written), map)
    // The compat set gives h0 weight 0, so every mapping lands on h1 (osd.2).
    let mapper = CrushMapper(map)
    for x in 0..<64 as Range<UInt32> {
      XCTAssertEqual(
        mapper.map(rule: 0, x: x, resultMax: 1, weights: [0x10000, 0x10000, 0x10000]), [2])
    }
    // Without weight sets the heavier h0 gets most inputs.
    var plain = map
    plain.chooseArgs = [:]
    let plainMapper = CrushMapper(plain)
    let onH0 = (0..<200 as Range<UInt32>).filter {
      plainMapper.map(rule: 0, x: $0, resultMax: 1, weights: [0x10000, 0x10000, 0x10000])[0] < 2
    }
    XCTAssertGreaterThan(onH0.count, 100)
  }

  /// Each malformed text fails with the line of the mistake and a message naming it.
  func testMalformedTextReportsLine() {
    let lines = Self.small.split(separator: "\n", omittingEmptySubsequences: false).map(
      String.init)
    func replacing(_ line: Int, with text: String) -> String {
      var copy = lines
      copy[line - 1] = text
      return copy.joined(separator: "\n")
    }
    let cases: [(String, Int, String)] = [
      (replacing(2, with: "device x osd.0"), 2, "device id"),
      (replacing(2, with: "device 99999999999 osd.0"), 2, "out of range"),
      (replacing(2, with: "devise 0 osd.0"), 2, "expected"),
      (replacing(1, with: "tunable no_such_tunable 3"), 1, "not recognized"),
      (replacing(1, with: "tunable choose_total_tries -1"), 1, "tunable value"),
      (replacing(9, with: "\tid 5"), 9, "bucket id"),
      (replacing(10, with: "\talg straw3"), 10, "unknown bucket alg"),
      (replacing(12, with: "\titem osd.9 weight 1.000"), 12, "not defined"),
      (replacing(12, with: "\titem osd.0 weight heavy"), 12, "weight"),
      (replacing(12, with: "\titem osd.0 weight 101"), 12, "device weight limited"),
      (replacing(8, with: "rack h0 {"), 8, "bucket type 'rack' is not defined"),
      (replacing(15, with: "host h0 {"), 15, "already defined"),
      (replacing(16, with: "\tid -2"), 15, "duplicate bucket id -2"),
      (replacing(33, with: "\tstep take nowhere"), 33, "not defined"),
      (replacing(34, with: "\tstep chooseleaf firstn 0 type rack"), 34, "type 'rack'"),
      (replacing(34, with: "\tstep chooseleaf sometimes 0 type host"), 34, "firstn"),
      (replacing(34, with: "\tstep dance"), 34, "unknown step"),
      (replacing(29, with: "\tid 300"), 29, "rule id"),
      (replacing(30, with: "\ttype sideways"), 30, "rule type"),
      (replacing(36, with: ""), 37, "expected '}'"),
      (replacing(13, with: "\titem osd.1 weight 2.000 ;"), 13, "expected"),
      (replacing(3, with: "device 1 osd.0"), 3, "defined twice"),
      (replacing(9, with: "\tid -2000000000"), 9, "out of range"),
    ]
    for (text, line, fragment) in cases {
      XCTAssertThrowsError(try CrushTextParser.parse(text), "expected an error for: \(fragment)") {
        error in
        guard let textError = error as? CrushTextError else {
          return XCTFail("unexpected error type \(error)")
        }
        XCTAssertEqual(textError.line, line, "\(textError) (wanted '\(fragment)')")
        XCTAssertTrue(
          textError.message.contains(fragment), "'\(textError.message)' lacks '\(fragment)'")
      }
    }
  }

  func testHierarchyCyclesAreRejected() {
    let selfReference = """
      type 0 osd
      type 1 root
      root a {
      \tid -1
      \talg straw2
      \titem a weight 1.000
      }
      """
    XCTAssertThrowsError(try CrushTextParser.parse(selfReference)) { error in
      XCTAssertEqual((error as? CrushTextError)?.line, 6)
    }
    let mutual = """
      type 0 osd
      type 1 root
      root a {
      \tid -1
      \talg straw2
      \titem b weight 1.000
      }
      root b {
      \tid -2
      \talg straw2
      \titem a weight 1.000
      }
      """
    XCTAssertThrowsError(try CrushTextParser.parse(mutual)) { error in
      XCTAssertEqual((error as? CrushTextError)?.line, 3)
      XCTAssertTrue("\(error)".contains("include each other"))
    }
    let threeCycle = """
      type 0 osd
      type 1 root
      root a {
      \talg straw2
      \titem b
      }
      root b {
      \talg straw2
      \titem c
      }
      root c {
      \talg straw2
      \titem a
      }
      """
    XCTAssertThrowsError(try CrushTextParser.parse(threeCycle)) { error in
      XCTAssertTrue("\(error)".contains("is not defined"), "\(error)")
    }
  }

  /// Random edits of a valid map (deleted, duplicated, truncated or garbled tokens) either
  /// parse or fail with a line number inside the text; none may crash.
  func testMutatedTextNeverCrashes() throws {
    var generator = SplitMix(seed: 0x5eed)
    let base = Array(Self.small.utf8)
    let lineCount = Self.small.split(separator: "\n", omittingEmptySubsequences: false).count
    var failures = 0
    for _ in 0..<400 {
      var bytes = base
      for _ in 0..<(1 + Int(generator.next() % 4)) {
        let position = Int(generator.next() % UInt64(bytes.count))
        switch generator.next() % 4 {
        case 0: bytes.remove(at: position)
        case 1: bytes.insert(UInt8(generator.next() % 95 + 32), at: position)
        case 2: bytes[position] = [0x7b, 0x7d, 0x2d, 0x39, 0x0a][Int(generator.next() % 5)]
        default: bytes = Array(bytes[..<position])
        }
        if bytes.isEmpty { bytes = [0x0a] }
      }
      do {
        let map = try CrushMapFile.parse(bytes, path: "mutated")
        _ = CrushMapper(map).map(rule: 0, x: 1, resultMax: 3, weights: [0x10000, 0x10000])
        _ = try? CrushTextWriter.text(of: map)
      } catch {
        failures += 1
        if case .text(_, let textError) = error {
          XCTAssertTrue((1...lineCount + 1).contains(textError.line), "\(textError)")
        }
      }
    }
    XCTAssertGreaterThan(failures, 100)
  }

  func testNonUTF8TextNamesItsLine() {
    var bytes = Array(Self.small.utf8)
    let secondLine = bytes.firstIndex(of: 0x0a)! + 1
    bytes.insert(0xff, at: secondLine + 3)
    XCTAssertThrowsError(try CrushMapFile.parse(bytes, path: "bad")) { error in
      guard case .text(_, let textError)? = error as? CrushMapFile.LoadError else {
        return XCTFail("\(error)")
      }
      XCTAssertEqual(textError.line, 2)
    }
  }

  func testWeightConversionMatchesCeph() {
    // (unsigned)(strtof(w) * 65536.0f), including a weight that is not exact in binary.
    XCTAssertEqual(FixedPoint.weight(fromText: "1.819"), 119_209)
    XCTAssertEqual(FixedPoint.weight(fromText: "1.000"), 0x10000)
    XCTAssertEqual(FixedPoint.weight(fromText: "0.25"), 0x4000)
    XCTAssertEqual(FixedPoint.text(of: 119_209), "1.819")
    XCTAssertEqual(FixedPoint.text(of: 4096), "0.062")  // 0.0625 rounds to even, like printf
    XCTAssertEqual(FixedPoint.text(of: 0), "0.000")
    XCTAssertEqual(CrushTester.reweight(fromText: "0.5"), 0x8000)
    XCTAssertEqual(CrushTester.reweight(fromText: "7"), 0x10000)
    XCTAssertEqual(CrushTester.reweight(fromText: "-1"), 0)
  }
}

/// A small deterministic generator for reproducible randomised tests.
struct SplitMix: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }
}
