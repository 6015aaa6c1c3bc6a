# Multi-stage: compile with the full toolchain, ship only production dependencies on a non-root
# distroless Node 24 runtime. The root filesystem can be read-only: nothing writes to it (the
# Deployment mounts an emptyDir at /tmp all the same). Base images are pinned by digest; bump them
# together with the tag (test/unit/dockerfile.test.ts checks the pins, the user and the entry point).
FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the image already has Node 24; the `node` dev dependency's download is not needed.
# --workspaces=false: the example apps and the podinfo library are not part of the image.
RUN npm ci --ignore-scripts --workspaces=false --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --workspaces=false --no-audit --no-fund

FROM gcr.io/distroless/nodejs24-debian12:nonroot@sha256:14d42e2511532589a7c7e01a753667a74fcc96266e137e8125006b87b0c32d0a
WORKDIR /app
ENV NODE_ENV=production
# V8 grows its young generation to 2 × 64 MB on a machine with this much memory, and keeps it: 128 MB
# of a 187 MB heap at 300 groups. 2 × 4 MB measured 309 → 195 MiB RSS there (docs/performance.md).
# scripts/build-image.sh reads this and MALLOC_ARENA_MAX from here.
ENV NODE_OPTIONS=--max-semi-space-size=4
# glibc's malloc keeps an arena per thread and gives little back: at 1,000 groups the memory outside
# V8's heap measured 191 → 117 MB and 243 → 100 MB with two arenas (docs/performance.md).
ENV MALLOC_ARENA_MAX=2
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# Numeric, so that runAsNonRoot can verify it (distroless "nonroot" is 65532).
USER 65532:65532
# --optimize-for-size (not allowed in NODE_OPTIONS) keeps V8's heap near what is live: 300–308 → 180 MiB
# RSS at 1,000 groups, for a start-up ~20 % slower (docs/performance.md).
ENTRYPOINT ["/nodejs/bin/node", "--optimize-for-size", "dist/cli.js"]
CMD ["controller"]
