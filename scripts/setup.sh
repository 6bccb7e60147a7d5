#!/usr/bin/env bash
# Installs the Debian packages Loligo builds and runs with. Idempotent and quiet when everything
# is already there; runs `apt-get update` only when something is missing.
#   scripts/setup.sh          packages for building and testing
#   scripts/setup.sh --bench  also the reference tools the benchmark script compares against
set -euo pipefail

# liblttng-ust-dev, lttng-tools, babeltrace2: tracing; libibverbs-dev/librdmacm-dev: the RDMA
# transport's C shim; ibverbs-providers: the user-space drivers real devices (and soft-RoCE)
# need at run time; prometheus: promtool, which the tests check metrics scrapes with; zlib1g-dev:
# the compressed latency histograms in results.
packages=(libisal-dev librocksdb-dev zlib1g-dev python3 liblttng-ust-dev lttng-tools babeltrace2
  libibverbs-dev librdmacm-dev ibverbs-providers prometheus)
if [ "${1:-}" = "--bench" ]; then
  packages+=(sockperf iperf3 perftest ibverbs-utils linux-perf)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  echo "setup: Swift 6.3 is required and not on PATH (https://www.swift.org/install/linux/)" >&2
  exit 1
fi
