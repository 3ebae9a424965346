#!/bin/bash
# First start of the primary (docker-entrypoint-initdb.d): a replication role
# for the standby, allowed from the database network.
set -euo pipefail
psql -v ON_ERROR_STOP=1 -U postgres -d postgres \
  -c "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD}'"
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
