#!/usr/bin/env bash
# Installs the Debian packages the Ceph reference benchmarks need (Ceph 16.2 "pacific" from
# Debian 12). Idempotent and silent when everything is present; runs `apt-get update` only when
# something is missing. The packages' service units are never started by the scripts here (no
# systemd; daemons are started by cluster.sh from their own directory).
set -euo pipefail

packages=(
  ceph-mon        # monitors
  ceph-osd        # OSDs (memstore is built in)
  ceph-mgr        # one manager for the OSD cluster (PG states, ceph pg ls-by-pool)
  ceph-common     # ceph and rados command-line tools, ceph-authtool, monmaptool
  python3-rados   # librados for Debian's /usr/bin/python3 (monbench.py, radosbench.py)
  librados-dev    # librados headers: the recovery benchmark's client load (recovery-load.c)
  util-linux      # setsid
  procps          # pgrep, ps
  coreutils       # timeout
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "ceph-reference setup: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "ceph-reference setup: need root or sudo" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian 12 ships 16.2.x; say so if something else is installed.
v=$(ceph --version 2>/dev/null | awk '{print $3}')
case $v in
  16.2.*) ;;
  *) echo "ceph-reference setup: warning: ceph $v installed, the reference is 16.2 (Debian 12)" >&2 ;;
esac
/usr/bin/python3 -c 'import rados' 2>/dev/null || { echo "ceph-reference setup: /usr/bin/python3 cannot import rados" >&2; exit 1; }
