#!/usr/bin/env bash
# Installs the Debian packages the real node needs (real-node.sh): the container runtime, the CNI
# plugins, iptables for kube-proxy, socat for the apiserver relay, mmdebstrap and gcc for the images.
# Installs nothing when they are all present.
set -euo pipefail
pkgs=(containerd runc containernetworking-plugins iptables conntrack socat mmdebstrap gcc libc6-dev iproute2 util-linux curl jq)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "[real-node] installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
