#!/usr/bin/env bash
# `npm run image`: the controller image without Docker, with the Dockerfile's properties (non-root
# 65532, nothing written to the root filesystem, production dependencies only, entry point
# `/nodejs/bin/node --optimize-for-size dist/cli.js`, command `controller`), from Debian packages and Node 24:
#
#   layer 1  glibc, libstdc++, libgcc (what Node's binary links) from Debian bookworm, unpacked by
#            mmdebstrap --variant=extract: no shell, no dpkg, no package manager (as distroless)
#   layer 2  /nodejs/bin/node (the npm `node` package this project runs on), /app with dist/,
#            production node_modules and package.json, /etc/passwd with nonroot 65532, /tmp
#
# Assembled by umoci (an OCI layout), written by skopeo as an OCI archive and a docker archive
# (`docker load`, `kind load image-archive`, `ctr images import`), with an SBOM beside them
# (`npm sbom`, CycloneDX). Reproducible: every timestamp is the last commit's (SOURCE_DATE_EPOCH).
#
# Out: $TANDEM_IMAGE_OUT (default dist/image)/tandem-<version>.{oci.tar,docker.tar,sbom.json}.
# Needs root (apt, and mmdebstrap's root mode) and Debian's mmdebstrap, umoci and skopeo (installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[image $(date +%T)] $*" >&2; }

bash scripts/install-debian.sh mmdebstrap umoci skopeo

# The project's own Node 24 (the `node` dev dependency), never whatever `node` is first on PATH.
node=$PWD/node_modules/node/bin/node
[ -x "$node" ] || { echo "no $node: run npm ci first" >&2; exit 1; }
export PATH="$PWD/node_modules/.bin:$PATH"
version=$("$node" -p 'require("./package.json").version')
repo=${TANDEM_IMAGE_REPOSITORY:-ghcr.io/tandem-dev/tandem}
out=$(realpath -m "${TANDEM_IMAGE_OUT:-dist/image}")
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

log "compile"
# Into the work dir, not dist/: tests may be running dist/ while the image builds.
tsc -p tsconfig.build.json --outDir "$work/dist" --sourceMap false

log "layer 1: Debian base (mmdebstrap)"
mmdebstrap --quiet --variant=extract --include=libc6,libstdc++6,libgcc-s1 \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  bookworm "$work/base.tar" >&2

log "layer 2: node, the app, production dependencies"
app=$work/app
mkdir -p "$app/app" "$app/nodejs/bin" "$app/etc" "$app/tmp"
cp package.json package-lock.json "$app/app/"
# Same flags as the Dockerfile's deps stage; the shared npm cache makes this quick.
(cd "$app/app" && npm ci --omit=dev --ignore-scripts --workspaces=false --no-audit --no-fund --prefer-offline --loglevel=error >&2)
rm "$app/app/package-lock.json"
cp -R "$work/dist" "$app/app/dist"
cp "$node" "$app/nodejs/bin/node"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$app/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$app/etc/group"
chmod 1777 "$app/tmp"
tar --create --file "$work/app.tar" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  --format=posix --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' -C "$app" .

log "assemble (umoci)"
layout=$work/oci
tag=$version
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci raw add-layer --image "$layout:$tag" --history.created "$created" --history.created_by 'mmdebstrap --variant=extract --include=libc6,libstdc++6,libgcc-s1 bookworm' "$work/base.tar"
umoci raw add-layer --image "$layout:$tag" --history.created "$created" --history.created_by 'scripts/build-image.sh: node, /app, nonroot' "$work/app.tar"
# The Dockerfile's memory settings (docs/performance.md), read from it so the two images cannot differ.
dockerfile_env() { sed -n "s/^ENV $1=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" Dockerfile | tail -1; }
node_options=$(dockerfile_env NODE_OPTIONS)
malloc_arena_max=$(dockerfile_env MALLOC_ARENA_MAX)
[ -n "$node_options" ] && [ -n "$malloc_arena_max" ] || { echo "no ENV NODE_OPTIONS or MALLOC_ARENA_MAX in Dockerfile" >&2; exit 1; }
umoci config --image "$layout:$tag" --created "$created" --history.created "$created" --author 'Tandem' \
  --config.user 65532:65532 --config.workingdir /app \
  --config.env NODE_ENV=production --config.env PATH=/nodejs/bin:/usr/bin:/bin \
  --config.env "NODE_OPTIONS=$node_options" --config.env "MALLOC_ARENA_MAX=$malloc_arena_max" \
  --config.entrypoint /nodejs/bin/node --config.entrypoint --optimize-for-size --config.entrypoint dist/cli.js --config.cmd controller \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.source=https://github.com/tandem-dev/tandem" \
  --config.label "org.opencontainers.image.licenses=Apache-2.0"
umoci gc --layout "$layout"

log "write archives (skopeo)"
rm -f "$out/tandem-$version.oci.tar" "$out/tandem-$version.docker.tar"
skopeo copy --quiet "oci:$layout:$tag" "oci-archive:$out/tandem-$version.oci.tar:$repo:$version"
skopeo copy --quiet "oci:$layout:$tag" "docker-archive:$out/tandem-$version.docker.tar:$repo:$version"
npm sbom --omit=dev --sbom-format=cyclonedx --workspaces=false > "$out/tandem-$version.sbom.json"
ls -l "$out" >&2
echo "$out/tandem-$version.oci.tar"
