#!/usr/bin/env bash
# `make run`: a throwaway PostgreSQL cluster in ./var/pg on 127.0.0.1:54329 and
# warden in front of it with examples/quickstart.yaml (listening on 127.0.0.1:6432).
# Ctrl-C stops warden; the cluster is stopped on the next `make run` start or
# with: scripts/pgcluster.sh stop var/pg
set -euo pipefail
cd "$(dirname "$0")/.."

PG_PORT=54329
GW_PORT=6432
ADMIN_PORT=6443
CLUSTER=var/pg

[[ -x build/warden ]] || { echo "run: build/warden is missing; run make first" >&2; exit 1; }

port_in_use() {
  /usr/bin/python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}

mkdir -p var
# A cluster left running by an earlier `make run` is stopped first.
scripts/pgcluster.sh stop "$CLUSTER"
if port_in_use "$PG_PORT"; then
  echo "run: port $PG_PORT on 127.0.0.1 is already in use; the quickstart cluster needs it" >&2
  echo "run: stop whatever listens there (ss -ltnp 'sport = :$PG_PORT') and run make run again" >&2
  exit 1
fi
for p in "$GW_PORT" "$ADMIN_PORT"; do
  if port_in_use "$p"; then
    echo "run: port $p on 127.0.0.1 is already in use; warden's quickstart listeners need it" >&2
    echo "run: stop whatever listens there (ss -ltnp 'sport = :$p') and run make run again" >&2
    exit 1
  fi
done

scripts/pgcluster.sh start "$CLUSTER" "$PG_PORT"
APPDB_PASSWORD=$(cat "$CLUSTER/password")
export APPDB_PASSWORD

cat <<MSG

warden quickstart
  target:   PostgreSQL on 127.0.0.1:$PG_PORT (database app, user app_scram; warden keeps the password)
  gateway:  127.0.0.1:$GW_PORT, audit trail in var/audit.db

Connect with:
  psql "host=127.0.0.1 port=$GW_PORT dbname=appdb user=alice password=wdn_quickstart_demo sslmode=require"

As a coding agent (application_name=claude-code) a DELETE waits for a review; decide it as bob:
  export WARDEN_GATEWAY=https://127.0.0.1:$ADMIN_PORT WARDEN_TOKEN=wdn_quickstart_reviewer
  build/warden review list --insecure
  build/warden review approve ID --insecure

Export the audit trail:
  build/warden audit export -c examples/quickstart.yaml --format jsonl

Ctrl-C stops warden; stop the cluster with: scripts/pgcluster.sh stop $CLUSTER

MSG
exec build/warden serve -c examples/quickstart.yaml
