#!/usr/bin/env bash
# `npm run test:topology`: the production topology (src/topology) started from the project's own scripts and its
# tests (test/topology): a release through nginx and two API replicas, and the failovers. Installs what it needs
# first, idempotently: the pinned local tools, the Temporal server build (cached in .tools/temporal-server; a cold
# build is ~6 min on 2 cores), PostgreSQL's and nginx's Debian packages.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
started=$(date +%s)

bash infra/install-tools.sh >/dev/null
bash infra/install-temporal-server.sh
bash infra/install-postgres.sh
bash infra/install-nginx.sh

export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
status=0
# One file at a time: each starts a whole topology (9 processes), which is all two cores can carry at once.
timeout --kill-after=30s 30m \
  node --import tsx --import ./test/support/exit-watchdog.cjs \
  --test --test-concurrency=1 --test-reporter=spec --test-timeout=900000 test/topology/*.test.ts || status=$?
if [[ $status -eq 124 ]]; then echo "test:topology: ABORTED after 30 minutes (a test hung)" >&2; fi
echo "test:topology: finished in $(($(date +%s) - started)) s"
exit $status
