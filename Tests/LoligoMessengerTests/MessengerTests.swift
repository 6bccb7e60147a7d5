import Foundation
import LoligoCore
import LoligoMessages
import LoligoMessenger
import LoligoWire
import NIOCore
import XCTest

final class MessengerTests: XCTestCase {
  func testRequestReplyOverTCP() throws { try MessengerConformance.requestReply(.tcp) }
  func testSeveralClientsConcurrently() throws {
    try MessengerConformance.severalClientsConcurrently(.tcp)
  }
  func testLosslessDeliveryUnderInjectedSocketFailures() throws {
    try MessengerConformance.losslessDeliveryUnderInjectedSocketFailures(.tcp)
  }
  func testUnreachableServerFailsFast() throws {
    try MessengerConformance.unreachableServerFailsFast(.tcp)
  }
  func testServerRestartResetsLosslessSession() throws {
    try MessengerConformance.serverRestartResetsLosslessSession(.tcp)
  }
  func testLossySessionReportsResetWhenServerGoes() throws {
    try MessengerConformance.lossySessionReportsResetWhenServerGoes(.tcp)
  }
  func testDispatchThrottlePausesReading() throws {
    try MessengerConformance.dispatchThrottlePausesReading(.tcp)
  }
  func testQueuedBytesLimitRefusesSends() throws {
    try MessengerConformance.queuedBytesLimitRefusesSends(.tcp)
  }
  func testKeepalivesAreAnswered() throws { try MessengerConformance.keepalivesAreAnswered(.tcp) }
  func testStandbySessionExpires() throws { try MessengerConformance.standbySessionExpires(.tcp) }
  func testMessageDecodingRoundTrip() throws {
    try MessengerConformance.messageDecodingRoundTrip(.tcp)
  }
}

final class SentCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var value: UInt64 = 0
  func next(limit: UInt64) -> UInt64? {
    lock.withLock {
      guard value < limit else { return nil }
      value += 1
      return value
    }
  }
}

/// A port with nothing listening on it.
func closedPort() throws -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var addr = sockaddr_in()
  addr.sin_family = sa_family_t(AF_INET)
  addr.sin_addr.s_addr = inet_addr("127.0.0.1")
  addr.sin_port = 0
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  _ = withUnsafePointer(to: &addr) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
  }
  _ = withUnsafeMutablePointer(to: &addr) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
  }
  return Int(UInt16(bigEndian: addr.sin_port))
}
