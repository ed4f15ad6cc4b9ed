#!/usr/bin/env bash
# Installs the Node dependencies when they are missing or older than package-lock.json.
# Idempotent and quick otherwise (two stat calls). npm writes node_modules/.package-lock.json on
# every install, so its mtime says when node_modules last matched the lockfile.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "ensure-node-deps: ERROR: node and npm are required (Node >= 20.19)" >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
  echo "ensure-node-deps: ERROR: Node >= 20.19 is required, found $(node --version)" >&2
  exit 1
fi

MARKER="node_modules/.package-lock.json"
if [[ -d node_modules && -f "$MARKER" && ! "package-lock.json" -nt "$MARKER" ]]; then
  echo "ensure-node-deps: node_modules up to date"
  exit 0
fi

if [[ ! -d node_modules ]]; then
  echo "ensure-node-deps: node_modules missing; running npm ci"
else
  echo "ensure-node-deps: package-lock.json changed since the last install; running npm ci"
fi
# --ignore-scripts: no dependency needs its install script here (esbuild, swc and the Temporal core
# bridge ship prebuilt binaries; onnxruntime-node's script only fetches optional GPU files and fails
# offline). Same choice as npm 11's default of not running unapproved scripts, made explicit.
npm ci --no-audit --no-fund --ignore-scripts
# npm ci rewrites the marker, but make sure it is newer than the lockfile even on coarse clocks.
touch "$MARKER"
