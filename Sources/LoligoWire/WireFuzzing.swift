import LoligoCore
import NIOCore

/// Feeds arbitrary bytes to the receive path the way a peer's bytes arrive: banner, then frames,
/// then each control payload through its decoder. Used by the libFuzzer target
/// (`fuzz-frame-decoder`) and by the tests' corpus replay. Returns how many frames decoded;
/// any input may be refused, none may crash or allocate more than the limits allow.
@discardableResult
public func exerciseReceivePath(_ bytes: UnsafeRawBufferPointer, chunk: Int = 0) -> Int {
  var decoder = FrameDecoder(limits: .init(maxMessageBytes: 1 << 20, maxControlBytes: 64 << 10))
  var frames = 0
  var offset = 0
  var bannerSeen = false
  let step = chunk > 0 ? chunk : max(bytes.count, 1)
  while offset < bytes.count {
    let end = min(bytes.count, offset + step)
    decoder.append(ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[offset..<end])))
    offset = end
    do {
      if !bannerSeen {
        guard let banner = try decoder.readBanner() else { continue }
        try Banner.loligo.negotiate(with: banner)
        bannerSeen = true
      }
      while let frame = try decoder.nextFrame() {
        frames += 1
        decodePayload(frame)
      }
    } catch {
      return frames
    }
  }
  return frames
}

private func decodePayload(_ frame: Frame) {
  var p = frame.payload
  switch frame.tag {
  case .hello: _ = try? HelloFrame(from: &p)
  case .authRequest: _ = try? AuthRequestFrame(from: &p)
  case .authBadMethod: _ = try? AuthBadMethodFrame(from: &p)
  case .authDone: _ = try? AuthDoneFrame(from: &p)
  case .authSignature: _ = try? AuthSignatureFrame(from: &p)
  case .clientIdent: _ = try? IdentFrame(from: &p, client: true)
  case .serverIdent: _ = try? IdentFrame(from: &p, client: false)
  case .sessionReconnect: _ = try? ReconnectFrame(from: &p)
  case .sessionReset: _ = try? ResetFrame(from: &p)
  case .keepalive2, .keepalive2Ack: _ = try? KeepaliveFrame(from: &p)
  case .message: _ = try? MessageHeader2.decode(&p)
  default: _ = try? U64Frame(from: &p)
  }
}
