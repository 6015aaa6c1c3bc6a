#!/usr/bin/env bash
# Builds the local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl, kwok, Argo Rollouts) from the Go module proxy with pinned versions, and caches the
# binaries outside the repo. A warm cache builds nothing. Prints the cache directory on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

[ -f "$STACK_DIR/.complete" ] && { echo "$STACK_DIR"; exit 0; }

export GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false" CGO_ENABLED=0
export GOMODCACHE="$STACK_CACHE/gomodcache" GOCACHE="$STACK_CACHE/gocache"
BIN="$STACK_DIR/bin"; ASSETS="$STACK_DIR/assets"
mkdir -p "$BIN" "$ASSETS"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
log() { echo "[build $(date +%T)] $*" >&2; }
newmod() { mkdir -p "$WORK/$1" && cd "$WORK/$1" && go mod init "local.invalid/$1" >/dev/null 2>&1; }
# Replace directives of an upstream go.mod, as -replace flags for `go mod edit`.
replaces_of() { go mod edit -json "$1" | jq -r '.Replace[]? | "-replace=\(.Old.Path)\(if .Old.Version then "@"+.Old.Version else "" end)=\(.New.Path)\(if .New.Version then "@"+.New.Version else "" end)"'; }

# Kubernetes: its go.mod maps staging modules to ./staging; point each at the published v0.Y.Z.
if [ ! -x "$BIN/kube-apiserver" ]; then
  log "kubernetes $K8S_VERSION"
  newmod k8s
  kgomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | jq -r .GoMod)
  go mod edit -json "$kgomod" | jq -r --arg v "$K8S_STAGING" '.Replace[] | select(.New.Path|startswith("./staging/")) | "-replace=\(.Old.Path)=\(.Old.Path)@\($v)"' | xargs go mod edit
  go mod edit -godebug="default=$K8S_GODEBUG"
  pkgs="k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl"
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

if [ ! -x "$BIN/etcd" ]; then
  log "etcd $ETCD_VERSION"
  newmod etcd
  go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go build -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3
fi

if [ ! -x "$BIN/kwok" ]; then
  log "kwok $KWOK_VERSION"
  GOBIN="$BIN" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
fi
kwok_dir=$(cd "$WORK" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | jq -r .Dir)
: > "$ASSETS/kwok-stages.yaml"
for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
         pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
  { echo '---'; cat "$kwok_dir/kustomize/stage/$f.yaml"; } >> "$ASSETS/kwok-stages.yaml"
done

if [ ! -x "$BIN/rollouts-controller" ]; then
  log "argo-rollouts $ROLLOUTS_VERSION"
  newmod rollouts
  rgomod=$(go mod download -json "github.com/argoproj/argo-rollouts@$ROLLOUTS_VERSION" | jq -r .GoMod)
  replaces_of "$rgomod" | xargs go mod edit
  go get -tool "github.com/argoproj/argo-rollouts/cmd/rollouts-controller@$ROLLOUTS_VERSION"
  go build -ldflags "-s -w" -o "$BIN/rollouts-controller" github.com/argoproj/argo-rollouts/cmd/rollouts-controller
fi
rdir=$(cd "$WORK" && go mod download -json "github.com/argoproj/argo-rollouts@$ROLLOUTS_VERSION" | jq -r .Dir)
mkdir -p "$ASSETS/rollouts-crds"
cp "$rdir"/manifests/crds/*-crd.yaml "$ASSETS/rollouts-crds/"
chmod -R u+w "$ASSETS"

touch "$STACK_DIR/.complete"
log "done"
echo "$STACK_DIR"
