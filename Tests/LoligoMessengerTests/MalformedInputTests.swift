import Foundation
import LoligoCore
import LoligoMessenger
import LoligoWire
import NIOCore
import XCTest

/// Hostile bytes on one connection close that connection with a logged reason; the server
/// keeps serving everyone else.
final class MalformedInputTests: XCTestCase {
  func testEachMalformedClassClosesOnlyItsConnection() throws {
    let log = LogCapture()
    let serverSide = RecordingDispatcher(echo: true)
    let config = makeConfig(["ms_connection_ready_timeout": "1", "ms_max_message_size": "1M"])
    let (server, addr) = try startServer(serverSide, config: config)
    defer { server.shutdown() }
    let clientSide = RecordingDispatcher()
    let client = try startClient(clientSide)
    defer { client.shutdown() }
    let healthy = client.connect(to: addr)
    try healthy.ready.wait()

    let banner: [UInt8] = {
      var b = ByteBuffer()
      Banner.loligo.encode(to: &b)
      return Array(b.readableBytesView)
    }()
    let hello: [UInt8] = {
      var encoder = FrameEncoder()
      var out = ByteBuffer()
      encoder.writeControl(.hello, into: &out) {
        HelloFrame(entityType: .client, peerAddr: addr).encode(to: &$0)
      }
      return Array(out.readableBytesView)
    }()
    func withPreamble(_ frame: [UInt8], _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
      var bytes = frame
      edit(&bytes)
      let crc = CRC32C.checksum(Array(bytes[0..<28]), seed: 0)
      bytes.replaceSubrange(28..<32, with: withUnsafeBytes(of: crc.littleEndian, Array.init))
      return bytes
    }
    var message = ByteBuffer()
    var encoder = FrameEncoder()
    encoder.writeMessage(
      header: MessageHeader2(seq: 1, type: 42), front: ByteBuffer(bytes: [1]),
      middle: ByteBuffer(), data: ByteBuffer(), into: &message
    ) { _, _ in }

    var random = SystemRandomNumberGenerator()
    let cases: [(String, [UInt8], String)] = [
      (
        "random bytes", (0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) },
        "bad banner"
      ),
      ("msgr1 banner", Array("ceph v027".utf8) + [UInt8](repeating: 0, count: 40), "msgr v1"),
      (
        "bad preamble crc", banner + hello.enumerated().map { $0 == 29 ? $1 ^ 1 : $1 },
        "bad preamble crc"
      ),
      (
        "bad segment crc", banner + hello.enumerated().map { $0 == 40 ? $1 ^ 1 : $1 },
        "bad crc on segment 0"
      ),
      (
        "oversize segment",
        banner + withPreamble(hello) { $0.replaceSubrange(2..<6, with: [0, 0, 0, 0x10]) },
        "exceeds limit"
      ),
      ("unknown tag", banner + withPreamble(hello) { $0[0] = 77 }, "unknown frame tag 77"),
      (
        "message before auth", banner + hello + Array(message.readableBytesView),
        "unexpected message"
      ),
      ("truncated frame", banner + Array(hello.prefix(20)), "no ready session"),
    ]
    for (name, bytes, reason) in cases {
      let closed = try sendAndAwaitClose(port: Int(addr.port), bytes: bytes, timeout: 5)
      XCTAssertTrue(closed, "\(name): server did not close the connection")
      waitUntil(3, "log line for \(name)") { log.contains(reason) }
    }
    for i in 1...100 { healthy.send(counterMessage(UInt64(i), data: 512)) }
    waitUntil(10, "healthy client still served") { clientSide.count == 100 }
    XCTAssertFalse(healthy.isClosed)
  }
}

/// Connects, writes `bytes`, then reads until the peer closes. True if it closed in time.
func sendAndAwaitClose(port: Int, bytes: [UInt8], timeout: Double) throws -> Bool {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var addr = sockaddr_in()
  addr.sin_family = sa_family_t(AF_INET)
  addr.sin_addr.s_addr = inet_addr("127.0.0.1")
  addr.sin_port = UInt16(port).bigEndian
  let connected = withUnsafePointer(to: &addr) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
  var tv = timeval(tv_sec: 0, tv_usec: 200_000)
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
  _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
  let deadline = Date().addingTimeInterval(timeout)
  var buffer = [UInt8](repeating: 0, count: 4096)
  while Date() < deadline {
    let n = recv(fd, &buffer, buffer.count, 0)
    if n == 0 { return true }
    if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { return true }
  }
  return false
}
