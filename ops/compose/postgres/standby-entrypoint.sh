#!/bin/bash
# The standby: on first start, copy the primary with pg_basebackup (-R writes
# standby.signal and primary_conninfo), naming itself `pg_standby`, the name
# the primary's synchronous_standby_names waits for. Then run as a standby.
set -euo pipefail
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  export PGPASSWORD="$REPLICATION_PASSWORD"
  until pg_basebackup -h pg-primary -U replicator -D "$PGDATA" -R -X stream \
      -d "application_name=pg_standby"; do
    echo "waiting for the primary"; rm -rf "${PGDATA:?}"/*; sleep 2
  done
  # Stated explicitly (later lines win): the password and the name the
  # primary waits for, whatever -R wrote.
  echo "primary_conninfo = 'host=pg-primary user=replicator password=${REPLICATION_PASSWORD} application_name=pg_standby'" \
    >> "$PGDATA/postgresql.auto.conf"
  chmod 0700 "$PGDATA"
fi
exec postgres -D "$PGDATA" -c hot_standby=on
