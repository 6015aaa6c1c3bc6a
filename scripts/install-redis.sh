#!/usr/bin/env bash
# Redis for the local Argo CD (its components cache in Redis): Debian's redis-server package,
# installed only if missing (apt-get update only if the package list has no candidate). A server
# the package itself starts (only where invoke-rc.d allows it) is stopped: test/cluster/argocd.sh
# runs its own on a loopback port.
set -euo pipefail
if command -v redis-server >/dev/null; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "redis-server is not installed and installing it needs root: sudo apt-get install redis-server" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
pkg_pids() { { ps -u redis -o pid= 2>/dev/null || true; } | xargs; }
before=$(pkg_pids)
if ! apt-cache policy redis-server 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt-get update -qq >&2; fi
apt-get install -y -qq --no-install-recommends redis-server >&2
for p in $(pkg_pids); do
  [[ " $before " == *" $p "* ]] && continue
  echo "[install-redis] the package started its own server (pid $p); stopping it" >&2
  kill -TERM "$p" 2>/dev/null || true
done
