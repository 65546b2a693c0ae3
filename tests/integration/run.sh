#!/usr/bin/env bash
# Integration runner (`make integration`, `make asan-integration`).
#
#   WARDEN=/abs/path/to/warden tests/integration/run.sh [PATTERN...]
#
# Starts one PostgreSQL cluster for the whole run (as the postgres user, in a
# temp dir, on a free port), then runs every tests/integration/t_*.sh in order
# (or those whose name contains one of the PATTERNs), each with a time limit.
# Prints PASS/FAIL per test and ends with one line "N passed, M failed".
# WARDEN_SANITIZED=1: the sanitizer build (smaller loads, longer waits).
# KEEP=1 keeps the run's temp dir.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export IT_ROOT=$HERE

: "${WARDEN:?set WARDEN to the warden binary (make integration does)}"
[[ -x "$WARDEN" ]] || { echo "run.sh: $WARDEN is not an executable" >&2; exit 2; }
WARDEN=$(cd "$(dirname "$WARDEN")" && pwd)/$(basename "$WARDEN")
export WARDEN WARDEN_SANITIZED=${WARDEN_SANITIZED:-0}

if [[ -z "${PGBIN:-}" ]]; then
  PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
export PGBIN
for tool in psql pgbench pg_dump initdb; do
  [[ -x "$PGBIN/$tool" ]] || { echo "run.sh: $PGBIN/$tool missing; run scripts/deps.sh" >&2; exit 2; }
done
for tool in jq openssl runuser; do
  command -v $tool >/dev/null || { echo "run.sh: $tool missing; run scripts/deps.sh" >&2; exit 2; }
done

# Tests run as root and start many processes and sockets.
ulimit -n 65536 2>/dev/null || ulimit -n 8192 2>/dev/null || true

IT_RUN_DIR=$(mktemp -d /tmp/warden-it.XXXXXX)
chmod 0755 "$IT_RUN_DIR"
export IT_RUN_DIR
: >"$IT_RUN_DIR/pids"
export IT_PG_DIR="$IT_RUN_DIR/pg"
mkdir -p "$IT_PG_DIR"
chown postgres: "$IT_PG_DIR"

cleanup() {
  local p
  # every background process a test recorded (wardens, helper clients), by pid
  while read -r p; do
    [[ -n "$p" ]] && kill -TERM "$p" 2>/dev/null
  done <"$IT_RUN_DIR/pids"
  sleep 0.2
  while read -r p; do
    [[ -n "$p" ]] && kill -KILL "$p" 2>/dev/null
  done <"$IT_RUN_DIR/pids"
  "$REPO/scripts/pgcluster.sh" stop "$IT_PG_DIR" || true
  if [[ "${KEEP:-0}" == 1 ]]; then
    echo "run.sh: kept $IT_RUN_DIR"
  else
    rm -rf "$IT_RUN_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export IT_PG_PORT
IT_PG_PORT=$("$REPO/scripts/free-port.sh")
export IT_PG_PASSWORD="tgtpw_$(openssl rand -hex 12)"
export IT_PG_CERT="$IT_PG_DIR/server.crt"
if ! PG_MAX_CONNECTIONS=${PG_MAX_CONNECTIONS:-400} TARGET_PASSWORD=$IT_PG_PASSWORD "$REPO/scripts/pgcluster.sh" start "$IT_PG_DIR" "$IT_PG_PORT"; then
  echo "run.sh: could not start the PostgreSQL cluster"
  echo "0 passed, 1 failed"
  exit 1
fi

tests=()
for f in "$HERE"/t_*.sh; do
  [[ -f "$f" ]] || continue
  name=$(basename "$f" .sh)
  if (($# > 0)); then
    want=0
    for pat in "$@"; do [[ "$name" == *"$pat"* ]] && want=1; done
    ((want)) || continue
  fi
  tests+=("$f")
done

if [[ "$WARDEN_SANITIZED" == 1 ]]; then LIMIT=900; else LIMIT=300; fi
passed=0 failed=0 failed_names=()
for f in "${tests[@]}"; do
  name=$(basename "$f" .sh)
  export IT_OUT="$IT_RUN_DIR/$name.out"
  start=$(date +%s)
  timeout --kill-after=10 "$LIMIT" bash "$f" >"$IT_OUT" 2>&1 </dev/null
  rc=$?
  secs=$(($(date +%s) - start))
  if [[ $rc == 0 ]]; then
    passed=$((passed + 1))
    echo "PASS $name (${secs}s)"
    [[ "${VERBOSE:-0}" == 1 ]] && sed 's/^/    /' "$IT_OUT"
  else
    failed=$((failed + 1)); failed_names+=("$name")
    [[ $rc == 124 || $rc == 137 ]] && echo "  (timed out after ${LIMIT}s)" >>"$IT_OUT"
    echo "FAIL $name (${secs}s, exit $rc)"
    if (($(wc -l <"$IT_OUT") > 400)); then
      head -n 150 "$IT_OUT" | sed 's/^/    /'
      echo "    ... [$(wc -l <"$IT_OUT") lines; last 200 follow]"
      tail -n 200 "$IT_OUT" | sed 's/^/    /'
    else
      sed 's/^/    /' "$IT_OUT"
    fi
  fi
done

if ((failed > 0)); then echo "failed: ${failed_names[*]}"; fi
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
