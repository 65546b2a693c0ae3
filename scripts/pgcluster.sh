#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests, `make run` and benchmarks.
#
#   scripts/pgcluster.sh start DIR PORT   create (if needed) and start a cluster in DIR
#   scripts/pgcluster.sh stop DIR         stop it (no error when it is not running)
#
# PostgreSQL refuses to run as root, so the cluster runs as the `postgres` user;
# DIR is created if missing and handed to that user.
#
# What start sets up:
#   - DIR/data (the cluster), DIR/log, DIR/server.crt + DIR/server.key (self-signed,
#     CN=127.0.0.1, SAN IP:127.0.0.1 + DNS:localhost), ssl=on
#   - listen on 127.0.0.1:PORT, unix socket in DIR (trust for the socket)
#   - roles app_scram (SCRAM), app_md5 (md5 secret, md5 method), app_plain (cleartext
#     `password` method), app_sslonly (SCRAM, TLS only), all with one password:
#     $TARGET_PASSWORD, or a random one; it is written to DIR/password either way
#   - database `app` owned by app_scram, all privileges granted to the others
# Env: TARGET_PASSWORD, PG_MAX_CONNECTIONS (default 100), PGBIN (default: newest
# /usr/lib/postgresql/*/bin).
# Superuser access from this machine: psql -h DIR -p PORT -U postgres (trust).
set -euo pipefail

die() { echo "pgcluster: $*" >&2; exit 1; }

if [[ -z "${PGBIN:-}" ]]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[[ -x "$PGBIN/initdb" ]] || die "PostgreSQL server binaries not found (PGBIN=$PGBIN); run scripts/deps.sh"

as_pg() { (cd "$DIR" && runuser -u postgres -- "$@"); }

port_taken() {
  /usr/bin/python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)   # taken
sys.exit(1)       # free
PY
}

cmd=${1:-}
case "$cmd" in
start)
  [[ $# -eq 3 ]] || die "usage: $0 start DIR PORT"
  mkdir -p "$2"
  DIR=$(cd "$2" && pwd)
  PORT=$3
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "bad port: $PORT"
  if [[ -f "$DIR/data/postmaster.pid" ]] && as_pg "$PGBIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    die "a cluster is already running in $DIR (stop it with: $0 stop $DIR)"
  fi
  if port_taken "$PORT"; then
    die "port $PORT on 127.0.0.1 is already in use; stop what listens there or pick another port"
  fi
  chown postgres: "$DIR"
  chmod 0755 "$DIR"
  if ! runuser -u postgres -- test -w "$DIR" -a -x "$DIR"; then
    die "the postgres user cannot write $DIR (a parent folder is not searchable by it?); use a folder under /tmp"
  fi

  fresh=0
  if [[ ! -f "$DIR/data/PG_VERSION" ]]; then
    fresh=1
    if [[ -n "${TARGET_PASSWORD:-}" ]]; then
      PW=$TARGET_PASSWORD
    else
      PW="tgtpw_$(openssl rand -hex 12)"
    fi
    [[ "$PW" != *"'"* ]] || die "TARGET_PASSWORD must not contain a single quote"
    umask 077
    printf '%s\n' "$PW" >"$DIR/password"
    umask 022

    as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }

    # Self-signed server certificate; usable with sslmode=verify-full for
    # host=127.0.0.1 (SAN IP) or host=localhost (SAN DNS), sslrootcert=DIR/server.crt.
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
      -subj "/CN=127.0.0.1" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout "$DIR/server.key" -out "$DIR/server.crt" >/dev/null 2>&1 \
      || die "openssl could not make the server certificate"
    chown postgres: "$DIR/server.key" "$DIR/server.crt"
    chmod 0600 "$DIR/server.key"
    chmod 0644 "$DIR/server.crt"

    cat >>"$DIR/data/postgresql.conf" <<CONF

# --- scripts/pgcluster.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
max_connections = ${PG_MAX_CONNECTIONS:-100}
ssl = on
ssl_cert_file = '$DIR/server.crt'
ssl_key_file = '$DIR/server.key'
password_encryption = 'scram-sha-256'
# throwaway cluster: durability is not needed
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
logging_collector = off
log_min_messages = warning
CONF

    cat >"$DIR/data/pg_hba.conf" <<'HBA'
# TYPE     DATABASE USER         ADDRESS        METHOD
local      all      all                         trust
host       all      app_scram    127.0.0.1/32   scram-sha-256
host       all      app_md5      127.0.0.1/32   md5
host       all      app_plain    127.0.0.1/32   password
hostssl    all      app_sslonly  127.0.0.1/32   scram-sha-256
hostnossl  all      app_sslonly  127.0.0.1/32   reject
host       all      all          127.0.0.1/32   scram-sha-256
HBA
    chown postgres: "$DIR/data/pg_hba.conf"
  fi
  sed -i "s/^port = .*//" "$DIR/data/postgresql.conf"
  as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 60 -o "-p $PORT" start >/dev/null \
    || { tail -20 "$DIR/log" >&2 || true; die "pg_ctl start failed"; }
  echo "$PORT" >"$DIR/port"

  if ((fresh)); then
    PW=$(cat "$DIR/password")
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U postgres -d postgres \
      -v pw="$PW" >/dev/null <<'SQL' || die "creating roles failed"
SET password_encryption = 'scram-sha-256';
CREATE ROLE app_scram LOGIN PASSWORD :'pw';
CREATE ROLE app_plain LOGIN PASSWORD :'pw';
CREATE ROLE app_sslonly LOGIN PASSWORD :'pw';
SET password_encryption = 'md5';
CREATE ROLE app_md5 LOGIN PASSWORD :'pw';
RESET password_encryption;
CREATE DATABASE app OWNER app_scram;
GRANT ALL ON DATABASE app TO app_md5, app_plain, app_sslonly;
\c app
GRANT ALL ON SCHEMA public TO app_md5, app_plain, app_sslonly;
ALTER DEFAULT PRIVILEGES FOR ROLE app_scram IN SCHEMA public
  GRANT ALL ON TABLES TO app_md5, app_plain, app_sslonly;
ALTER DEFAULT PRIVILEGES FOR ROLE app_scram IN SCHEMA public
  GRANT ALL ON SEQUENCES TO app_md5, app_plain, app_sslonly;
SQL
  fi
  echo "pgcluster: running in $DIR on 127.0.0.1:$PORT (password in $DIR/password)"
  ;;
stop)
  [[ $# -eq 2 ]] || die "usage: $0 stop DIR"
  [[ -d "$2" ]] || exit 0
  DIR=$(cd "$2" && pwd)
  [[ -f "$DIR/data/postmaster.pid" ]] || exit 0
  as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 \
    || as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  ;;
*)
  die "usage: $0 start DIR PORT | stop DIR"
  ;;
esac
