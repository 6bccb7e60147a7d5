import LoligoMessages
import LoligoMessenger
import LoligoWire
import NIOCore

/// Subscriptions: clients' `mon_subscribe` to the OSD map (one-time or standing, fed with
/// incrementals from the epoch they have) and to the monitor map. On the core loop.
extension MonDaemon {
  struct Subscriber {
    let connection: Connection
    var next: UInt32
    let onetime: Bool
  }

  func handleSubscribe(_ message: Message) {
    guard let connection = message.connection, let subscribe = try? MonSubscribe(message) else {
      return
    }
    if let item = subscribe.what["osdmap"] {
      var subscriber = Subscriber(connection: connection, next: item.start, onetime: item.onetime)
      send(&subscriber)
      if !item.onetime { subscribers[ObjectIdentifier(connection)] = subscriber }
    }
    if subscribe.what["monmap"] != nil {
      var b = ByteBuffer()
      monmap.encode(to: &b)
      connection.send(Message(type: MessageType.monMap, front: b))
    }
  }

  /// Sends a subscriber what it lacks (`OSDMapService.updates`).
  private func send(_ subscriber: inout Subscriber) {
    let map = services.osdmap.map
    guard subscriber.next <= map.epoch else { return }
    let updates = services.osdmap.updates(
      from: subscriber.next, fsid: monmap.fsid, store: store,
      maxMaps: config.int(.osdMapMessageMax), maxBytes: config.int(.osdMapMessageMaxBytes))
    for update in updates { subscriber.connection.send(update.message()) }
    subscriber.next = map.epoch + 1
  }

  /// Sends every standing osdmap subscriber the epochs it lacks (after a commit changed the
  /// map); drops the ones whose connection closed.
  func publishOSDMap() {
    for (id, var subscriber) in subscribers {
      if subscriber.connection.isClosed {
        subscribers[id] = nil
        continue
      }
      send(&subscriber)
      subscribers[id] = subscriber
    }
  }
}
