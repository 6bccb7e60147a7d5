import Atomics
import Foundation
import NIOCore
import NIOPosix

/// Serves `GET /metrics` over HTTP/1.x for Prometheus to scrape: one request per connection,
/// answered with what `render` returns (text exposition, `PrometheusText`), then closed.
/// Whoever connects is a stranger: the request head is bounded, anything but `GET /metrics` is
/// refused with a status, garbage gets a 400, and a connection that does not finish its
/// request within `idleTimeout` is closed; beyond `maxConnections` open at once, new ones are
/// closed at once (a scraper needs one).
public final class MetricsServer: Sendable {
  public typealias Render = @Sendable () -> String

  /// Longest request head (request line and headers) read before answering 431.
  static let maxRequestBytes = 8192
  static let idleTimeout = TimeAmount.seconds(10)
  static let maxConnections = 32

  private let channel: any Channel
  /// Connections open now.
  private let open = ManagedAtomic<Int>(0)
  /// Where it listens (the port is the one bound when 0 was asked).
  public let host: String
  public let port: Int

  /// Binds `host:port` (port 0 picks a free one) on `group`.
  public init(host: String, port: Int, group: any EventLoopGroup, render: @escaping Render)
    throws(DaemonError)
  {
    do {
      channel = try ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .serverChannelOption(.backlog, value: 16)
        .childChannelInitializer { [open] channel in
          guard open.loadThenWrappingIncrement(ordering: .relaxed) < Self.maxConnections else {
            open.wrappingDecrement(ordering: .relaxed)
            return channel.close()
          }
          channel.closeFuture.whenComplete { _ in open.wrappingDecrement(ordering: .relaxed) }
          return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(MetricsRequestHandler(render: render))
          }
        }
        .bind(host: host, port: port).wait()
    } catch {
      throw .io("cannot serve metrics on \(host):\(port): \(error)")
    }
    self.host = host
    self.port = channel.localAddress?.port ?? port
  }

  public func stop() {
    try? channel.close().wait()
  }
}

/// What a request head asks for.
enum MetricsRequest: Equatable {
  case metrics
  case status(code: Int, reason: String)

  /// Parses the head's request line (`GET /metrics HTTP/1.1`); headers are ignored.
  init(head: ByteBufferView) {
    let line = head.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
    let words = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
    guard words.count == 3, words[2].starts(with: Array("HTTP/1.".utf8)) else {
      self = .status(code: 400, reason: "Bad Request")
      return
    }
    guard Array(words[0]) == Array("GET".utf8) else {
      self = .status(code: 405, reason: "Method Not Allowed")
      return
    }
    let path = words[1].prefix { $0 != UInt8(ascii: "?") }
    self =
      Array(path) == Array("/metrics".utf8) ? .metrics : .status(code: 404, reason: "Not Found")
  }
}

// confined to its channel's event loop
private final class MetricsRequestHandler: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer
  let render: MetricsServer.Render
  var head = ByteBuffer()
  var answered = false
  var idle: Scheduled<Void>?

  init(render: @escaping MetricsServer.Render) { self.render = render }

  func channelActive(context: ChannelHandlerContext) {
    let channel = context.channel
    idle = context.eventLoop.scheduleTask(in: MetricsServer.idleTimeout) {
      channel.close(promise: nil)
    }
    context.fireChannelActive()
  }

  func channelInactive(context: ChannelHandlerContext) {
    idle?.cancel()
    context.fireChannelInactive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !answered else { return }
    var incoming = unwrapInboundIn(data)
    head.writeBuffer(&incoming)
    let view = head.readableBytesView
    let end = view.firstRange(of: Array("\r\n\r\n".utf8)) ?? view.firstRange(of: Array("\n\n".utf8))
    guard end != nil else {
      if head.readableBytes > MetricsServer.maxRequestBytes {
        answer(context, code: 431, reason: "Request Header Fields Too Large", body: "")
      }
      return
    }
    switch MetricsRequest(head: view) {
    case .status(let code, let reason):
      answer(context, code: code, reason: reason, body: "\(reason)\n")
    case .metrics:
      answered = true
      let channel = context.channel
      let render = self.render
      // Rendering may wait for the daemon's own loops: never on an event loop.
      DispatchQueue.global().async {
        let body = render()
        channel.eventLoop.execute {
          Self.write(channel, code: 200, reason: "OK", type: PrometheusText.contentType, body: body)
        }
      }
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }

  private func answer(_ context: ChannelHandlerContext, code: Int, reason: String, body: String) {
    answered = true
    Self.write(
      context.channel, code: code, reason: reason, type: "text/plain; charset=utf-8", body: body)
  }

  private static func write(
    _ channel: any Channel, code: Int, reason: String, type: String, body: String
  ) {
    let bytes = body.utf8.count
    var out = channel.allocator.buffer(capacity: bytes + 160)
    out.writeString(
      "HTTP/1.1 \(code) \(reason)\r\nContent-Type: \(type)\r\nContent-Length: \(bytes)\r\n"
        + "Connection: close\r\n\r\n")
    out.writeString(body)
    // Only the sending side closes: a close with the client's unread bytes still queued
    // would reset the connection and could lose the answer; the client's close (or the
    // idle timeout) ends it.
    channel.writeAndFlush(out).whenComplete { _ in
      channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
    }
  }
}
