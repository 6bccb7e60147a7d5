import Foundation

/// One HTTP exchange with 127.0.0.1:port over a plain socket: sends `request` as it is (so a
/// test can send garbage) and reads until the server closes or `timeout` seconds pass without
/// a byte. Returns the status code (0 when the answer has no status line), the body, and
/// whether the server closed the connection.
func httpExchange(port: Int, request: [UInt8], timeout: Int = 10) -> (
  status: Int, body: String, closed: Bool
)? {
  guard let fd = openConnection(port: port) else { return nil }
  defer { close(fd) }
  var tv = timeval(tv_sec: timeout, tv_usec: 0)
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
  _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
  var reply: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65536)
  var closed = false
  while true {
    let n = recv(fd, &buffer, buffer.count, 0)
    guard n > 0 else {
      closed = n == 0 || errno == ECONNRESET
      break
    }
    reply += buffer[0..<n]
  }
  let text = String(decoding: reply, as: UTF8.self)
  guard let headEnd = text.range(of: "\r\n\r\n") else { return (0, text, closed) }
  let statusLine = text[..<headEnd.lowerBound].split(separator: "\r\n").first ?? ""
  let words = statusLine.split(separator: " ")
  let status = words.count >= 2 && words[0].hasPrefix("HTTP/1.") ? Int(words[1]) ?? 0 : 0
  return (status, String(text[headEnd.upperBound...]), closed)
}

/// A TCP connection to 127.0.0.1:port that sends nothing (nil if it cannot connect).
func openConnection(port: Int) -> Int32? {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { return nil }
  var addr = sockaddr_in()
  addr.sin_family = sa_family_t(AF_INET)
  addr.sin_port = in_port_t(UInt16(port).bigEndian)
  addr.sin_addr.s_addr = inet_addr("127.0.0.1")
  let connected = withUnsafePointer(to: &addr) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  guard connected == 0 else {
    close(fd)
    return nil
  }
  return fd
}

/// Whether the peer has closed `fd` (a read without waiting finds end of file or a reset).
func peerHasClosed(_ fd: Int32) -> Bool {
  var byte: UInt8 = 0
  let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
  return n == 0 || (n < 0 && errno == ECONNRESET)
}

/// `GET /metrics`: the body when the answer is 200.
func scrapeMetrics(port: Int) -> String? {
  guard
    let (status, body, _) = httpExchange(
      port: port, request: Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)),
    status == 200
  else { return nil }
  return body
}

/// The value of the sample `series` (a metric name with its labels, as written) in a scrape.
func metricValue(_ scrape: String, _ series: String) -> Double? {
  for line in scrape.split(separator: "\n") where line.hasPrefix(series + " ") {
    return Double(line.dropFirst(series.count + 1))
  }
  return nil
}

/// Where promtool is, or nil (the tests that need it skip, saying so).
func promtoolPath() -> String? {
  let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
  return paths.map { "\($0)/promtool" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// `promtool check metrics` on a scrape: its exit status and what it said.
func promtoolCheck(_ promtool: String, _ scrape: String) throws -> (status: Int32, output: String) {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: promtool)
  process.arguments = ["check", "metrics"]
  let input = Pipe()
  let output = Pipe()
  process.standardInput = input
  process.standardOutput = output
  process.standardError = output
  try process.run()
  input.fileHandleForWriting.write(Data(scrape.utf8))
  try input.fileHandleForWriting.close()
  let said = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return (process.terminationStatus, String(decoding: said, as: UTF8.self))
}
