// swift-tools-version:6.0
// Loligo: a storage benchmark and messenger performance toolkit. Modules follow the layers of
// docs/ARCHITECTURE.md (shims, core, wire, messenger, model, services, daemons, tools); a module
// imports only from the layers below its own (Tests/RepositoryTests checks it).
import PackageDescription

let nio: [Target.Dependency] = [
  .product(name: "NIOCore", package: "swift-nio"),
  .product(name: "NIOPosix", package: "swift-nio"),
]
let argumentParser: Target.Dependency = .product(
  name: "ArgumentParser", package: "swift-argument-parser")

let perfTool: [Target.Dependency] = [
  "CLoligoSys", "LoligoCore", "LoligoWire", "LoligoMessenger", "LoligoMessages", "LoligoBench",
  argumentParser, .product(name: "Atomics", package: "swift-atomics"),
  .product(name: "NIOCore", package: "swift-nio"),
]

/// The messenger's mutable state is confined to one event loop at a time, and dynamic
/// exclusivity checks measured ~5 % of CPU per message on the hot path (plus thread-local
/// lookups), so release builds of the hot-path modules turn them off. Debug builds and the test
/// suite keep them.
let hotPath: [SwiftSetting] = [
  .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

/// The deterministic simulations run hundreds of seeded clusters (CRUSH for every PG of every
/// map on every OSD) in every test run; optimised even in debug builds they take seconds
/// instead of minutes (checks stay: preconditions hold under -O).
let simulation: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
  name: "Loligo",
  products: [
    .executable(name: "perf-msgr-server", targets: ["perf-msgr-server"]),
    .executable(name: "perf-msgr-client", targets: ["perf-msgr-client"]),
    .executable(name: "loligo", targets: ["loligo"]),
    .executable(name: "loligo-mon", targets: ["loligo-mon"]),
    .executable(name: "loligo-osd", targets: ["loligo-osd"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
  ],
  targets: [
    // C shims: rdtsc, clocks, CRC32C through ISA-L.
    .target(
      name: "CLoligoSys",
      linkerSettings: [.linkedLibrary("isal")]
    ),

    // C shim: the LTTng-UST tracepoint provider (liblttng-ust-dev, lttng-ust 2.13 API), plain C
    // functions in include/CLoligoTrace.h; the TRACEPOINT_EVENT headers stay private.
    .target(
      name: "CLoligoTrace",
      cSettings: [.headerSearchPath(".")],
      linkerSettings: [.linkedLibrary("lttng-ust"), .linkedLibrary("dl")]
    ),
    // C shim: libibverbs and librdmacm (libibverbs-dev, librdmacm-dev).
    .target(
      name: "CLoligoVerbs",
      linkerSettings: [.linkedLibrary("ibverbs"), .linkedLibrary("rdmacm")]
    ),
    // The verbs interface: hardware devices and soft-verbs.
    .target(
      name: "LoligoVerbs",
      dependencies: ["CLoligoVerbs", .product(name: "Atomics", package: "swift-atomics")],
      swiftSettings: hotPath
    ),

    // C shim: RocksDB's C API (librocksdb-dev).
    .systemLibrary(name: "CRocksDB"),
    // C shim: zlib (zlib1g-dev), for HdrHistogram's compressed histogram encoding.
    .systemLibrary(name: "CZlib"),
    // Durable key-value store over RocksDB (monitor store, OSD metadata).
    .target(
      name: "LoligoKV",
      dependencies: ["CRocksDB", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),

    // core: Cycles, CRC32C, versioned encoding, config, errors.
    .target(
      name: "LoligoCore",
      dependencies: [
        "CLoligoSys", .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "TOMLKit", package: "TOMLKit"),
      ],
      swiftSettings: hotPath
    ),

    // core: tracepoints (providers loligo_msgr, loligo_client, loligo_osd, loligo_mon) as
    // inlinable Swift functions that cost a load and a branch when no session records.
    .target(name: "LoligoTrace", dependencies: ["CLoligoTrace"], swiftSettings: hotPath),

    // wire: msgr2.1 frames, handshake payloads, entity names and addresses.
    .target(name: "LoligoWire", dependencies: ["LoligoCore"], swiftSettings: hotPath),

    // messenger: Messenger, Connection, sessions, policies, transports.
    .target(
      name: "LoligoMessenger",
      dependencies: [
        "CLoligoSys", "LoligoCore", "LoligoWire", "LoligoTrace", "LoligoVerbs",
        .product(name: "Atomics", package: "swift-atomics"),
      ] + nio,
      swiftSettings: hotPath
    ),

    // model: CRUSH, OSD map, pools, PG mapping.
    .target(
      name: "LoligoPlacement",
      dependencies: ["LoligoCore", .product(name: "NIOCore", package: "swift-nio")],
      swiftSettings: hotPath + simulation),

    // model: typed messages (OSD op and reply, ...).
    .target(
      name: "LoligoMessages", dependencies: ["LoligoCore", "LoligoWire", "LoligoMessenger"],
      swiftSettings: hotPath),

    // daemon plumbing shared by loligo-mon and loligo-osd: pid file, admin socket, counters.
    .target(
      name: "LoligoDaemon",
      dependencies: [
        "LoligoCore", "LoligoMessenger", .product(name: "Atomics", package: "swift-atomics"),
      ] + nio),

    // services: the OSD (object store, PGs, op pipeline, replication).
    .target(
      name: "LoligoOSD",
      dependencies: [
        "LoligoCore", "LoligoPlacement", "LoligoKV", "LoligoMessenger", "LoligoMessages",
        "LoligoDaemon", "LoligoClient", "LoligoWire", "LoligoTrace", "LoligoPeering",
      ] + nio,
      swiftSettings: hotPath),

    // services: the monitors' consensus core (Elector, Paxos, lease, probing, sync) as a pure
    // state machine: inputs -> state + outputs, no sockets, threads or disk. Only core
    // modules and NIOCore's ByteBuffer, so the compiler keeps I/O out of it.
    .target(
      name: "LoligoConsensus",
      dependencies: ["LoligoCore", "LoligoTrace", .product(name: "NIOCore", package: "swift-nio")]
    ),

    // services: the OSDs' peering, replication and recovery core as a pure state machine
    // (inputs -> state + outputs; reads the store through a protocol, writes nothing itself).
    .target(
      name: "LoligoPeering",
      dependencies: [
        "LoligoCore", "LoligoPlacement", .product(name: "NIOCore", package: "swift-nio"),
      ],
      swiftSettings: hotPath + simulation),

    // services: the monitor daemon (the consensus core wired to the messenger and RocksDB)
    // and the services on Paxos (OSD map, pools, config-key).
    .target(
      name: "LoligoMon",
      dependencies: [
        "LoligoCore", "LoligoConsensus", "LoligoWire", "LoligoMessenger", "LoligoMessages",
        "LoligoPlacement", "LoligoKV", "LoligoDaemon", "LoligoTrace",
      ] + nio),

    // services: the client side (MonClient; Objecter and IoCtx come with the OSDs).
    .target(
      name: "LoligoClient",
      dependencies: [
        "LoligoCore", "LoligoWire", "LoligoMessenger", "LoligoMessages", "LoligoPlacement",
        "LoligoTrace",
      ]
        + nio,
      swiftSettings: hotPath),

    // traces: reads a CTF trace through babeltrace2's text output, joins each operation's
    // events across processes, writes Chrome trace JSON, per-operation CSV and a summary;
    // message type numbers from LoligoWire.
    .target(name: "LoligoTraceExport", dependencies: ["LoligoWire"]),

    // results, histograms, machine description shared by every benchmark tool; the options
    // the two perf-msgr tools share (hence ArgumentParser).
    .target(
      name: "LoligoBench",
      dependencies: [
        "LoligoCore", "CZlib", .product(name: "Histogram", package: "hdrhistogram-swift"),
        .product(name: "NIOCore", package: "swift-nio"), argumentParser,
      ],
      swiftSettings: hotPath
    ),

    // tools
    .executableTarget(
      name: "perf-msgr-server",
      dependencies: perfTool
    ),
    .executableTarget(
      name: "perf-msgr-client",
      dependencies: perfTool
    ),
    .executableTarget(
      name: "loligo",
      dependencies: [
        "CLoligoSys", "LoligoCore", "LoligoPlacement", "LoligoBench", "LoligoMessages",
        "LoligoClient", "LoligoDaemon", "LoligoTrace", "LoligoTraceExport", "LoligoWire",
        argumentParser,
        .product(name: "TOMLKit", package: "TOMLKit"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
      ]
    ),

    .executableTarget(
      name: "loligo-mon",
      dependencies: [
        "LoligoCore", "LoligoConsensus", "LoligoMon", "LoligoMessages", "LoligoDaemon",
      ] + nio),

    .executableTarget(
      name: "loligo-osd",
      dependencies: ["LoligoCore", "LoligoOSD", "LoligoDaemon"] + nio),

    // libFuzzer target for the frame decoder (see the README); replays a corpus otherwise.
    .executableTarget(name: "fuzz-frame-decoder", dependencies: ["LoligoWire"]),

    .testTarget(name: "LoligoCoreTests", dependencies: ["LoligoCore"]),
    .testTarget(name: "LoligoKVTests", dependencies: ["LoligoKV"]),
    .testTarget(name: "LoligoTraceExportTests", dependencies: ["LoligoTraceExport"]),
    .testTarget(
      name: "LoligoBenchTests",
      dependencies: [
        "LoligoBench", "LoligoCore", .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]),
    .testTarget(
      name: "LoligoMonTests",
      dependencies: [
        "LoligoCore", "LoligoConsensus", "LoligoMon", "LoligoMessages", "LoligoPlacement",
        "LoligoClient", .product(name: "NIOCore", package: "swift-nio"),
      ]),
    .testTarget(
      name: "LoligoDaemonTests",
      dependencies: ["LoligoDaemon", "LoligoCore", .product(name: "NIOCore", package: "swift-nio")]),
    .testTarget(
      name: "LoligoOSDTests",
      dependencies: ["LoligoOSD", "LoligoMessages", "LoligoPlacement", "LoligoKV", "LoligoCore"]
        + nio),
    .testTarget(name: "LoligoWireTests", dependencies: ["LoligoCore", "LoligoWire"]),
    .testTarget(
      name: "LoligoMessagesTests",
      dependencies: ["LoligoMessages", "LoligoMessenger", "LoligoWire", "LoligoCore"] + nio),
    .testTarget(
      name: "LoligoMessengerTests",
      dependencies: [
        "LoligoCore", "LoligoWire", "LoligoMessenger", "LoligoMessages", "LoligoVerbs",
      ] + nio
    ),
    .testTarget(name: "LoligoVerbsTests", dependencies: ["LoligoVerbs"]),
    .testTarget(
      name: "LoligoPeeringTests",
      dependencies: [
        "LoligoPeering", "LoligoPlacement", "LoligoCore",
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      swiftSettings: simulation),
    // Vectors/: Ceph 16.2's crushtool/osdmaptool outputs (see its README); LOLIGO_VECTORS=DIR
    // runs the same tests against another set.
    .testTarget(
      name: "LoligoPlacementTests", dependencies: ["LoligoCore", "LoligoPlacement"],
      resources: [.copy("Vectors")]),
    // The repository's own rules: the layering of docs/ARCHITECTURE.md, nothing outside it.
    .testTarget(name: "RepositoryTests", dependencies: ["LoligoCore"]),
    .testTarget(
      name: "ToolTests",
      dependencies: [
        "LoligoCore", "LoligoClient", "LoligoBench", "LoligoMessages", "LoligoDaemon",
        "LoligoMessenger", "LoligoWire", "LoligoPlacement", "LoligoTraceExport",
      ] + nio),
  ]
)
