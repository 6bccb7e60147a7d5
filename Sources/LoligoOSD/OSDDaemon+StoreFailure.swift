import Foundation
import LoligoCore

/// A store that failed a transaction of the peering core. The core counts on every
/// transaction it submitted (the logs, versions and acknowledgements it keeps in memory
/// include it), and the store stopped at that one (`DurableStore.stopAtFirstFailure`): the
/// only true state is the disk's. So the OSD never carries on: it leaves the cluster and,
/// for a full device, starts again from its disk as after a crash (its peers recover what
/// it lacks once there is room); for any other failure it stops (fail-stop) for someone to
/// look at the store.
extension OSDDaemon {
  func storeFailed(_ error: StoreError) {
    guard !stopped else { return }
    stopped = true
    heartbeat?.cancel()
    coreTicker?.cancel()
    statsReporter?.cancel()
    let restart: Bool
    if case .noSpace = error { restart = true } else { restart = false }
    Log.shared.error(
      "osd",
      "osd.\(id): the store failed a transaction: \(error); "
        + (restart
          ? "leaving the cluster to start again from what the disk holds"
          : "stopping (fail-stop): check the store and start the OSD again"))
    let thread = Thread { [self] in
      _ = try? monClient.commandSync(
        ["prefix": "osd down", "ids": [Int(id)]], timeout: .seconds(3))
      monClient.shutdown()
      messenger.shutdown()
      store.close()
      onStoreFailure?(restart)
    }
    thread.name = "osd-store-failure"
    thread.start()
  }
}
