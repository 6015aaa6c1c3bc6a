#!/usr/bin/env bash
# Lua 5.1 for the Argo CD Lua tests (Argo CD runs gopher-lua, a Lua 5.1): Debian's lua5.1 package,
# installed only if missing (apt-get update only if the package list has no candidate).
set -euo pipefail
if command -v lua5.1 >/dev/null; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "lua5.1 is not installed and installing it needs root: sudo apt-get install lua5.1" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy lua5.1 2>/dev/null | grep -q 'Candidate: [0-9]'; then apt-get update -qq >&2; fi
apt-get install -y -qq --no-install-recommends lua5.1 >&2
