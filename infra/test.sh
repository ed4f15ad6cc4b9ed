#!/usr/bin/env bash
# The one test command (README, `npm run test:all`, .ci/run): installs what it needs, then runs
# typecheck, lint and every test — unit, workflow (time skipping), golden-history replay and
# integration tests against a real Temporal dev server and real SeaweedFS started by the tests; then the
# production topology's tests (infra/test-topology.sh: Temporal server on PostgreSQL, replicas behind nginx).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
started=$(date +%s)

bash infra/ensure-node-deps.sh
bash infra/install-tools.sh
# The Temporal server for the topology tests builds from source (~6 min on 2 cores when cold, a no-op when cached):
# in the background at the lowest priority while the checks and the main suite run, awaited before test:topology.
mkdir -p .tools
nice -n 19 bash infra/install-temporal-server.sh >.tools/install-temporal-server.log 2>&1 &
temporal_build=$!

echo "test: typecheck"
npx tsc -p tsconfig.json --noEmit
echo "test: lint"
npx eslint .
echo "test: dependency rules (depcruise: layers, cycles, workflow fence; .dependency-cruiser.cjs)"
npm run --silent depcheck
echo "test: format (prettier --check)"
npx prettier --check . >/dev/null || { npx prettier --check . ; echo "test: run npm run format" >&2; exit 1; }

# Browser tests drive Debian's Chromium through playwright-core (never a downloaded browser).
if ! command -v chromium >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "test: chromium missing; installing Debian's chromium (apt-get update && apt-get install -y chromium)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test: WARNING: chromium is missing and this is not root; the browser tests (test/e2e) will fail" >&2
  fi
fi
# PostgreSQL server binaries (Debian's package) for the shared-state and topology tests, which start their own servers.
bash infra/install-postgres.sh || echo "test: WARNING: no PostgreSQL server binaries; the PostgreSQL tests will fail" >&2
# nginx (Debian's package) balances the topology tests' two API replicas.
bash infra/install-nginx.sh || echo "test: WARNING: no nginx; the topology tests will fail" >&2

shopt -s nullglob
files=(test/unit/*.test.ts test/workflow/*.test.ts test/replay/*.test.ts test/integration/*.test.ts test/e2e/*.test.ts)
echo "test: ${#files[@]} test files"
# The AWS SDK warns on every process that Node 20 support ends in 2027; it is noise in test output.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
status=0
# Guards so that a wedged test fails loudly instead of eating CI's time limit: each test (and hook)
# gets 10 minutes; a file's process exits 30 s after its tests finished even if a leaked server holds
# it open (test/support/exit-watchdog.cjs — not --test-force-exit, which can drop verdicts); and the
# whole run is cut off after 60 minutes (a normal run takes about 10).
timeout --kill-after=30s 60m \
  node --import tsx --import ./test/support/fast-check-seed.cjs --import ./test/support/exit-watchdog.cjs \
  --test --test-reporter=spec --test-timeout=600000 "${files[@]}" || status=$?
if [[ $status -eq 124 ]]; then echo "test: ABORTED after 60 minutes (a test hung)" >&2; fi
echo "test: main suite finished in $(( $(date +%s) - started )) s"

# The production topology (Temporal server on PostgreSQL, replicas behind nginx): after the main suite, alone, since
# it runs nine server processes of its own.
if wait "$temporal_build"; then
  tail -n 1 .tools/install-temporal-server.log
  bash infra/test-topology.sh || status=1
else
  echo "test: the Temporal server build failed; the topology tests cannot run:" >&2
  tail -n 30 .tools/install-temporal-server.log >&2
  status=1
fi
echo "test: finished in $(( $(date +%s) - started )) s"
exit $status
