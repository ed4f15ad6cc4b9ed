#!/usr/bin/env bash
# `npm run demo`: everything a fresh clone needs, then the local stack with the demo release.
# Extra arguments go to the stack command, e.g. `npm run demo -- --no-ui --policy my-policy.yaml`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash infra/ensure-node-deps.sh
bash infra/install-tools.sh
exec node --import tsx src/stack/main.ts --demo "$@"
