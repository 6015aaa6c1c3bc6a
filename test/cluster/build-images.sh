#!/usr/bin/env bash
# Builds the real node's container images without a registry, as one docker-archive tarball that
# `ctr images import` reads (real-node.sh imports it):
#   tandem.local/pause:1                     a static pause binary (real-node/pause.c) on scratch
#   tandem.local/{loan,interest,worker}:{1.0,2.0,3.0}  Debian bookworm's C/C++ runtime (mmdebstrap) + Node 24
#                                            (the npm `node` package this repo pins) + the example apps;
#                                            the tags differ only in their VERSION environment variable.
# Cached under $STACK_CACHE/images-<hash of the inputs>; a warm cache builds nothing. Prints that
# directory on its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

NODE_BIN="$root/node_modules/node/bin/node"
[ -x "$NODE_BIN" ] || { echo "build-images: $NODE_BIN is missing; run npm ci first" >&2; exit 1; }
node_version=$("$NODE_BIN" --version)
APPS=(loan interest worker)
TAGS=(1.0 2.0 3.0)
DEBIAN_PACKAGES=libc6,libgcc-s1,libstdc++6   # what the node binary links against (ldd)

key=$( { echo "$node_version $DEBIAN_PACKAGES ${APPS[*]} ${TAGS[*]}"; cat "$0" "$here/real-node/pause.c";
         cd "$root" && find packages/podinfo/src examples/apps/loan examples/apps/interest examples/apps/worker packages/podinfo/package.json node_modules/amqplib \
           -type f -not -path '*/node_modules/*' | sort | xargs sha256sum; } | sha256sum | cut -c1-12)
OUT="$STACK_CACHE/images-$key"
[ -f "$OUT/.complete" ] && { echo "$OUT"; exit 0; }
log() { echo "[images $(date +%T)] $*" >&2; }

WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/archive" "$OUT"
t0=$SECONDS

# A layer is a plain tar of a directory, files owned by root; its diff_id is the tar's sha256.
layer() { # layer <dir> -> prints the layer's path inside the archive
  local tarf="$WORK/layer.tar" sum
  tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$1" -cf "$tarf" .
  sum=$(sha256sum "$tarf" | cut -d' ' -f1)
  mkdir -p "$WORK/archive/$sum"; mv "$tarf" "$WORK/archive/$sum/layer.tar"
  echo "$sum/layer.tar"
}
manifest='[]'
# image <tag> <config json (the "config" object)> <layer paths...>: adds one image to the archive.
# Docker's save format is written by hand because it is three small JSON documents and the only
# tools that write it (docker, podman, buildah) would build from a registry base image.
image() {
  local tag=$1 config=$2; shift 2
  local diff_ids cfg sum
  diff_ids=$(for l in "$@"; do echo "\"sha256:${l%%/*}\""; done | jq -sc .)
  cfg=$(jq -nc --argjson c "$config" --argjson d "$diff_ids" \
    '{architecture: "amd64", os: "linux", config: $c, rootfs: {type: "layers", diff_ids: $d}}')
  sum=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
  printf '%s' "$cfg" >"$WORK/archive/$sum.json"
  manifest=$(jq -c --arg c "$sum.json" --arg t "$tag" --argjson l "$(printf '%s\n' "$@" | jq -R . | jq -sc .)" \
    '. + [{Config: $c, RepoTags: [$t], Layers: $l}]' <<<"$manifest")
}

log "pause"
mkdir -p "$WORK/pause"
gcc -static -Os -s -o "$WORK/pause/pause" "$here/real-node/pause.c"
pause_layer=$(layer "$WORK/pause")
image tandem.local/pause:1 '{"Entrypoint": ["/pause"]}' "$pause_layer"

log "debian bookworm runtime ($DEBIAN_PACKAGES) via mmdebstrap"
mkdir -p "$WORK/base"
# extract: unpack the packages and their dependencies, run no maintainer scripts (nothing to
# configure in a runtime-only image); no /dev nodes, the container runtime provides /dev.
mmdebstrap --quiet --variant=extract --include="$DEBIAN_PACKAGES" --skip=output/dev bookworm "$WORK/base.tar"
tar -C "$WORK/base" -xf "$WORK/base.tar"; rm "$WORK/base.tar"
rm -rf "$WORK/base/usr/share/doc" "$WORK/base/usr/share/man" "$WORK/base/usr/share/locale" "$WORK/base/var/cache/apt" "$WORK/base/var/lib/apt/lists"
mkdir -p "$WORK/base/tmp" && chmod 1777 "$WORK/base/tmp"
base_layer=$(layer "$WORK/base")

log "node $node_version"
mkdir -p "$WORK/node/usr/local/bin"
cp "$NODE_BIN" "$WORK/node/usr/local/bin/node"
node_layer=$(layer "$WORK/node")

log "apps (${APPS[*]})"
(cd "$root" && "$NODE_BIN" node_modules/typescript/bin/tsc -p packages/podinfo/tsconfig.json)
mkdir -p "$WORK/apps/app/node_modules/@tandem/podinfo" "$WORK/apps/app/examples/apps"
cp -r "$root/packages/podinfo/package.json" "$root/packages/podinfo/dist" "$WORK/apps/app/node_modules/@tandem/podinfo/"
# The worker's AMQP client, as npm ci installed it from the lock file (it has no dependencies).
cp -r "$root/node_modules/amqplib" "$WORK/apps/app/node_modules/"
for a in "${APPS[@]}"; do
  mkdir -p "$WORK/apps/app/examples/apps/$a"
  cp -r "$root/examples/apps/$a/package.json" "$root/examples/apps/$a/src" "$WORK/apps/app/examples/apps/$a/"
done
apps_layer=$(layer "$WORK/apps")

for a in "${APPS[@]}"; do
  for t in "${TAGS[@]}"; do
    # Node 24 strips the TypeScript types itself; 65532 is distroless' nonroot user.
    image "tandem.local/$a:$t" "$(jq -nc --arg a "$a" --arg v "$t" '{
      Entrypoint: ["/usr/local/bin/node", "src/main.ts"], WorkingDir: "/app/examples/apps/\($a)", User: "65532:65532",
      Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "VERSION=\($v)", "PORT=8080"], ExposedPorts: {"8080/tcp": {}}}')" \
      "$base_layer" "$node_layer" "$apps_layer"
  done
done

printf '%s' "$manifest" >"$WORK/archive/manifest.json"
tar -C "$WORK/archive" -cf "$OUT/images.tar" .
jq -r '.[].RepoTags[]' <<<"$manifest" >"$OUT/tags"
touch "$OUT/.complete"
log "done in $((SECONDS - t0))s: $(wc -l <"$OUT/tags") images, $(du -h "$OUT/images.tar" | cut -f1)"
echo "$OUT"
