# syntax=docker/dockerfile:1
# The LoanHub image the compute module's task definitions run (terraform/modules/compute): one image,
# `loanhub` as the entrypoint, the process chosen by the command (serve, work --core X, batch schedule).
# Three stages: build (TypeScript with the dev dependencies), deps (production dependencies only, native
# modules compiled), runtime (slim, no compiler, no npm cache, non-root). Needs BuildKit (Docker 23+'s
# default builder) for the cache mounts. test/terraform/image.test.ts does what the deps and runtime
# stages do in a clean copy and runs the CLI there.

ARG NODE_IMAGE=node:20.19-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# `npm ci`: exactly the lock (complete for every platform, README.md); --ignore-scripts because
# `prepare` would build before the sources are here. npm's cache is a BuildKit cache mount: kept between
# builds, never in a layer.
RUN --mount=type=cache,target=/root/.npm npm ci --prefer-offline --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Production dependencies only. Scripts are off so the root package's `prepare` (a TypeScript build)
# does not run; the reviewed native install steps (package.json allowScripts) are then run by `npm
# rebuild`: better-sqlite3 (the store) and ssh2's optional crypto binding (SFTP to the mainframe 4.5x
# faster than on Node's own ciphers; a failed build only leaves ssh2 on them).
# The cache mount keeps npm's cache out of the image, so no `npm cache clean` is needed.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund \
 && npm rebuild better-sqlite3 ssh2

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    LOANHUB_HOST=0.0.0.0 \
    LOANHUB_DATA_DIR=/var/lib/loanhub
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
# Read at run time: the mainframe contract's copybooks (copybooks/mainframe-copybooks.ts).
COPY copybooks/mainframe ./copybooks/mainframe
# The task definitions mount volumes here and on /tmp; the root file system stays read-only.
RUN mkdir -p /var/lib/loanhub && chown node:node /var/lib/loanhub
USER node
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/loanhub.js"]
CMD ["--help"]
