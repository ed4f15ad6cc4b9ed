#!/usr/bin/env bash
# Provides the PostgreSQL server binaries (initdb, pg_ctl, postgres) from Debian's packages, for the tests and
# the topology, which start their own servers in temp dirs (src/stack/postgres.ts). Idempotent: does nothing when
# /usr/lib/postgresql/<major>/bin already has them. Debian's own cluster is neither created nor started: nothing
# here uses systemd or pg_ctlcluster.
set -euo pipefail

found() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]] && { echo "$d"; return 0; }
  done
  return 1
}

if dir=$(found); then
  echo "install-postgres: PostgreSQL server binaries present ($dir)"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-postgres: ERROR: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin, and installing" \
    "them needs root: run 'apt-get install -y postgresql' as root (Debian), then try again" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-postgres: ERROR: no apt-get; install PostgreSQL >= 12 server binaries under /usr/lib/postgresql" >&2
  exit 1
fi

# No "main" cluster: the package would otherwise create one (and try to start it) on port 5432. Kept on upgrades
# (--force-confold) because postgresql-common ships this file as a conffile.
mkdir -p /etc/postgresql-common
if [[ ! -f /etc/postgresql-common/createcluster.conf ]]; then
  echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
fi
echo "install-postgres: installing Debian's postgresql (apt-get update && apt-get install -y postgresql)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql >/dev/null
dir=$(found) || {
  echo "install-postgres: ERROR: postgresql installed but no initdb/pg_ctl/postgres under /usr/lib/postgresql" >&2
  exit 1
}
echo "install-postgres: installed ($dir)"
