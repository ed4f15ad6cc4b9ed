# syntax=docker/dockerfile:1
# Vigil image: the worker (default CMD), the API (`node dist/api/main.js`) and the one-shot
# compose setup (`node infra/compose-setup.cjs`) all run from it. See docker-compose.yml.

# ---- build: full toolchain, compile TypeScript, pre-bundle the workflows ----
FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY infra/bundle-workflows.ts ./infra/bundle-workflows.ts
# tsc -p tsconfig.build.json (src → dist), then webpack the workflows once here so the worker
# starts from VIGIL_WORKFLOW_BUNDLE instead of bundling at every start.
RUN npm run build \
 && npx tsx infra/bundle-workflows.ts dist/workflow-bundle.js

# ---- runtime: production dependencies only, non-root ----
FROM node:20.19-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY infra/compose-setup.cjs ./infra/compose-setup.cjs
# Files stay root-owned and read-only to the service user; state lives in S3, Temporal and PostgreSQL. The mount
# points of docker-compose.yml's volumes (signing key, per-replica state, gateway WAL) belong to it, so a new named
# volume starts owned by it too.
RUN mkdir -p /var/lib/vigil/keys /var/lib/vigil/state /var/lib/vigil/wal \
 && chown -R node:node /var/lib/vigil && chmod 700 /var/lib/vigil/keys
USER node
ENV VIGIL_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
CMD ["node", "dist/workers/main.js"]
