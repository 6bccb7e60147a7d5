import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A daemon's local admin socket (a Unix socket): a client writes one command line, such as
/// `perf dump`, and reads back one JSON document. `loligo daemon NAME COMMAND` is the client.
// `handlers` under `lock`; `channel` only in the owner's start and stop
public final class AdminSocket: @unchecked Sendable {
  public typealias Handler = @Sendable ([String]) throws -> Any

  /// Longest command line accepted.
  static let maxCommandBytes = 4096

  public let path: String
  private let lock = NIOLock()
  private var handlers: [String: (help: String, handler: Handler)] = [:]
  private var channel: (any Channel)?

  public init(path: String) {
    self.path = path
    register("help", help: "list commands") { [weak self] _ in
      guard let self else { return [:] }
      return self.lock.withLock { self.handlers.mapValues { $0.help } }
    }
  }

  /// Adds a command: its words (`perf dump`), a help line and what it returns (JSON-able).
  public func register(_ command: String, help: String, _ handler: @escaping Handler) {
    lock.withLock { handlers[command] = (help, handler) }
  }

  /// Starts listening (replacing a stale socket file).
  public func start(group: any EventLoopGroup) throws(DaemonError) {
    try? FileManager.default.removeItem(atPath: path)
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty {
      try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }
    do {
      channel = try ServerBootstrap(group: group)
        .childChannelInitializer { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(AdminConnection(socket: self))
          }
        }
        .bind(unixDomainSocketPath: path).wait()
    } catch {
      throw .io("cannot open admin socket \(path): \(error)")
    }
  }

  public func stop() {
    try? channel?.close().wait()
    try? FileManager.default.removeItem(atPath: path)
  }

  /// Runs a command line; the reply is JSON text.
  func execute(_ line: String) -> String {
    let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
    let entry: (help: String, handler: Handler)? = lock.withLock {
      // Longest registered prefix wins: "perf dump" before "perf".
      for length in stride(from: words.count, through: 1, by: -1) {
        if let found = handlers[words.prefix(length).joined(separator: " ")] { return found }
      }
      return nil
    }
    guard let entry else {
      return AdminSocket.json(["error": "unknown command '\(line)'; try 'help'"])
    }
    do {
      return AdminSocket.json(try entry.handler(words))
    } catch {
      return AdminSocket.json(["error": "\(error)"])
    }
  }

  static func json(_ value: Any) -> String {
    guard JSONSerialization.isValidJSONObject(value),
      let data = try? JSONSerialization.data(
        withJSONObject: value, options: [.prettyPrinted, .sortedKeys])
    else { return "{\"error\": \"reply is not JSON\"}" }
    return String(decoding: data, as: UTF8.self)
  }
}

// confined to its channel's event loop
private final class AdminConnection: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer
  let socket: AdminSocket
  var pending = ByteBuffer()

  init(socket: AdminSocket) { self.socket = socket }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var incoming = unwrapInboundIn(data)
    pending.writeBuffer(&incoming)
    if pending.readableBytes > AdminSocket.maxCommandBytes {
      context.close(promise: nil)
      return
    }
    guard let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return }
    let line = pending.readString(length: newline - pending.readerIndex) ?? ""
    let channel = context.channel
    let socket = self.socket
    // Handlers may wait for the daemon's own threads: never run them on an event loop.
    DispatchQueue.global().async {
      let reply = socket.execute(line) + "\n"
      channel.writeAndFlush(channel.allocator.buffer(string: reply)).whenComplete { _ in
        channel.close(promise: nil)
      }
    }
  }
}

/// Asks a daemon's admin socket one command; returns its JSON reply.
public func adminSocketRequest(path: String, command: String, timeout: TimeInterval = 10)
  throws(DaemonError) -> String
{
  let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
  guard fd >= 0 else { throw .io("socket: \(String(cString: strerror(errno)))") }
  defer { close(fd) }
  var address = sockaddr_un()
  address.sun_family = sa_family_t(AF_UNIX)
  let bytes = Array(path.utf8)
  guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
    throw .io("admin socket path too long: \(path)")
  }
  withUnsafeMutableBytes(of: &address.sun_path) { raw in
    raw.copyBytes(from: bytes)
    raw[bytes.count] = 0
  }
  var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
  let connected = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
    }
  }
  guard connected == 0 else {
    throw .io("cannot connect to admin socket \(path): \(String(cString: strerror(errno)))")
  }
  let line = Array((command + "\n").utf8)
  _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
  var reply: [UInt8] = []
  var buffer = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = recv(fd, &buffer, buffer.count, 0)
    if n > 0 {
      reply += buffer[0..<n]
      if reply.count > 64 << 20 { throw .io("admin socket reply too large") }
    } else if n == 0 {
      break
    } else {
      throw .io("no reply from admin socket \(path): \(String(cString: strerror(errno)))")
    }
  }
  return String(decoding: reply, as: UTF8.self)
}
