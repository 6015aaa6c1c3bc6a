# Multi-stage: compile with the full toolchain, ship only production dependencies on a
# non-root distroless Node 24 runtime. The root filesystem can be read-only: nothing writes to it.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the image already has Node 24; the `node` dev dependency's download is not needed.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
USER nonroot
ENTRYPOINT ["/nodejs/bin/node", "dist/cli.js"]
CMD ["controller"]
