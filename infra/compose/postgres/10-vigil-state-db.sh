#!/bin/sh
# Creates the API's shared-state database (VIGIL_STATE_DATABASE_URL) beside Temporal's, with its own role, so the
# API replicas' credentials open nothing of Temporal's. The postgres image runs this once, when it initialises an
# empty data volume; on an existing volume run it by hand (it is idempotent):
#   docker compose exec postgres sh /docker-entrypoint-initdb.d/10-vigil-state-db.sh
# Tables come from the API's own migrations, not from here.
set -eu
: "${VIGIL_STATE_DB_PASSWORD:?VIGIL_STATE_DB_PASSWORD is not set (infra/compose/make-secrets.sh writes it)}"
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v pw="$VIGIL_STATE_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE vigil_state LOGIN PASSWORD %L', :'pw')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vigil_state') \gexec
SELECT format('ALTER ROLE vigil_state PASSWORD %L', :'pw') \gexec
SELECT 'CREATE DATABASE vigil_state OWNER vigil_state'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'vigil_state') \gexec
REVOKE ALL ON DATABASE vigil_state FROM PUBLIC;
SQL
