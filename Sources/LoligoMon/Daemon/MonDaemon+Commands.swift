import Foundation
import LoligoConsensus
import LoligoMessages
import LoligoMessenger

/// Commands: clients' `mon_command`s (reads answered at once, writes proposed through Paxos
/// and answered once committed) and the ones the leader proposes itself. On the core loop.
extension MonDaemon {
  struct Waiting {
    let connection: Connection
    let tid: UInt64
    let started: UInt64
  }

  static let writeCommands: Set<String> = [
    "config-key set", "config-key put", "config-key rm", "config-key del", "osd pool create",
    "osd pool delete", "osd pool rm", "osd pool set", "osd boot", "osd failure", "osd down",
    "osd out", "osd in", "osd set", "osd unset", "osd alive", "osd pg-temp",
    "osd set-full-ratio", "osd set-backfillfull-ratio", "osd set-nearfull-ratio",
  ]

  func handleCommand(_ message: Message) {
    guard let connection = message.connection else { return }
    let command: MonCommand
    do {
      command = try MonCommand(message)
    } catch {
      connection.send(
        MonCommandReply(result: Errno.invalid.rawValue, status: "\(error)").message(
          tid: message.tid))
      return
    }
    counters.counter("mon", "commands").add()
    func reply(_ result: CommandResult) { send(result, tid: message.tid, on: connection) }
    guard command.fsid == monmap.fsid else {
      return reply(
        .error(.permission, "command for cluster \(command.fsid), this is \(monmap.fsid)"))
    }
    guard let fields = command.fields, let prefix = fields["prefix"] as? String else {
      return reply(.error(.invalid, "command is not a JSON object with a prefix"))
    }
    if let answer = pgMapCommand(prefix, fields) { return reply(answer) }
    let pgs =
      ["status", "health"].contains(prefix) && status.role == .leader
      ? pgMap.summary(services.osdmap.map, now: Self.seconds()) : nil
    if let read = services.read(prefix, fields, status: core.status, pgmap: pgs) {
      let serving = status.role == .leader || core.isReadable(now: Self.now())
      // Status reports work even out of quorum; data reads need a valid lease.
      if serving || ["quorum_status", "status", "health", "mon dump"].contains(prefix) {
        return reply(read)
      }
      return reply(.error(.tryAgain, "mon.\(name) cannot serve reads now (\(status.role))"))
    }
    guard Self.writeCommands.contains(prefix) else {
      return reply(.error(.invalid, "unknown command '\(prefix)'"))
    }
    if prefix == "osd boot", status.role == .leader || core.isReadable(now: Self.now()),
      let answer = services.osdmap.preprocessBoot(fields)
    {
      return reply(answer)  // a duplicate, or noup, by a current map: no proposal needed
    }
    var filled = fields
    filled["auto"] = nil  // only the leader's own automatic out says this
    if prefix == "osd pool create" {
      if filled["size"] == nil { filled["size"] = config.int(.osdPoolDefaultSize) }
      if filled["pg_num"] == nil { filled["pg_num"] = config.int(.osdPoolDefaultPGNum) }
      if filled["min_size"] == nil, config.int(.osdPoolDefaultMinSize) > 0 {
        filled["min_size"] = config.int(.osdPoolDefaultMinSize)
      }
    }
    if prefix == "osd boot" { filled["chooseleaf_type"] = config.int(.osdCrushChooseleafType) }
    let payload = MonProposalPayload(
      fields: filled, input: command.input, stamp: Date().timeIntervalSince1970)
    let clientId = UInt64(bitPattern: message.source?.num ?? 0)
    let key = MonServices.ClientKey(clientId: clientId, tid: message.tid)
    waiting[key] = Waiting(connection: connection, tid: message.tid, started: Self.now())
    step(.client(ClientRequest(clientId: clientId, tid: message.tid, payload: payload.encoded())))
  }

  /// Answers a proposed command: with its service's result once committed, else with why not.
  func answer(_ reply: ClientReply) {
    let key = MonServices.ClientKey(clientId: reply.clientId, tid: reply.tid)
    guard let waiter = waiting.removeValue(forKey: key) else { return }
    let answer: CommandResult
    switch reply.result {
    case .committed:
      answer = results.removeValue(forKey: key)?.result ?? CommandResult(0, "committed")
    case .failed(let error):
      results[key] = nil
      switch error {
      case .notInQuorum: answer = .error(.tryAgain, "mon.\(name) is not in quorum")
      case .busy: answer = .error(.busy, "mon.\(name) is busy")
      case .tooLarge: answer = .error(.range, "command too large")
      case .interrupted: answer = .error(.tryAgain, "election interrupted the request; retry")
      case .timedOut: answer = .error(.timedOut, "no commit within the request timeout")
      }
    }
    counters.latency("mon", "command_latency").record(nanoseconds: Self.now() - waiter.started)
    send(answer, tid: waiter.tid, on: waiter.connection)
  }

  private func send(_ result: CommandResult, tid: UInt64, on connection: Connection) {
    connection.send(
      MonCommandReply(
        result: result.code, status: result.status, version: services.appliedVersion,
        output: result.output, leader: Int32(status.leader ?? -1)
      )
      .message(tid: tid))
  }

  /// What the leader proposes by itself, once a second.
  func leaderTick() {
    proposeAutoOut()
    proposeTrim()
    proposeFullStates()
  }

  /// The leader trims the OSD map history as far as `OSDMapService.trimTarget` allows, from
  /// the PGs' last_epoch_clean in its PG map; again after 10 s if the trim did not land.
  func proposeTrim() {
    guard !stopped, status.role == .leader else { return }
    let service = services.osdmap
    guard
      let target = OSDMapService.trimTarget(
        epoch: service.map.epoch, base: service.base.epoch,
        minEpochs: config.int(.monMinOSDMapEpochs),
        lastEpochClean: pgMap.minLastEpochClean(service.map))
    else { return }
    let now = Self.seconds()
    if let last = lastTrimProposal, last.to >= target, now - last.at < 10 { return }
    lastTrimProposal = (target, now)
    internalTid += 1
    let payload = MonProposalPayload(
      fields: ["prefix": "osd trim", "to": Int(target)], stamp: Date().timeIntervalSince1970)
    step(.client(ClientRequest(clientId: 0, tid: internalTid, payload: payload.encoded())))
  }

  /// The leader marks OSDs out that stayed down longer than `mon_osd_down_out_interval`.
  func proposeAutoOut() {
    let interval = config.double(.monOSDDownOutInterval)
    guard !stopped, status.role == .leader, interval > 0 else { return }
    let due = services.osdmap.dueForOut(now: Date().timeIntervalSince1970, interval: interval)
    guard !due.isEmpty else { return }
    internalTid += 1
    let payload = MonProposalPayload(
      fields: ["prefix": "osd out", "ids": due.map(Int.init), "auto": true],
      stamp: Date().timeIntervalSince1970)
    step(.client(ClientRequest(clientId: 0, tid: internalTid, payload: payload.encoded())))
  }
}
