import Foundation
import LoligoPlacement
import XCTest

/// The object-name hash and the CRUSH hashes against values from libceph-common.
final class HashVectorTests: XCTestCase {
  func testStringHashFromBytes() throws {
    let url = try Vectors.directory().appendingPathComponent("hash/strhash.jsonl")
    var count = 0
    for line in try Vectors.text(url).split(separator: "\n") {
      let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      let hex = record["name_utf8_hex"] as! String
      var bytes: [UInt8] = []
      var index = hex.startIndex
      while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
      }
      let expected = UInt32((record["hash"] as! NSNumber).uint32Value)
      XCTAssertEqual(CephStringHash.rjenkins(bytes), expected, "name \(record["name"] ?? "")")
      if let low30 = record["osdmaptool_low30"] as? NSNumber {
        XCTAssertEqual(CephStringHash.rjenkins(bytes) & 0x3fff_ffff, low30.uint32Value)
      }
      count += 1
    }
    XCTAssertGreaterThan(count, 200)
  }

  func testStringHashFromNames() throws {
    let url = try Vectors.directory().appendingPathComponent("hash/strhash.txt")
    var count = 0
    for line in try Vectors.text(url).split(separator: "\n") where line.hasPrefix("\"") {
      let arrow = try XCTUnwrap(line.range(of: " -> ", options: .backwards))
      let name =
        try JSONSerialization.jsonObject(
          with: Data(line[..<arrow.lowerBound].utf8), options: .fragmentsAllowed) as! String
      let expected = UInt32(line[arrow.upperBound...].dropFirst(2), radix: 16)!
      XCTAssertEqual(CephStringHash.rjenkins.hash(name), expected, name)
      count += 1
    }
    XCTAssertGreaterThan(count, 200)
  }

  func testCrushHashes() throws {
    let url = try Vectors.directory().appendingPathComponent("hash/crush_hash32.txt")
    var counts = [0, 0, 0]
    for (key, value) in Vectors.records(try Vectors.text(url)) {
      let words = key.split(separator: " ")
      let arguments = words.dropFirst().map { UInt32($0)! }
      let expected = UInt32(value.dropFirst(2), radix: 16)!
      switch words[0] {
      case "crush_hash32":
        XCTAssertEqual(CrushHash.hash1(arguments[0]), expected, key)
        counts[0] += 1
      case "crush_hash32_2":
        XCTAssertEqual(CrushHash.hash2(arguments[0], arguments[1]), expected, key)
        counts[1] += 1
      case "crush_hash32_3":
        XCTAssertEqual(CrushHash.hash3(arguments[0], arguments[1], arguments[2]), expected, key)
        counts[2] += 1
      default:
        XCTFail("unknown hash line \(key)")
      }
    }
    XCTAssertTrue(counts.allSatisfy { $0 > 10 }, "\(counts)")
  }

  func testLinuxHashAndStableMod() {
    // ceph_str_hash_linux("a") = ((0 + (97 << 4) + (97 >> 4)) * 11).
    XCTAssertEqual(CephStringHash.linuxHash(Array("a".utf8)), UInt32((97 * 16 + 6) * 11))
    // 48 PGs: mask 63; 47 stays, 48 folds to 48 & 31 = 16.
    XCTAssertEqual(StableMod.mask(for: 48), 63)
    XCTAssertEqual(StableMod.apply(47, 48, mask: 63), 47)
    XCTAssertEqual(StableMod.apply(48, 48, mask: 63), 16)
    XCTAssertEqual(StableMod.mask(for: 1), 0)
    XCTAssertEqual(StableMod.mask(for: 64), 63)
    XCTAssertEqual(StableMod.mask(for: 65), 127)
    // b >= 2^31 is negative as a C int, so the fallback branch is always taken.
    XCTAssertEqual(StableMod.apply(5, 1 << 31, mask: 0x7fff_ffff), 5 & 0x3fff_ffff)
    XCTAssertEqual(StableMod.apply(0x7fff_0000, 1 << 31, mask: 0x7fff_ffff), 0x3fff_0000)
  }
}
