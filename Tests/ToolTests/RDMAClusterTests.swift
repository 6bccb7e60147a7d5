import Foundation
import XCTest

/// Monitor, OSDs and client with `ms_type = rdma` on soft-verbs: the whole cluster's messengers
/// run over the RDMA transport.
final class RDMAClusterTests: XCTestCase {
  func testClusterOverSoftVerbsServesABench() throws {
    let cluster = try TestCluster(
      mons: 1, osds: 2,
      extra: ["--set", "ms_type=rdma", "--set", "ms_async_rdma_device_name=soft"])
    defer { cluster.tearDown() }
    let conf = try String(contentsOfFile: cluster.conf, encoding: .utf8)
    XCTAssertTrue(conf.contains("rdma"), conf)
    XCTAssertEqual(try cluster.loligo(["pool", "create", "r", "8", "--size", "2"]).0, 0)
    // 1 MiB objects: above the zero-copy threshold, so client -> primary -> replica payloads
    // go by RDMA READ.
    let write = try cluster.loligo([
      "-p", "r", "bench", "2", "write", "-b", "1M", "-t", "4", "--no-cleanup",
    ])
    XCTAssertEqual(write.0, 0, write.2)
    XCTAssertTrue(write.1.contains("Total writes made:"), write.1)
    let read = try cluster.loligo(["-p", "r", "bench", "2", "seq"])
    XCTAssertEqual(read.0, 0, read.2)
    XCTAssertTrue(read.1.contains("Total reads made:"), read.1)
    XCTAssertFalse((read.1 + read.2).contains("not correct"), read.1)
  }
}
