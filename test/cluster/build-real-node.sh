#!/usr/bin/env bash
# Builds the optional real node's binaries (kubelet, kube-proxy, CoreDNS) from the Go module proxy
# and caches them in $REAL_NODE_DIR. kubelet and kube-proxy come from the same Kubernetes wrapper
# module build.sh uses (same versions, flags and GOCACHE, so shared packages compile once).
# A warm cache builds nothing. Prints the cache directory on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

[ -f "$REAL_NODE_DIR/.complete" ] && { echo "$REAL_NODE_DIR"; exit 0; }

export GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false" CGO_ENABLED=0
export GOMODCACHE="$STACK_CACHE/gomodcache" GOCACHE="$STACK_CACHE/gocache"
BIN="$REAL_NODE_DIR/bin"
mkdir -p "$BIN"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
log() { echo "[build-real-node $(date +%T)] $*" >&2; }
newmod() { mkdir -p "$WORK/$1" && cd "$WORK/$1" && go mod init "local.invalid/$1" >/dev/null 2>&1; }
t0=$SECONDS

if [ ! -x "$BIN/kubelet" ] || [ ! -x "$BIN/kube-proxy" ]; then
  log "kubelet, kube-proxy $K8S_VERSION"
  newmod k8s
  kgomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | jq -r .GoMod)
  go mod edit -json "$kgomod" | jq -r --arg v "$K8S_STAGING" '.Replace[] | select(.New.Path|startswith("./staging/")) | "-replace=\(.Old.Path)=\(.Old.Path)@\($v)"' | xargs go mod edit
  go mod edit -godebug="default=$K8S_GODEBUG"
  pkgs="k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy"
  # shellcheck disable=SC2046
  go get -tool $(for p in $pkgs; do printf '%s@%s ' "$p" "$K8S_VERSION"; done)
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  ldf="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf="$ldf -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ldf="$ldf -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=2026-01-01T00:00:00Z"
  done
  # shellcheck disable=SC2086
  go build -tags selinux,notest -ldflags "$ldf" -o "$BIN/" $pkgs
fi

if [ ! -x "$BIN/coredns" ]; then
  log "coredns $COREDNS_VERSION"
  newmod coredns
  cp "$here/real-node/coredns/main.go" .
  go get "github.com/coredns/coredns@$COREDNS_VERSION"
  go mod tidy
  go build -ldflags "-s -w" -o "$BIN/coredns" .
fi

touch "$REAL_NODE_DIR/.complete"
log "done in $((SECONDS - t0))s"
echo "$REAL_NODE_DIR"
