import Foundation
import LoligoWire
import XCTest

/// Replays the fuzz seed corpus and a bounded, seeded batch of mutations of it through the
/// receive path. Long runs use libFuzzer (see the README); this keeps every test run honest.
final class FuzzCorpusTests: XCTestCase {
  var corpus: [String: [UInt8]] = [:]

  override func setUpWithError() throws {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Fuzz/corpus/frame-decoder").standardized
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    for name in names {
      corpus[name] = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }
    XCTAssertGreaterThanOrEqual(corpus.count, 5, "seed corpus missing at \(directory.path)")
  }

  func testSeedsDecodeToTheirFrames() throws {
    let expected = ["banner": 0, "hello": 1, "auth": 2, "ident": 4, "messages": 3, "keepalive": 2]
    for (name, frames) in expected {
      let bytes = try XCTUnwrap(corpus[name], name)
      XCTAssertEqual(bytes.withUnsafeBytes { exerciseReceivePath($0) }, frames, name)
      XCTAssertEqual(bytes.withUnsafeBytes { exerciseReceivePath($0, chunk: 3) }, frames, name)
    }
  }

  func testMutationsNeverCrash() {
    var rng = SplitMix(seed: 0x4C6F_6C69_676F)
    var decodedSomething = 0
    for (_, seed) in corpus.sorted(by: { $0.key < $1.key }) {
      for _ in 0..<1500 {
        var bytes = seed
        for _ in 0..<(1 + Int(rng.next() % 4)) { mutate(&bytes, &rng) }
        let frames = bytes.withUnsafeBytes { exerciseReceivePath($0, chunk: Int(rng.next() % 64)) }
        if frames > 0 { decodedSomething += 1 }
      }
    }
    XCTAssertGreaterThan(decodedSomething, 0, "some mutations keep valid frames")
  }

  private func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix) {
    guard !bytes.isEmpty else {
      bytes.append(UInt8(truncatingIfNeeded: rng.next()))
      return
    }
    let at = Int(rng.next() % UInt64(bytes.count))
    switch rng.next() % 6 {
    case 0: bytes[at] ^= UInt8(1 << (rng.next() % 8))
    case 1: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
    case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
    case 3: bytes.remove(at: at)
    case 4: bytes.removeSubrange(at...)
    default:
      // Overwrite four bytes with a boundary value: lengths and counts are the usual targets.
      let values: [UInt32] = [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF, 41, 65536]
      let value = values[Int(rng.next() % UInt64(values.count))]
      for i in 0..<4 where at + i < bytes.count {
        bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))
      }
    }
  }
}

struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
