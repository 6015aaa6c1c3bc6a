#!/usr/bin/env bash
# Prometheus' promtool (and prometheus itself) from Debian's `prometheus` package, unpacked into the
# cache beside the control plane, never installed: the package's scripts would start a server on
# 0.0.0.0:9090. The version is whatever the Debian release ships (bookworm: 2.42.0). Prints the
# directory holding promtool and prometheus.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../test/cluster/versions.sh
. "$here/test/cluster/versions.sh"

pick() { apt-cache policy prometheus 2>/dev/null | sed -n 's/^ *Candidate: \([0-9].*\)$/\1/p'; }
version=$(pick)
if [ -z "$version" ]; then
  [ "$(id -u)" = 0 ] || { echo "no candidate for Debian's prometheus package; run apt-get update as root" >&2; exit 1; }
  apt-get update -qq >&2
  version=$(pick)
fi
dir="$STACK_CACHE/prometheus-${version//[^A-Za-z0-9.]/_}"
if [ ! -x "$dir/bin/promtool" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download -qq "prometheus=$version" 2>/dev/null >&2)
  dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
  mkdir -p "$dir/bin"
  cp "$work/root/usr/bin/promtool" "$work/root/usr/bin/prometheus" "$dir/bin/"
fi
echo "$dir/bin"
