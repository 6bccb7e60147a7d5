import Atomics
import LoligoMessenger

/// A messenger's traffic as Prometheus counters (`loligo_msgr_...`).
extension MessengerCounters {
  public func write(to out: inout PrometheusText, prefix: String = "loligo") {
    let load = { (counter: ManagedAtomic<UInt64>) in counter.load(ordering: .relaxed) }
    out.counter(
      "\(prefix)_msgr_recv_bytes_total", help: "bytes the messenger read from its sockets",
      load(bytesIn))
    out.counter(
      "\(prefix)_msgr_recv_frames_total", help: "msgr2 frames the messenger decoded",
      load(framesIn))
    out.counter(
      "\(prefix)_msgr_send_bytes_total", help: "bytes of message frames the messenger wrote",
      load(bytesOut))
    out.counter(
      "\(prefix)_msgr_send_messages_total", help: "messages the messenger wrote",
      load(framesOut))
    out.counter(
      "\(prefix)_msgr_reconnects_total", help: "reconnect attempts of lossless sessions",
      load(reconnects))
  }
}
