#!/usr/bin/env bash
# Builds the one `argocd` binary (CLI, application-controller, repo-server and server, chosen by
# the name it runs as) from the Go module proxy at the pinned version, with Argo CD's own replace
# directives, and caches it beside the control plane (same GOCACHE/GOMODCACHE). Also copies Argo
# CD's CRDs and the argocd-cm of its install manifests (its defaults, e.g. ignoreResourceUpdates).
# A warm cache builds nothing. Prints the cache directory on its last line.
#
# Argo CD's go.mod pins Kubernetes libraries at v0.34.0 (the stack has v0.34.1) and newer x/net,
# protobuf, ... than Kubernetes: its replace directives are kept as released, so it shares the
# module cache but compiles most Kubernetes packages itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

[ -f "$ARGOCD_DIR/.complete" ] && [ -f "$ARGOCD_DIR/argocd-cm.yaml" ] && { echo "$ARGOCD_DIR"; exit 0; }

export GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false" CGO_ENABLED=0
export GOMODCACHE="$STACK_CACHE/gomodcache" GOCACHE="$STACK_CACHE/gocache"
mkdir -p "$ARGOCD_DIR/bin" "$ARGOCD_DIR/crds"
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
log() { echo "[build $(date +%T)] $*" >&2; }
mod=github.com/argoproj/argo-cd/v3

if [ ! -x "$ARGOCD_DIR/bin/argocd" ]; then
  log "argo-cd $ARGOCD_VERSION"
  mkdir -p "$WORK/argocd" && cd "$WORK/argocd" && go mod init local.invalid/argocd >/dev/null 2>&1
  gomod=$(go mod download -json "$mod@$ARGOCD_VERSION" | jq -r .GoMod)
  go mod edit -json "$gomod" | jq -r '.Replace[]? | "-replace=\(.Old.Path)\(if .Old.Version then "@"+.Old.Version else "" end)=\(.New.Path)\(if .New.Version then "@"+.New.Version else "" end)"' | xargs go mod edit
  go get -tool "$mod/cmd@$ARGOCD_VERSION"
  # The version variables Argo CD's Makefile sets; the CLI and the server report them.
  p=$mod/common
  ldf="-s -w -X $p.version=${ARGOCD_VERSION#v} -X $p.gitTag=$ARGOCD_VERSION -X $p.gitTreeState=clean"
  ldf="$ldf -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=2026-01-01T00:00:00Z"
  go build -ldflags "$ldf" -o "$ARGOCD_DIR/bin/argocd" "$mod/cmd"
fi
src=$(cd "$WORK" && go mod download -json "$mod@$ARGOCD_VERSION" | jq -r .Dir)
cp "$src"/manifests/crds/*-crd.yaml "$ARGOCD_DIR/crds/"
cp "$src/manifests/base/config/argocd-cm.yaml" "$ARGOCD_DIR/argocd-cm.yaml"
chmod -R u+w "$ARGOCD_DIR/crds" "$ARGOCD_DIR/argocd-cm.yaml"

touch "$ARGOCD_DIR/.complete"
log "done"
echo "$ARGOCD_DIR"
