import NIOCore

/// Sync (Ceph's Monitor::sync_*): a monitor too far behind to catch up in recovery copies
/// committed state from a peer before joining. A recent sync streams the missing versions; a
/// full sync (the peer trimmed versions we lack, or an earlier full sync was cut short)
/// copies a snapshot of the peer's paxos versions and service prefixes, then the versions
/// committed since. The acceptor state (`accepted_pn`, `last_pn`) is never copied or lost:
/// it is this monitor's promise, and dropping it could let it accept a lower proposal.
extension MonitorCore {
  /// Prefixes a full sync copies besides the paxos versions.
  var syncedServicePrefixes: [String] {
    config.serviceStorePrefixes.filter {
      $0 != MonStoreKeys.paxos && !MonStoreKeys.localPrefixes.contains($0)
    }
  }

  // MARK: requester

  mutating func startSync(from provider: Int, full: Bool, _ fx: inout MonEffects) {
    probeDeadline = nil
    leaveQuorumForSync(&fx)
    role = .synchronizing
    syncProviders.removeAll()  // our store is about to move under them
    syncCookieCounter += 1
    let cookie = (UInt64(rank) << 56) ^ (now &* 0x9E37_79B9_7F4A_7C15) ^ syncCookieCounter
    if full && paxos.lastCommitted > syncFloor {
      // Whatever we copy must reach at least what we already had.
      syncFloor = paxos.lastCommitted
      fx.put(MonStoreKeys.sync, MonStoreKeys.syncFloor, syncFloor)
    }
    let request = SyncRequester(
      provider: provider, cookie: cookie, full: full, startLastCommitted: paxos.lastCommitted,
      retryAt: now + config.monSyncRetryInterval, giveUpAt: now + config.monSyncTimeout)
    syncRequest = request
    fx.send(provider, request.request)
  }

  private mutating func leaveQuorumForSync(_ fx: inout MonEffects) {
    paxos.restart()
    elector.cancel()
    interruptRequests(&fx)
  }

  mutating func handleSyncChunk(from: Int, _ m: SyncChunk, _ fx: inout MonEffects) {
    guard role == .synchronizing, var request = syncRequest, from == request.provider,
      m.cookie == request.cookie, m.seq == request.seq
    else { return }  // stray, repeated or from an abandoned sync
    if request.full && !request.snapshotApplied {
      if !request.wiped {
        guard m.snapshotLastCommitted >= syncFloor else {
          syncRequest = nil
          bootstrap(&fx)  // that copy would take us backwards: find another provider
          return
        }
        wipeForFullSync(&fx)
        request.wiped = true
        request.snapshotFirstCommitted = m.snapshotFirstCommitted
        request.snapshotLastCommitted = m.snapshotLastCommitted
      }
      for entry in m.entries where isSyncable(entry, request) {
        fx.put(entry.prefix, entry.key, entry.value)
      }
      if m.snapshotDone {
        finishSnapshot(request, &fx)
        request.snapshotApplied = true
      }
    }
    if !request.full || request.snapshotApplied {
      paxos.storeShared(m.values, upTo: UInt64.max, &fx)
    }
    if m.isLast {
      syncRequest = nil
      bootstrap(&fx)  // caught up (or, if the snapshot never ended, still mustSync): probe again
      return
    }
    request.seq += 1
    request.retryAt = now + config.monSyncRetryInterval
    request.giveUpAt = now + config.monSyncTimeout
    syncRequest = request
    fx.send(request.provider, request.request)
  }

  /// Only keys of the snapshot's committed range and of the service prefixes are taken.
  private func isSyncable(_ entry: SyncEntry, _ request: SyncRequester) -> Bool {
    if entry.prefix == MonStoreKeys.paxos {
      guard let version = MonStoreKeys.parseVersion(entry.key) else { return false }
      return version >= request.snapshotFirstCommitted
        && version <= request.snapshotLastCommitted
    }
    return syncedServicePrefixes.contains(entry.prefix)
  }

  /// First chunk of a full sync: mark the store incomplete and clear what will be copied,
  /// keeping the acceptor state.
  private mutating func wipeForFullSync(_ fx: inout MonEffects) {
    mustSync = true
    fx.putFlag(MonStoreKeys.sync, MonStoreKeys.inSync, true)
    fx.put(MonStoreKeys.sync, MonStoreKeys.syncFloor, syncFloor)
    fx.deletePrefix(MonStoreKeys.paxos)
    fx.put(MonStoreKeys.paxos, MonStoreKeys.acceptedPN, paxos.acceptedPN)
    fx.put(MonStoreKeys.paxos, MonStoreKeys.lastPN, paxos.lastPN)
    for prefix in syncedServicePrefixes {
      fx.deletePrefix(prefix)
    }
    paxos.firstCommitted = 0
    paxos.lastCommitted = 0
    paxos.pending = nil
  }

  private mutating func finishSnapshot(_ request: SyncRequester, _ fx: inout MonEffects) {
    fx.put(MonStoreKeys.paxos, MonStoreKeys.firstCommitted, request.snapshotFirstCommitted)
    fx.put(MonStoreKeys.paxos, MonStoreKeys.lastCommitted, request.snapshotLastCommitted)
    fx.delete(MonStoreKeys.sync, MonStoreKeys.inSync)
    mustSync = false
    paxos.load(&fx)
    fx.emit(
      .storeReplaced(
        firstCommitted: paxos.firstCommitted, lastCommitted: paxos.lastCommitted))
    replayRetained(&fx)
  }

  mutating func handleSyncAbort(from: Int, _ m: SyncAbort, _ fx: inout MonEffects) {
    guard role == .synchronizing, let request = syncRequest, from == request.provider,
      m.cookie == request.cookie
    else { return }
    syncRequest = nil
    bootstrap(&fx)
  }

  mutating func syncRequesterTick(_ fx: inout MonEffects) {
    guard var request = syncRequest else { return }
    if now >= request.giveUpAt {
      syncRequest = nil
      bootstrap(&fx)
    } else if now >= request.retryAt {
      request.retryAt = now + config.monSyncRetryInterval
      syncRequest = request
      fx.send(request.provider, request.request)
    }
  }

  // MARK: provider

  mutating func handleSyncStart(from: Int, _ m: SyncStart, _ fx: inout MonEffects) {
    func abort(_ reason: SyncAbort.Reason, _ fx: inout MonEffects) {
      fx.send(from, .syncAbort(SyncAbort(cookie: m.cookie, reason: reason)))
    }
    guard !mustSync, role != .synchronizing, role != .starting else {
      return abort(.providerUnavailable, &fx)
    }
    if var existing = syncProviders[from], existing.cookie == m.cookie,
      let first = existing.lastChunk, first.seq == 0
    {
      fx.send(from, .syncChunk(first))  // the requester did not get chunk 0: again
      existing.expiresAt = now + config.monSyncProviderTimeout
      syncProviders[from] = existing
      return
    }
    syncProviders[from] = nil
    guard syncProviders.count < config.monSyncMaxProviders else { return abort(.busy, &fx) }
    // A requester ahead of us cannot be brought forward by us (and its number, 2^64 - 1 from
    // a hostile peer, must not overflow below).
    if !m.full && m.lastCommitted > paxos.lastCommitted { return abort(.providerUnavailable, &fx) }
    if !m.full && m.lastCommitted + 1 < paxos.firstCommitted {
      return abort(.needFullSync, &fx)
    }
    var provider = SyncProvider(
      requester: from, cookie: m.cookie, full: m.full, snapshotDone: !m.full,
      nextVersion: m.lastCommitted + 1, expiresAt: now + config.monSyncProviderTimeout)
    if m.full {
      let snapshot = store.snapshot()
      provider.snapshot = snapshot
      provider.snapshotFirstCommitted = snapshot.getUInt64(
        prefix: MonStoreKeys.paxos, key: MonStoreKeys.firstCommitted)
      provider.snapshotLastCommitted = snapshot.getUInt64(
        prefix: MonStoreKeys.paxos, key: MonStoreKeys.lastCommitted)
      provider.nextVersion = provider.snapshotLastCommitted + 1
    }
    sendNextChunk(&provider, seq: 0, &fx)
  }

  mutating func handleSyncGetChunk(from: Int, _ m: SyncGetChunk, _ fx: inout MonEffects) {
    guard var provider = syncProviders[from], provider.cookie == m.cookie,
      let last = provider.lastChunk
    else {
      fx.send(from, .syncAbort(SyncAbort(cookie: m.cookie, reason: .unknownCookie)))
      return
    }
    provider.expiresAt = now + config.monSyncProviderTimeout
    if m.seq == last.seq {
      syncProviders[from] = provider
      fx.send(from, .syncChunk(last))  // lost on the way: the same chunk again
    } else if m.seq == last.seq + 1 && !last.isLast {
      sendNextChunk(&provider, seq: m.seq, &fx)
    } else {
      syncProviders[from] = nil
      fx.send(from, .syncAbort(SyncAbort(cookie: m.cookie, reason: .unknownCookie)))
    }
  }

  private mutating func sendNextChunk(
    _ provider: inout SyncProvider, seq: UInt64, _ fx: inout MonEffects
  ) {
    guard let chunk = makeChunk(&provider, seq: seq, fx) else {
      // A version we meant to send was trimmed meanwhile: only a full sync can help now.
      syncProviders[provider.requester] = nil
      fx.send(
        provider.requester,
        .syncAbort(SyncAbort(cookie: provider.cookie, reason: .needFullSync)))
      return
    }
    provider.lastChunk = chunk
    syncProviders[provider.requester] = provider
    fx.send(provider.requester, .syncChunk(chunk))
  }

  /// Fills one chunk up to the payload bounds (at least one item): snapshot keys first, then
  /// committed versions from the live store.
  private func makeChunk(_ p: inout SyncProvider, seq: UInt64, _ fx: MonEffects) -> SyncChunk? {
    var chunk = SyncChunk(
      cookie: p.cookie, seq: seq, snapshotFirstCommitted: p.snapshotFirstCommitted,
      snapshotLastCommitted: p.snapshotLastCommitted)
    var bytes = 0
    var items = 0
    let maxKeys = max(config.monSyncMaxPayloadKeys, 1)
    func fits(_ size: Int) -> Bool {
      items == 0 || (items < maxKeys && bytes + size <= config.monSyncMaxPayloadSize)
    }
    if !p.snapshotDone, let snapshot = p.snapshot {
      let prefixes = [MonStoreKeys.paxos] + syncedServicePrefixes
      copying: while p.prefixIndex < prefixes.count {
        let prefix = prefixes[p.prefixIndex]
        var after = p.lastKey
        if prefix == MonStoreKeys.paxos && after == nil && p.snapshotFirstCommitted > 1 {
          after = MonStoreKeys.version(p.snapshotFirstCommitted - 1)
        }
        let batch = snapshot.scan(prefix: prefix, after: after, limit: max(maxKeys - items, 1))
        var prefixDone = batch.isEmpty
        for entry in batch {
          if prefix == MonStoreKeys.paxos {
            // Version keys sort before the metadata keys; stop at the first key outside the
            // snapshot's committed range.
            guard let version = MonStoreKeys.parseVersion(entry.key),
              version <= p.snapshotLastCommitted
            else {
              prefixDone = true
              break
            }
          }
          let size = entry.key.utf8.count + entry.value.readableBytes
          guard fits(size) else { break copying }
          chunk.entries.append(SyncEntry(prefix: prefix, key: entry.key, value: entry.value))
          bytes += size
          items += 1
          p.lastKey = entry.key
        }
        if prefixDone {
          p.prefixIndex += 1
          p.lastKey = nil
        } else if !fits(1) {
          break
        }
      }
      if p.prefixIndex >= prefixes.count {
        p.snapshotDone = true
        p.snapshot = nil
        chunk.snapshotDone = true
      }
    }
    if p.snapshotDone {
      while p.nextVersion <= paxos.lastCommitted {
        guard let value = fx.get(MonStoreKeys.paxos, MonStoreKeys.version(p.nextVersion)) else {
          return nil
        }
        guard fits(value.readableBytes + 8) else { break }
        chunk.values.append(VersionedValue(version: p.nextVersion, value: value))
        bytes += value.readableBytes + 8
        items += 1
        p.nextVersion += 1
      }
      chunk.isLast = p.nextVersion > paxos.lastCommitted
    }
    return chunk
  }

  mutating func expireSyncProviders() {
    guard !syncProviders.isEmpty else { return }
    syncProviders = syncProviders.filter { $0.value.expiresAt > now }
  }
}
