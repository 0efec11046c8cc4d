# openclaw-supervisor + the pinned OpenClaw gateway on Node 24.
# Build: docker build -t openclaw-supervisor .   Run: docker run -p 8080:8080 -e OPENCLAW_GATEWAY_TOKEN=... openclaw-supervisor

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
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && npm install -g "openclaw@${OPENCLAW_VERSION}" --no-audit --no-fund \
 && npm cache clean --force
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# State (token, config, sessions): $OPENCLAW_STATE_DIR, else $RAILWAY_VOLUME_MOUNT_PATH/.openclaw on
# Railway with a volume, else /home/node/.openclaw (mount a volume there with plain Docker).
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=::
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 CMD ["node", "/app/dist/cli.js", "healthcheck"]
ENTRYPOINT ["node", "/app/dist/cli.js"]
