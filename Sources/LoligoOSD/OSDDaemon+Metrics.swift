import LoligoDaemon

/// What `GET /metrics` shows of an OSD (`prometheus_port`): its perf counters (ops, bytes,
/// latency histograms), its messenger's traffic, and gauges read on its loop: ops in flight,
/// ops waiting for a newer map, and its primary PGs by state.
extension OSDDaemon {
  public func metrics() -> String {
    var out = PrometheusText()
    counters.write(to: &out)
    messenger.counters.write(to: &out)
    let gauges = try? loop.submit { () -> OSDGauges in
      var states: [String: Int] = [:]
      for stat in self.core.stats() { states[stat.state, default: 0] += 1 }
      return OSDGauges(
        opsInFlight: self.ops.count, opsWaitingForMap: self.parked.count,
        pgs: self.core.pgCount, epoch: Int(self.map?.epoch ?? 0), primaryStates: states)
    }.wait()
    if let gauges {
      out.gauge(
        "loligo_osd_ops_in_flight", help: "client ops accepted and not yet answered",
        Double(gauges.opsInFlight))
      out.gauge(
        "loligo_osd_ops_waiting_for_map", help: "messages parked until a newer OSD map",
        Double(gauges.opsWaitingForMap))
      out.gauge("loligo_osd_numpg", help: "placement groups this OSD holds", Double(gauges.pgs))
      out.gauge(
        "loligo_osd_map_epoch", help: "the OSD map epoch this OSD has", Double(gauges.epoch))
      out.gauge(
        "loligo_osd_primary_pgs", help: "placement groups this OSD is primary for, by state",
        gauges.primaryStates.sorted { $0.key < $1.key }.map {
          ([("state", $0.key)], Double($0.value))
        })
    }
    return out.text
  }
}

struct OSDGauges: Sendable {
  var opsInFlight: Int
  var opsWaitingForMap: Int
  var pgs: Int
  var epoch: Int
  var primaryStates: [String: Int]
}
