#!/usr/bin/env bash
# Builds the real Temporal server (not the dev server) and temporal-sql-tool from the Go module proxy into
# <repo>/.tools/temporal-server, with the module's PostgreSQL schemas and reference config beside them, for the
# production-shaped topology (src/topology, npm run test:topology).
# Idempotent: a stamp records the version built, so a warm run is a no-op. A cold build takes about 5.5 minutes
# on 2 cores (more under load); the Go module cache makes a rebuild after a lost .tools/ much faster.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=v1.29.1
DEST="$ROOT/.tools/temporal-server"
STAMP="$DEST/.installed-version"

have_all() {
  [[ -x "$DEST/temporal-server" && -x "$DEST/temporal-sql-tool" && -d "$DEST/schema/postgresql/v12/temporal" &&
    -d "$DEST/schema/postgresql/v12/visibility" && -f "$DEST/config/development-postgres12.yaml" ]]
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$VERSION" ]] && have_all; then
  echo "install-temporal-server: up to date in $DEST ($VERSION)"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  if [[ -x /usr/local/go/bin/go ]]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    echo "install-temporal-server: ERROR: Go is required to build the Temporal server (https://go.dev/dl/)" >&2
    exit 1
  fi
fi

mkdir -p "$DEST"
started=$(date +%s)
# go install names binaries after their package directories: cmd/server -> server, cmd/tools/sql -> sql.
# A binary already built at this version (read from its embedded build info) is kept.
built_at_version() { [[ -x "$1" ]] && go version -m "$1" 2>/dev/null | grep -q "go.temporal.io/server[[:space:]]*$VERSION"; }
if ! built_at_version "$DEST/server" || ! built_at_version "$DEST/sql"; then
  echo "install-temporal-server: building go.temporal.io/server $VERSION (about 5.5 min on 2 cores) …"
  GOBIN="$DEST" go install "go.temporal.io/server/cmd/server@$VERSION" "go.temporal.io/server/cmd/tools/sql@$VERSION"
fi
ln -sf server "$DEST/temporal-server"
ln -sf sql "$DEST/temporal-sql-tool"

# The schemas and the reference config ship in the module; the module cache is read-only, so copy them (writable).
MOD="$(go env GOMODCACHE)/go.temporal.io/server@$VERSION"
if [[ ! -d "$MOD/schema/postgresql" ]]; then
  GOFLAGS=-mod=mod go mod download -x "go.temporal.io/server@$VERSION" >/dev/null 2>&1 || true
fi
if [[ ! -d "$MOD/schema/postgresql" ]]; then
  echo "install-temporal-server: ERROR: $MOD/schema/postgresql not found in the Go module cache" >&2
  exit 1
fi
rm -rf "$DEST/schema" "$DEST/config"
mkdir -p "$DEST/schema" "$DEST/config/dynamicconfig"
cp -r "$MOD/schema/postgresql" "$DEST/schema/"
cp "$MOD/config/development-postgres12.yaml" "$DEST/config/"
cp "$MOD/config/dynamicconfig/development-sql.yaml" "$DEST/config/dynamicconfig/"
chmod -R u+w "$DEST/schema" "$DEST/config"

if ! have_all; then
  echo "install-temporal-server: ERROR: expected temporal-server, temporal-sql-tool and the schemas in $DEST" >&2
  exit 1
fi
echo "$VERSION" >"$STAMP" # last: its presence means a verified install
echo "install-temporal-server: $VERSION in $DEST ($(($(date +%s) - started)) s)"
