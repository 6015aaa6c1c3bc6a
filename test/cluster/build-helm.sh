#!/usr/bin/env bash
# Builds helm from the Go module proxy at the pinned version, cached beside the control plane
# (it shares its Go caches: helm's Kubernetes libraries are the same minor). Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

if [ ! -x "$HELM_DIR/helm" ]; then
  echo "[build $(date +%T)] helm $HELM_VERSION" >&2
  export GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false" CGO_ENABLED=0
  export GOMODCACHE="$STACK_CACHE/gomodcache" GOCACHE="$STACK_CACHE/gocache"
  mkdir -p "$HELM_DIR"
  GOBIN="$HELM_DIR" go install -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
echo "$HELM_DIR/helm"
