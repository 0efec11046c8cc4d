# openclaw-supervisor + the pinned OpenClaw gateway on Node 24.
# Build: docker build -t openclaw-supervisor .
# Run:   docker run -p 8080:8080 -e OPENCLAW_GATEWAY_TOKEN=... -v openclaw-state:/home/node/.openclaw openclaw-supervisor

# --- build: compile the supervisor with its dev dependencies ---
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --no-audit --no-fund

# --- runtime: only what runs ---
FROM node:24-bookworm-slim
ARG OPENCLAW_VERSION=2026.9.6
# tini: the supervisor hands PID 1 to it at start so that orphaned gateway descendants are reaped.
# libjemalloc2: the supervisor's own allocator from that hand-over (src/host/pid1.ts: its memory
# returns after a burst; glibc's arena keeps it), never the gateway's.
# Install scripts that must run: openclaw's (bundled plugins, its fs-safe prebuild) and koffi's
# (picks its native prebuild). protobufjs's only prints a version-scheme warning and
# @google/genai's is an echo: both harmless, named so that npm's allowScripts advisory is answered.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini libjemalloc2 \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g "openclaw@${OPENCLAW_VERSION}" --no-audit --no-fund \
      --allow-scripts=openclaw,koffi,protobufjs,@google/genai \
 && npm cache clean --force \
 && rm /usr/local/bin/openclaw \
 && printf '%s\n' '#!/bin/sh' '# openclaw-supervisor-wrapper' \
      '# openclaw aimed at the supervisor'"'"'s gateway (its port and token), run as node even from a' \
      '# root shell (docker exec, railway ssh, kubectl exec): openclaw-supervisor openclaw <args>.' \
      'exec node /app/dist/cli.js openclaw "$@"' > /usr/local/bin/openclaw \
 && chmod 0755 /usr/local/bin/openclaw
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# State (token, config, sessions): $OPENCLAW_STATE_DIR, else $RAILWAY_VOLUME_MOUNT_PATH/.openclaw on
# Railway with a volume, else /home/node/.openclaw. It exists in the image, owned by node, so that
# a new Docker named volume mounted there starts out node's.
RUN install -d -o node -g node -m 0700 /home/node/.openclaw
# The image starts as root, and the supervisor drops to SUPERVISOR_RUN_AS at once: as root it
# first gives the state dir to node (Railway and Docker mount volumes root-owned), then runs
# itself and the gateway as node. Only tini, PID 1, stays root. Started as another user
# (docker run --user, a pod's runAsUser), it stays that user.
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=:: \
    SUPERVISOR_RUN_AS=node
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 CMD ["node", "/app/dist/cli.js", "healthcheck"]
ENTRYPOINT ["node", "/app/dist/cli.js"]
