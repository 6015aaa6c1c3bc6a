#!/usr/bin/env bash
# Installs the Debian packages named (by their command, `pkg` or `pkg:command`) that are missing;
# apt-get update only if the package list has no candidate. For the tools the tests run (runc).
set -euo pipefail
need=()
for spec in "$@"; do
  pkg=${spec%%:*} cmd=${spec#*:}
  command -v "$cmd" >/dev/null || [ -x "/usr/sbin/$cmd" ] || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "${need[*]} not installed and installing needs root: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy "${need[@]}" 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt-get update -qq >&2; fi
apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
