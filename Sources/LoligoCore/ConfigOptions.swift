/// The registry of every option Loligo knows, with its default. `loligo config help` prints it;
/// the README's configuration section lists the same names.
extension ConfigOption {
  // MARK: messenger
  public static let msType = ConfigOption(
    "ms_type",
    .choice(
      ["tcp", "rdma"], aliases: ["async+posix": "tcp", "posix": "tcp", "async+rdma": "rdma"]),
    default: .string("tcp"),
    "Transport under the messenger: tcp (SwiftNIO sockets) or rdma (verbs). Ceph's names async+posix and async+rdma are accepted."
  )
  public static let msAsyncOpThreads = ConfigOption(
    "ms_async_op_threads", .int(1...24), default: .int(3),
    "Messenger worker threads (event loops) shared by all connections of one messenger.")
  public static let msMaxMessageSize = ConfigOption(
    "ms_max_message_size", .size(4096...(2 << 30)), default: .int(128 << 20),
    "Largest message (all segments) sent or accepted; a larger incoming frame closes the connection."
  )
  public static let msCrcData = ConfigOption(
    "ms_crc_data", .bool, default: .bool(true),
    "Compute and check crc32c of message front, middle and data segments (the preamble and the message header are always checked). Both ends must agree."
  )
  public static let msInjectSocketFailures = ConfigOption(
    "ms_inject_socket_failures", .int(0...1_000_000_000), default: .int(0),
    "Testing: when N > 0, each socket read or write fails the connection with probability 1/N.")
  public static let msConnectionReadyTimeout = ConfigOption(
    "ms_connection_ready_timeout", .double(0.01...3600), default: .double(10),
    "Seconds a connection may take from TCP connect to a ready session before it is faulted.")
  public static let msInitialBackoff = ConfigOption(
    "ms_initial_backoff", .double(0...60), default: .double(0.2),
    "Seconds before the first reconnect attempt of a lossless session; doubles per failure.")
  public static let msMaxBackoff = ConfigOption(
    "ms_max_backoff", .double(0...600), default: .double(15),
    "Upper bound in seconds on the reconnect backoff.")
  public static let msMaxReconnectAttempts = ConfigOption(
    "ms_max_reconnect_attempts", .int(1...1_000_000), default: .int(30),
    "Consecutive failed reconnect attempts after which a lossless session is reset and its queue failed."
  )
  public static let msStandbyTimeout = ConfigOption(
    "ms_standby_timeout", .double(0.1...86400), default: .double(900),
    "Seconds a server keeps a lossless session whose client went away before forgetting it.")
  public static let msDispatchThrottleBytes = ConfigOption(
    "ms_dispatch_throttle_bytes", .size(0...(1 << 40)), default: .int(100 << 20),
    "Bytes of received messages held by dispatchers before connections stop reading (0 = no limit)."
  )
  public static let msMaxQueuedBytes = ConfigOption(
    "ms_max_queued_bytes", .size(1 << 20...(1 << 40)), default: .int(512 << 20),
    "Bytes one connection may hold queued and unacknowledged; a send beyond it is refused.")
  public static let msTcpNodelay = ConfigOption(
    "ms_tcp_nodelay", .bool, default: .bool(true), "Disable Nagle's algorithm on messenger sockets."
  )
  public static let msTcpRcvbuf = ConfigOption(
    "ms_tcp_rcvbuf", .size(0...(1 << 30)), default: .int(0),
    "SO_RCVBUF for messenger sockets (0 = the kernel's default).")
  public static let msKeepaliveInterval = ConfigOption(
    "ms_keepalive_interval", .double(0...3600), default: .double(0),
    "Seconds between KEEPALIVE2 frames on ready sessions (0 = none).")

  // MARK: RDMA (ms_type = rdma)
  public static let msAsyncRdmaDeviceName = ConfigOption(
    "ms_async_rdma_device_name", .string, default: .string(""),
    "Verbs device for ms_type = rdma: a hardware device name (mlx5_0, rxe0), empty for the first one, or soft for soft-verbs (the verbs emulated between processes on one machine, for hosts without RDMA)."
  )
  public static let msAsyncRdmaPortNum = ConfigOption(
    "ms_async_rdma_port_num", .int(1...255), default: .int(1),
    "Port of the RDMA device to use; it must be ACTIVE.")
  public static let msAsyncRdmaGidIdx = ConfigOption(
    "ms_async_rdma_gid_idx", .int(0...255), default: .int(0),
    "GID table index of the port: on RoCE it selects RoCE v1 or v2 and the IP version (see `show_gids`)."
  )
  public static let msAsyncRdmaSupportSrq = ConfigOption(
    "ms_async_rdma_support_srq", .bool, default: .bool(true),
    "Post receive buffers to one shared receive queue (true) or to a receive queue per connection (false)."
  )
  public static let msAsyncRdmaBufferSize = ConfigOption(
    "ms_async_rdma_buffer_size", .size(4096...(16 << 20)), default: .int(128 << 10),
    "Bytes of one registered send or receive chunk; smaller messages are copied into chunks, up to this many bytes per SEND."
  )
  public static let msAsyncRdmaSendBuffers = ConfigOption(
    "ms_async_rdma_send_buffers", .int(8...1_048_576), default: .int(256),
    "Registered send chunks per process and device, shared by all connections; a connection waits when none is free."
  )
  public static let msAsyncRdmaReceiveBuffers = ConfigOption(
    "ms_async_rdma_receive_buffers", .int(8...1_048_576), default: .int(1024),
    "Registered receive chunks per process and device; each connection reserves ms_async_rdma_connection_credits + 1 of them, which bounds the number of connections."
  )
  public static let msAsyncRdmaConnectionCredits = ConfigOption(
    "ms_async_rdma_connection_credits", .int(4...65536), default: .int(16),
    "Receive buffers a connection grants its peer: the peer never has more SENDs outstanding, so the receive queue is never overrun. Credits return as messages are delivered."
  )
  public static let msAsyncRdmaPollingUs = ConfigOption(
    "ms_async_rdma_polling_us", .int(0...10_000_000), default: .int(1000),
    "Microseconds the completion polling thread keeps busy-polling after the last completion before it sleeps on the completion channel (0 = sleep at once)."
  )
  public static let msAsyncRdmaCm = ConfigOption(
    "ms_async_rdma_cm", .bool, default: .bool(false),
    "Set up connections through librdmacm (rdma_cm) instead of the TCP side channel: peers are reached by IP address in rdma_cm's port space, so the device needs an IP address (RoCE, iWARP, soft-RoCE). Hardware only."
  )
  public static let msRdmaZeroCopyThreshold = ConfigOption(
    "ms_rdma_zero_copy_threshold", .size(0...(2 << 30)), default: .int(64 << 10),
    "Payload buffers of at least this many bytes are not copied into send chunks: their address and key go to the peer, which pulls them with one RDMA READ into the buffer it delivers (0 = always copy)."
  )
  public static let msRdmaZeroCopyInflight = ConfigOption(
    "ms_rdma_zero_copy_inflight", .int(0...4096), default: .int(8),
    "Large payloads one connection may have advertised and not yet released by the peer (0 = no zero-copy)."
  )

  // MARK: cluster and daemons
  public static let fsid = ConfigOption(
    "fsid", .string, default: .string(""),
    "The cluster's id (a UUID); written by `loligo cluster up`, checked by every daemon.")
  public static let monHost = ConfigOption(
    "mon_host", .string, default: .string(""),
    "Monitors as NAME=IP:PORT, comma separated (e.g. a=127.0.0.1:6789,b=127.0.0.1:6790).")
  public static let publicAddr = ConfigOption(
    "public_addr", .string, default: .string(""),
    "Address a daemon listens on (IP:PORT; port 0 picks one). Usually set per daemon section.")
  public static let runDir = ConfigOption(
    "run_dir", .string, default: .string("."),
    "Directory for pid files and admin sockets.")
  public static let monData = ConfigOption(
    "mon_data", .string, default: .string("$run_dir/mon.$id"),
    "A monitor's data directory (its RocksDB store); $id, $name, $type, $run_dir are expanded.")
  public static let osdData = ConfigOption(
    "osd_data", .string, default: .string("$run_dir/osd.$id"),
    "An OSD's data directory; $id, $name, $type, $run_dir are expanded.")
  public static let adminSocket = ConfigOption(
    "admin_socket", .string, default: .string("$run_dir/$name.asok"),
    "Unix socket where a daemon answers `loligo daemon NAME COMMAND` (perf dump, config show).")
  public static let pidFile = ConfigOption(
    "pid_file", .string, default: .string("$run_dir/$name.pid"),
    "File holding a running daemon's pid; `loligo cluster down` stops daemons by it.")
  public static let prometheusPort = ConfigOption(
    "prometheus_port", .int(0...65535), default: .int(0),
    "Port where a daemon serves Prometheus metrics over HTTP (GET /metrics); 0 = off. Usually set per daemon section (`loligo cluster up --metrics` does)."
  )
  public static let prometheusAddr = ConfigOption(
    "prometheus_addr", .string, default: .string("127.0.0.1"),
    "Address the Prometheus metrics endpoint binds to (with prometheus_port).")

  // MARK: monitors and pools
  public static let monLease = ConfigOption(
    "mon_lease", .double(0.5...600), default: .double(5),
    "Seconds a monitor lease lets peons serve reads; missing renewals call an election.")
  public static let monElectionTimeout = ConfigOption(
    "mon_election_timeout", .double(0.5...600), default: .double(5),
    "Seconds an election may take before it is restarted.")
  public static let monOSDDownOutInterval = ConfigOption(
    "mon_osd_down_out_interval", .double(0...86400 * 30), default: .double(600),
    "Seconds an OSD may stay down before the monitors mark it out (0 = never).")
  public static let monMinOSDMapEpochs = ConfigOption(
    "mon_min_osdmap_epochs", .int(1...10_000_000), default: .int(500),
    "OSD map epochs the monitors keep at least (the oldest as a full map, then incrementals); older ones are trimmed only once every PG has reported, and never one at or after the smallest last_epoch_clean of all PGs."
  )
  public static let monPGStatsTimeout = ConfigOption(
    "mon_pg_stats_timeout", .double(0.5...86400), default: .double(10),
    "Seconds after which a PG whose primary sent no statistics shows as stale, and a PG never reported counts as inactive (Loligo's; short, as local clusters live seconds)."
  )
  public static let monOSDNearfullRatio = ConfigOption(
    "mon_osd_nearfull_ratio", .double(0...1), default: .double(0.85),
    "Used/total above which an OSD is nearfull (health OSD_NEARFULL, a warning). The OSD map's nearfull_ratio starts from it when the cluster is created; `loligo osd set-nearfull-ratio` changes it later."
  )
  public static let monOSDBackfillfullRatio = ConfigOption(
    "mon_osd_backfillfull_ratio", .double(0...1), default: .double(0.90),
    "Used/total above which an OSD is backfillfull: no backfill fills it further (backfill_toofull). Starts the map's backfillfull_ratio; `loligo osd set-backfillfull-ratio` changes it."
  )
  public static let monOSDFullRatio = ConfigOption(
    "mon_osd_full_ratio", .double(0...1), default: .double(0.95),
    "Used/total above which an OSD is full: writes to its PGs are refused with ENOSPC (deletes still run). Starts the map's full_ratio; `loligo osd set-full-ratio` changes it."
  )
  public static let osdMapMessageMax = ConfigOption(
    "osd_map_message_max", .int(1...1000), default: .int(40),
    "OSD map epochs (full maps and incrementals) the monitors put in one message to a subscriber; more go in further messages."
  )
  public static let osdMapMessageMaxBytes = ConfigOption(
    "osd_map_message_max_bytes", .size(4096...(1 << 30)), default: .int(10 << 20),
    "Bytes of OSD maps the monitors put in one message to a subscriber (a single larger map still goes, alone)."
  )
  public static let osdPoolDefaultSize = ConfigOption(
    "osd_pool_default_size", .int(1...10), default: .int(3), "Replicas of a new pool.")
  public static let osdPoolDefaultMinSize = ConfigOption(
    "osd_pool_default_min_size", .int(0...10), default: .int(0),
    "Replicas a new pool needs to accept writes (0 = size - size/2).")
  public static let osdPoolDefaultPGNum = ConfigOption(
    "osd_pool_default_pg_num", .int(1...65536), default: .int(32), "Placement groups of a new pool."
  )
  public static let osdCrushChooseleafType = ConfigOption(
    "osd_crush_chooseleaf_type", .int(0...11), default: .int(1),
    "Failure domain of the default CRUSH rule: 1 = host, 0 = osd (one-machine clusters).")

  // MARK: OSDs
  public static let osdObjectstore = ConfigOption(
    "osd_objectstore", .choice(["memstore", "durable"], aliases: [:]), default: .string("memstore"),
    "Where an OSD keeps objects: memstore (RAM) or durable (RocksDB + files, survives kill -9).")
  public static let osdStoreCsumType = ConfigOption(
    "osd_store_csum_type", .choice(["crc32c", "none"], aliases: [:]), default: .string("crc32c"),
    "Checksum of stored object data (Ceph's bluestore_csum_type): crc32c per block, kept with the object's metadata, verified on every read; a mismatch is EIO from that copy and the primary repairs it from a good one. none computes and checks nothing (records, attributes and omap values keep their own crcs either way)."
  )
  public static let osdStoreCsumBlock = ConfigOption(
    "osd_store_csum_block", .powerOfTwoSize(4096...(1 << 20)), default: .int(4096),
    "Bytes of object data per stored checksum (BlueStore's csum chunk): the least a read fetches and verifies. 4 KiB, as BlueStore's default, so a 4 KiB random read checks only what it returns; larger blocks keep fewer crcs per object (4 bytes per block in its record) for objects read whole. Applies to objects written whole from then on."
  )

  public static let osdFailsafeFullRatio = ConfigOption(
    "osd_failsafe_full_ratio", .double(0...1), default: .double(0.97),
    "Used/total (counting what is queued for the store) past which an OSD refuses new client writes itself with ENOSPC, before the monitors mark it full."
  )
  public static let memstoreDeviceBytes = ConfigOption(
    "memstore_device_bytes", .size(0...(1 << 50)), default: .int(0),
    "Capacity a memstore OSD reports, against which its fullness is measured (0 = the machine's physical memory)."
  )

  public static let osdHeartbeatInterval = ConfigOption(
    "osd_heartbeat_interval", .double(0.05...60), default: .double(1),
    "Seconds between heartbeats an OSD sends to its peers.")
  public static let osdHeartbeatGrace = ConfigOption(
    "osd_heartbeat_grace", .double(0.2...600), default: .double(6),
    "Seconds without a heartbeat reply after which an OSD reports a peer failed to the monitors.")
  public static let osdMaxWriteSize = ConfigOption(
    "osd_max_write_size", .int(4...2048), default: .int(90),
    "Largest write an OSD accepts, in MiB (Ceph's unit): the data of one op request; a larger one is refused with EMSGSIZE, and clients refuse it before sending."
  )
  public static let osdMinPGLogEntries = ConfigOption(
    "osd_min_pg_log_entries", .int(1...10_000_000), default: .int(250),
    "PG log entries kept when the PG is clean (a returning OSD that missed fewer writes recovers from the log instead of a backfill)."
  )
  public static let osdMaxPGLogEntries = ConfigOption(
    "osd_max_pg_log_entries", .int(1...10_000_000), default: .int(10_000),
    "PG log entries kept at most while the PG is not clean.")
  public static let osdRecoveryMaxActive = ConfigOption(
    "osd_recovery_max_active", .int(1...1000), default: .int(3),
    "Object recoveries and backfill copies an OSD has in flight at once.")
  public static let osdMaxBackfills = ConfigOption(
    "osd_max_backfills", .int(1...1000), default: .int(1),
    "Backfills an OSD takes part in at once, as primary (local reservations) and as target (remote reservations)."
  )
  public static let osdRecoverySleep = ConfigOption(
    "osd_recovery_sleep", .double(0...60), default: .double(0),
    "Seconds an OSD waits between recovery operations (0: none), to leave room for client I/O.")
  public static let osdBackfillScanMax = ConfigOption(
    "osd_backfill_scan_max", .int(1...100_000), default: .int(512),
    "Objects a backfill lists from the store at a time.")
  public static let osdMonReportInterval = ConfigOption(
    "osd_mon_report_interval", .double(0.1...600), default: .double(1),
    "Seconds between an OSD's PG statistics reports to the monitors (Ceph: 5; shorter here, as local clusters live seconds)."
  )
  public static let osdOpTimeout = ConfigOption(
    "osd_op_timeout", .double(1...3600), default: .double(30),
    "Seconds an OSD holds a request waiting for a newer map before answering 'try again'.")

  // MARK: client
  public static let objecterInflightOps = ConfigOption(
    "objecter_inflight_ops", .int(1...1_000_000), default: .int(1024),
    "Operations one client keeps in flight at most; more wait in the client.")
  public static let objecterInflightOpBytes = ConfigOption(
    "objecter_inflight_op_bytes", .size(1 << 16...(1 << 40)), default: .int(100 << 20),
    "Data bytes one client keeps in flight at most.")
  public static let clientOpTimeout = ConfigOption(
    "client_op_timeout", .double(0.5...3600), default: .double(60),
    "Seconds a client operation may take (resends included) before it fails with a time-out.")

  // MARK: logging
  public static let logFile = ConfigOption(
    "log_file", .string, default: .string(""),
    "File daemons and tools append their log to (empty = standard error).")
  public static let debugMs = ConfigOption(
    "debug_ms", .int(0...20), default: .int(1),
    "Messenger log verbosity: 0 protocol errors only, 1 faults and resets, 2 connect retries, 5 handshakes and reconnects."
  )

  /// Every option, in the order they are documented.
  public static let all: [ConfigOption] = [
    .msType, .msAsyncOpThreads, .msMaxMessageSize, .msCrcData,
    .msInjectSocketFailures, .msConnectionReadyTimeout, .msInitialBackoff, .msMaxBackoff,
    .msMaxReconnectAttempts, .msStandbyTimeout, .msDispatchThrottleBytes, .msMaxQueuedBytes,
    .msTcpNodelay,
    .msTcpRcvbuf, .msKeepaliveInterval, .msAsyncRdmaDeviceName, .msAsyncRdmaPortNum,
    .msAsyncRdmaGidIdx, .msAsyncRdmaSupportSrq, .msAsyncRdmaBufferSize, .msAsyncRdmaSendBuffers,
    .msAsyncRdmaReceiveBuffers, .msAsyncRdmaConnectionCredits, .msAsyncRdmaPollingUs,
    .msAsyncRdmaCm, .msRdmaZeroCopyThreshold, .msRdmaZeroCopyInflight, .fsid, .monHost, .publicAddr,
    .runDir, .monData,
    .osdData, .adminSocket, .pidFile, .prometheusPort, .prometheusAddr, .monLease,
    .monElectionTimeout, .monOSDDownOutInterval,
    .monMinOSDMapEpochs, .monPGStatsTimeout, .monOSDNearfullRatio, .monOSDBackfillfullRatio,
    .monOSDFullRatio, .osdMapMessageMax, .osdMapMessageMaxBytes,
    .osdPoolDefaultSize, .osdPoolDefaultMinSize, .osdPoolDefaultPGNum, .osdCrushChooseleafType,
    .osdObjectstore, .osdStoreCsumType, .osdStoreCsumBlock, .osdFailsafeFullRatio,
    .memstoreDeviceBytes, .osdHeartbeatInterval,
    .osdHeartbeatGrace, .osdMaxWriteSize, .osdOpTimeout,
    .osdMinPGLogEntries, .osdMaxPGLogEntries, .osdRecoveryMaxActive, .osdMaxBackfills,
    .osdRecoverySleep, .osdBackfillScanMax, .osdMonReportInterval,
    .objecterInflightOps, .objecterInflightOpBytes, .clientOpTimeout,
    .logFile, .debugMs,
  ]

  private static let byName: [String: ConfigOption] = Dictionary(
    uniqueKeysWithValues: all.map { ($0.name, $0) })

  /// Looks an option up by name; dashes and underscores are interchangeable.
  public static func named(_ name: String) -> ConfigOption? {
    byName[name.replacingOccurrences(of: "-", with: "_")]
  }
}
