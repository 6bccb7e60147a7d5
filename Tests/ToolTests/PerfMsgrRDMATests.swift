import Foundation
import XCTest

/// perf-msgr over the RDMA transport: soft-verbs between two processes, and the clear error
/// when hardware is asked for on a machine without it.
final class PerfMsgrRDMATests: XCTestCase {
  let soft = ["--ms-type", "rdma", "--rdma-device", "soft"]

  func testSoftVerbsSmallAndLargeMessages() throws {
    let (server, port) = try startPerfServer(workers: 2, extra: soft)
    defer { server.terminate() }
    let small = try ToolProcess(
      "perf-msgr-client", ["127.0.0.1:\(port)", "2", "8", "2000", "0", "4096", "--quiet"] + soft)
    XCTAssertEqual(small.wait(timeout: 120), 0, small.stderr)
    XCTAssertTrue(small.stdout.contains(" Total op 4000 run time "), small.stdout)
    XCTAssertTrue(small.stdout.contains("msgs/s"), small.stdout)
    XCTAssertTrue(small.stdout.contains("rdma device soft"), small.stdout)

    let large = try ToolProcess(
      "perf-msgr-client", ["127.0.0.1:\(port)", "1", "4", "50", "0", "4194304", "--quiet"] + soft)
    XCTAssertEqual(large.wait(timeout: 120), 0, large.stderr)
    XCTAssertTrue(large.stdout.contains(" Total op 50 run time "), large.stdout)

    server.terminate()
    XCTAssertEqual(server.wait(timeout: 10), 0, "server stops cleanly on SIGTERM")
    XCTAssertTrue(server.stderr.contains("served 4050 requests"), server.stderr)
  }

  func testHardwareDeviceMissingFailsWithOneLine() throws {
    let client = try ToolProcess(
      "perf-msgr-client",
      [
        "127.0.0.1:\(freePort())", "1", "1", "1", "0", "4096", "--ms-type", "rdma",
        "--rdma-device", "mlx5_0",
      ])
    let status = client.wait(timeout: 30)
    XCTAssertNotNil(status)
    XCTAssertNotEqual(status, 0)
    let lines = client.stderr.split(separator: "\n")
    XCTAssertEqual(lines.count, 1, client.stderr)
    XCTAssertTrue(client.stderr.contains("device"), client.stderr)
    XCTAssertTrue(client.stderr.contains("ibv_devices"), client.stderr)
  }

  /// ms_async_rdma_cm = true on a machine without RDMA: the server says in one line that
  /// rdma_cm is unavailable and what to check, and exits non-zero.
  func testConnectionManagerUnavailableFailsTheServer() throws {
    let server = try ToolProcess(
      "perf-msgr-server",
      [
        "127.0.0.1:\(freePort())", "1", "0", "--ms-type", "rdma", "--rdma-device", "mlx5_0",
        "--ms_async_rdma_cm", "true",
      ])
    let status = server.wait(timeout: 30)
    XCTAssertNotNil(status)
    XCTAssertNotEqual(status, 0)
    XCTAssertFalse(server.stderr.contains("listening on"), server.stderr)
    let errors = server.stderr.split(separator: "\n").filter { $0.contains("rdma_cm") }
    XCTAssertEqual(errors.count, 1, server.stderr)
    let line = String(errors.first ?? "")
    for fragment in ["rdma_cm is unavailable", "ibv_devices", "rdma link", "RLIMIT_MEMLOCK"] {
      XCTAssertTrue(line.contains(fragment), "\(fragment): \(line)")
    }
  }

  /// The server process is killed while 1 MiB messages are in flight (some of them being
  /// pulled by RDMA READ): the client reports the lost server instead of hanging.
  func testPeerKilledMidTransfer() throws {
    let (server, port) = try startPerfServer(extra: soft)
    let client = try ToolProcess(
      "perf-msgr-client",
      ["127.0.0.1:\(port)", "1", "4", "100000000", "0", "1048576", "--quiet"] + soft)
    usleep(700_000)
    kill(server.process.processIdentifier, SIGKILL)
    let status = client.wait(timeout: 30)
    XCTAssertNotNil(status, "client hung after the server died")
    XCTAssertNotEqual(status, 0)
    XCTAssertTrue(client.stderr.contains("lost the server"), client.stderr)
  }
}
