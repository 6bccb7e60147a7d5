#!/usr/bin/env bash
# Loligo's entry point. Each form installs what it needs first (scripts/setup.sh).
#   ./bench.sh                 build (release), bring up a local cluster, run the quick profile
#   ./bench.sh <profile>       run Profiles/<profile>.toml; ./bench.sh list shows them
#   ./bench.sh test            build and run the whole test suite (what CI runs)
#   ./bench.sh messenger-benchmark   the side-by-side messenger benchmark (scripts/)
#   ./bench.sh monitor-benchmark     monitors side by side with Ceph 16.2 (scripts/)
#   ./bench.sh pool-benchmark        pools (rados bench) side by side with Ceph 16.2 (scripts/)
#   ./bench.sh recovery-benchmark    one OSD out then in under load, side by side with Ceph 16.2
#   ./bench.sh csum-benchmark        what checksums at rest cost reads (durable store, on / off)
#   ./bench.sh tracing-benchmark     what the LTTng tracepoints cost, off / no session / recording
#   ./bench.sh rdma-benchmark        perf-msgr over RDMA (soft-verbs) vs TCP, msgs/s and CPU
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

case "${1:-quick}" in
  -h|--help|help)
    usage
    ;;
  test)
    scripts/setup.sh
    swift build --build-tests
    swift test --disable-swift-testing
    ;;
  list)
    scripts/setup.sh
    swift build -c release --product loligo
    .build/release/loligo profile list
    ;;
  messenger-benchmark)
    shift
    scripts/setup.sh --bench
    exec scripts/messenger-benchmark.sh "$@"
    ;;
  monitor-benchmark)
    shift
    scripts/setup.sh
    exec scripts/monitor-benchmark.sh "$@"
    ;;
  pool-benchmark)
    shift
    scripts/setup.sh
    exec scripts/pool-benchmark.sh "$@"
    ;;
  recovery-benchmark)
    shift
    scripts/setup.sh
    exec scripts/recovery-benchmark.sh "$@"
    ;;
  csum-benchmark)
    shift
    scripts/setup.sh --bench
    exec scripts/csum-benchmark.sh "$@"
    ;;
  tracing-benchmark)
    shift
    scripts/setup.sh
    exec scripts/tracing-benchmark.sh "$@"
    ;;
  rdma-benchmark)
    shift
    scripts/setup.sh
    exec scripts/rdma-benchmark.sh "$@"
    ;;
  *)
    scripts/setup.sh
    swift build -c release
    export LOLIGO_GIT_COMMIT="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
    .build/release/loligo profile run "${1:-quick}" --results Results
    ;;
esac
