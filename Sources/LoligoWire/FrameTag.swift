/// msgr2 frame tags with Ceph's numeric values (src/msg/async/frames_v2.h).
public enum FrameTag: UInt8, Sendable, CaseIterable {
  case hello = 1
  case authRequest = 2
  case authBadMethod = 3
  case authReplyMore = 4
  case authRequestMore = 5
  case authDone = 6
  case authSignature = 7
  case clientIdent = 8
  case serverIdent = 9
  case identMissingFeatures = 10
  case sessionReconnect = 11
  case sessionReset = 12
  case sessionRetry = 13
  case sessionRetryGlobal = 14
  case sessionReconnectOk = 15
  case wait = 16
  case message = 17
  case keepalive2 = 18
  case keepalive2Ack = 19
  case ack = 20
  case compressionRequest = 21
  case compressionDone = 22
}
