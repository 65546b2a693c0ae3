#!/usr/bin/env bash
# `make bench`: warden vs pgbouncer vs direct PostgreSQL, in one run, on this machine.
#
# pgbench -S (select only) for BENCH_SECONDS (15) each, at 1 client (-c1 -j1) and
# 8 clients (-c8 -j2), simple and prepared protocol, against:
#   direct        PostgreSQL itself
#   pgbouncer     pgbouncer (Debian package), session mode
#   warden-strict warden, audit durability strict (fsync'd group commit before forward)
#   warden-batch  warden, audit durability batch (5 ms window)
# All links are plain TCP on 127.0.0.1 (no TLS) so the comparison is like for like.
# Then warden's RSS per idle connection (BENCH_IDLE=1000 connections held open).
# Results are printed and written to bench/results/<date>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

SECS=${BENCH_SECONDS:-15}
IDLE=${BENCH_IDLE:-1000}
WARDEN=${WARDEN:-$REPO/build/warden}
# shellcheck source=bench/lib.sh
. bench/lib.sh
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[[ -x "$WARDEN" ]] || { echo "bench: $WARDEN missing (make first)" >&2; exit 1; }
[[ -x "$PGBOUNCER" ]] || { echo "bench: pgbouncer missing (scripts/deps.sh)" >&2; exit 1; }

ulimit -n 65536 2>/dev/null || ulimit -n 16384 2>/dev/null || true
if (($(ulimit -n) < IDLE * 2 + 100)); then
  echo "bench: ulimit -n is $(ulimit -n); the idle-connection test needs $((IDLE * 2 + 100))" >&2
  exit 1
fi

W=$(mktemp -d /tmp/warden-bench.XXXXXX)
chmod 0755 "$W"
mkdir -p "$W/pg" "$W/bouncer" bench/results
chown postgres: "$W/pg" "$W/bouncer"
RESULTS="bench/results/$(date +%Y-%m-%d_%H%M%S).txt"
WD_PID=""

cleanup() {
  if [[ -n "${OP_PID:-}" ]]; then kill "$OP_PID" 2>/dev/null || true; fi
  [[ -n "$WD_PID" ]] && { kill -TERM "$WD_PID" 2>/dev/null; wait "$WD_PID" 2>/dev/null || true; }
  if [[ -f "$W/bouncer/pgbouncer.pid" ]]; then kill -TERM "$(cat "$W/bouncer/pgbouncer.pid")" 2>/dev/null || true; fi
  scripts/pgcluster.sh stop "$W/pg" || true
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---------------------------------------------------------------- cluster
PG_PORT=$(scripts/free-port.sh)
PG_MAX_CONNECTIONS=$((IDLE + 100)) scripts/pgcluster.sh start "$W/pg" "$PG_PORT" >/dev/null
PW=$(cat "$W/pg/password")
export APP_PW=$PW
PGPASSWORD=$PW pgbench -q -i -s 10 "host=127.0.0.1 port=$PG_PORT dbname=app user=app_scram sslmode=disable" >/dev/null 2>&1

# ---------------------------------------------------------------- pgbouncer
BN_PORT=$(scripts/free-port.sh)
cat >"$W/bouncer/pgbouncer.ini" <<INI
[databases]
app = host=127.0.0.1 port=$PG_PORT dbname=app
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BN_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $W/bouncer/userlist.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 20
server_tls_sslmode = disable
logfile = $W/bouncer/pgbouncer.log
pidfile = $W/bouncer/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
INI
printf '"app_scram" "%s"\n' "$PW" >"$W/bouncer/userlist.txt"
chown postgres: "$W/bouncer"/*
chmod 0600 "$W/bouncer/userlist.txt"
(cd "$W/bouncer" && runuser -u postgres -- "$PGBOUNCER" -d -q "$W/bouncer/pgbouncer.ini")
wait_port "$BN_PORT" 10 || { cat "$W/bouncer/pgbouncer.log" >&2; echo "bench: pgbouncer did not start" >&2; exit 1; }

# ---------------------------------------------------------------- warden
KEY=wdn_bench_key_$(openssl rand -hex 8)
KEY_SHA=$(printf %s "$KEY" | sha256sum | cut -d' ' -f1)
WD_PORT=$(scripts/free-port.sh)
write_warden_cfg() { # durability tls_mode [name]
  local name=${3:-$1}
  mkdir -p "$W/wd-$name"
  cat >"$W/wd-$name/warden.yaml" <<YAML
data_dir: $W/wd-$name/data
listen:
  postgres: 127.0.0.1:$WD_PORT
log_level: warn
audit:
  durability: $1
tls:
  mode: $2
identity:
${OIDC_BLOCK:-}
  api_keys:
    - name: bench
      key_sha256: "$KEY_SHA"
      groups: [bench]
${POLICY_BLOCK:-}
connections:
  - name: app
    type: postgres
    host: 127.0.0.1
    port: $PG_PORT
    database: app
    user: app_scram
    password_env: APP_PW
    sslmode: disable
YAML
}
start_warden() { # durability [tls_mode]
  write_warden_cfg "$1" "${2:-off}"
  "$WARDEN" serve -c "$W/wd-$1/warden.yaml" >>"$W/wd-$1/warden.log" 2>&1 &
  WD_PID=$!
  wait_port "$WD_PORT" 15 || { tail -20 "$W/wd-$1/warden.log" >&2; echo "bench: warden ($1) did not start" >&2; exit 1; }
}
stop_warden() {
  kill -TERM "$WD_PID" 2>/dev/null || true
  wait "$WD_PID" 2>/dev/null || true
  WD_PID=""
}

# ---------------------------------------------------------------- pgbench runs
declare -A TPS LAT
run_pgbench() { # target port user password clients threads mode
  local target=$1 port=$2 user=$3 pw=$4 c=$5 j=$6 mode=$7 out
  out=$(PGPASSWORD=$pw pgbench -n -S -T "$SECS" -c "$c" -j "$j" -M "$mode" \
    "host=127.0.0.1 port=$port dbname=app user=$user sslmode=disable" 2>&1) || {
    echo "bench: pgbench failed against $target (-c $c -M $mode):" >&2; echo "$out" | tail -5 >&2
    TPS[$target,$c,$mode]=0; LAT[$target,$c,$mode]=0; return 0; }
  TPS[$target,$c,$mode]=$(sed -nE 's/^tps = ([0-9.]+) \(without initial.*/\1/p' <<<"$out")
  LAT[$target,$c,$mode]=$(sed -nE 's/^latency average = ([0-9.]+) ms.*/\1/p' <<<"$out")
  printf '  %-14s -c %d -M %-8s %10.1f tps %8.3f ms\n' "$target" "$c" "$mode" \
    "${TPS[$target,$c,$mode]:-0}" "${LAT[$target,$c,$mode]:-0}" >&2
}
run_all() { # target port user password
  local c mode
  for c in 1 8; do
    for mode in simple prepared; do
      if ((c == 1)); then run_pgbench "$1" "$2" "$3" "$4" 1 1 "$mode"
      else run_pgbench "$1" "$2" "$3" "$4" 8 2 "$mode"; fi
    done
  done
}

say "warden benchmark $(date -u +%FT%TZ) on $(nproc) cores, $(uname -r)"
say "commit: $(git rev-parse --short HEAD 2>/dev/null || echo none)  pgbench -S -T $SECS, scale 10, plain TCP on 127.0.0.1"
say "$(postgres --version 2>/dev/null || "$PGBIN/postgres" --version), $("$PGBOUNCER" --version 2>&1 | head -1)"
echo "running $((4 * 4)) pgbench runs of ${SECS}s ..." >&2
run_all direct "$PG_PORT" app_scram "$PW"
run_all pgbouncer "$BN_PORT" app_scram "$PW"
start_warden strict; run_all warden-strict "$WD_PORT" bench "$KEY"; stop_warden
start_warden batch;  run_all warden-batch  "$WD_PORT" bench "$KEY"; stop_warden

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
say ""
say "$(printf '%-14s %3s %-9s %10s %9s %10s %10s' target c mode tps lat_ms '/direct' '/pgbouncer')"
for target in direct pgbouncer warden-strict warden-batch; do
  for c in 1 8; do
    for mode in simple prepared; do
      t=${TPS[$target,$c,$mode]:-0} l=${LAT[$target,$c,$mode]:-0}
      rd=$(ratio "$t" "${TPS[direct,$c,$mode]:-0}")
      rb=$(ratio "$t" "${TPS[pgbouncer,$c,$mode]:-0}")
      say "$(printf '%-14s %3d %-9s %10.1f %9.3f %10s %10s' "$target" "$c" "$mode" "$t" "$l" "$rd" "$rb")"
    done
  done
done
say ""
say "added latency at 1 client (x minus direct, ms):"
for mode in simple prepared; do
  d=${LAT[direct,1,$mode]:-0}
  line=$(awk -v d="$d" -v b="${LAT[pgbouncer,1,$mode]:-0}" -v s="${LAT[warden-strict,1,$mode]:-0}" \
    -v w="${LAT[warden-batch,1,$mode]:-0}" -v m="$mode" 'BEGIN {
      ab = b - d; as = s - d; aw = w - d;
      printf "  %-8s pgbouncer %+.3f  warden-strict %+.3f  warden-batch %+.3f  warden-batch/pgbouncer %s",
        m, ab, as, aw, (ab > 0 ? sprintf("%.2f", aw / ab) : "n/a") }')
  say "$line"
done

# ---------------------------------------------------------------- a 10-rule policy on
# Every statement is classified (libpg_query, cached per normalized text) and
# walks all ten rules before the last one allows it: the worst case for a read.
POLICY_BLOCK='policy:
  default: deny
  rules:
    - { name: dba, match: { groups: [dba] }, action: allow }
    - { name: no-ddl, match: { kinds: [ddl], statements: [drop, truncate, alter] }, action: deny }
    - { name: agents-ro, match: { agents: ["cursor*", "claude*"], kinds: [write, ddl, dcl, procedural, copy_in, copy_program] }, action: deny }
    - { name: pii, match: { objects: ["public.customers", "billing.*"] }, action: review, reviewers: [dba] }
    - { name: no-dangerous, match: { flags: [dangerous_function] }, action: deny }
    - { name: no-unbounded, match: { flags: [no_where] }, action: deny }
    - { name: ops-writes, match: { groups: [ops], kinds: [read, write] }, action: allow }
    - { name: no-program, match: { kinds: [copy_program, procedural] }, action: deny }
    - { name: audit-tables, match: { objects: ["audit.*"], kinds: [write] }, action: deny }
    - { name: reads, match: { kinds: [read, transaction, set] }, action: allow }'
# Two gateways side by side (batch, one without and one with the policy), and
# runs alternated A B B A, so the ratio compares runs made under the same
# machine conditions.
PSECS=${BENCH_POLICY_SECONDS:-10}
echo "running $((4 * 4)) pgbench runs of ${PSECS}s, policy off and on alternated ..." >&2
POLICY_SAVED=$POLICY_BLOCK
POLICY_BLOCK=""; write_warden_cfg batch off nopolicy
"$WARDEN" serve -c "$W/wd-nopolicy/warden.yaml" >>"$W/wd-nopolicy/warden.log" 2>&1 &
NP_PID=$!; NP_PORT=$WD_PORT
wait_port "$NP_PORT" 15 || { echo "bench: warden (no policy) did not start" >&2; exit 1; }
WD_PORT=$(scripts/free-port.sh)
POLICY_BLOCK=$POLICY_SAVED; write_warden_cfg batch off policy
"$WARDEN" serve -c "$W/wd-policy/warden.yaml" >>"$W/wd-policy/warden.log" 2>&1 &
WD_PID=$!
wait_port "$WD_PORT" 15 || { tail -5 "$W/wd-policy/warden.log" >&2; echo "bench: warden (policy) did not start" >&2; exit 1; }
SECS_SAVED=$SECS; SECS=$PSECS
declare -A PT PL
for mode in simple prepared; do
  for c in 1 8; do
    j=$((c == 1 ? 1 : 2))
    for target in nopolicy policy policy nopolicy; do
      port=$([[ $target == policy ]] && echo "$WD_PORT" || echo "$NP_PORT")
      run_pgbench "warden-$target" "$port" bench "$KEY" "$c" "$j" "$mode"
      PT[$target,$c,$mode]=$(awk -v a="${PT[$target,$c,$mode]:-0}" -v b="${TPS[warden-$target,$c,$mode]:-0}" 'BEGIN { print a + b / 2 }')
      PL[$target,$c,$mode]=$(awk -v a="${PL[$target,$c,$mode]:-0}" -v b="${LAT[warden-$target,$c,$mode]:-0}" 'BEGIN { print a + b / 2 }')
    done
  done
done
SECS=$SECS_SAVED
stop_warden
kill -TERM "$NP_PID" 2>/dev/null || true; wait "$NP_PID" 2>/dev/null || true
POLICY_BLOCK=""
say ""
say "10-rule policy on vs off (warden batch, each statement classified and all ten rules walked;"
say "two gateways side by side, runs alternated off/on/on/off, ${PSECS}s each, means):"
for mode in simple prepared; do
  for c in 1 8; do
    on=${PT[policy,$c,$mode]} off=${PT[nopolicy,$c,$mode]}
    say "$(printf '  -c %d -M %-8s off %10.1f tps  on %10.1f tps  on/off %s' "$c" "$mode" "$off" "$on" "$(ratio "$on" "$off")")"
  done
  say "$(awk -v a="${PL[policy,1,$mode]}" -v b="${PL[nopolicy,1,$mode]}" -v m="$mode" \
    'BEGIN { printf "  1-client added latency (%s): %+.1f us", m, (a - b) * 1000 }')"
done
say "  (targets: 8-client on/off >= 0.95; 1-client added latency within 10 us)"

# ---------------------------------------------------------------- 100 sessions held for review
# Held requests wait in warden (no thread, no target work): 8 pgbench clients
# should not notice 100 of them. Same gateway, same policy, before and during.
PGPASSWORD=$PW psql -X -q "host=127.0.0.1 port=$PG_PORT dbname=app user=app_scram sslmode=disable" \
  -c "create table if not exists held_t (id int)" >/dev/null
POLICY_BLOCK='policy:
  default: allow
  rules:
    - { name: held, match: { statements: [delete], objects: ["public.held_t"] }, action: review, reviewers: [ops], timeout: 1h }'
echo "running 4 pgbench runs of ${PSECS}s without and with 100 held sessions ..." >&2
start_warden batch
SECS=$PSECS
for mode in simple prepared; do run_pgbench warden-noheld "$WD_PORT" bench "$KEY" 8 2 "$mode"; done
HELD_PIDS=()
for i in $(seq 1 100); do
  PGPASSWORD=$KEY psql -X -q "host=127.0.0.1 port=$WD_PORT dbname=app user=bench sslmode=disable" \
    -c "delete from held_t" >/dev/null 2>&1 &
  HELD_PIDS+=($!)
done
sleep 3
held=0
for p in "${HELD_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && held=$((held + 1)); done   # still waiting
for mode in simple prepared; do run_pgbench warden-held "$WD_PORT" bench "$KEY" 8 2 "$mode"; done
kill "${HELD_PIDS[@]}" 2>/dev/null || true
wait "${HELD_PIDS[@]}" 2>/dev/null || true
SECS=$SECS_SAVED
stop_warden
POLICY_BLOCK=""
say ""
say "8 pgbench clients with 100 other sessions each holding a request for review ($held held; warden batch, ${PSECS}s):"
for mode in simple prepared; do
  a=${TPS[warden-noheld,8,$mode]:-0} b=${TPS[warden-held,8,$mode]:-0}
  say "$(printf '  -M %-8s none held %10.1f tps  100 held %10.1f tps  held/none %s (target >= 0.90)' "$mode" "$a" "$b" "$(ratio "$b" "$a")")"
done

# ---------------------------------------------------------------- RSS per idle connection
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
idle_test() { # label sslmode tls_mode
  start_warden batch "$3"
  sleep 0.5
  local before after
  before=$(rss_kib "$WD_PID")
  rm -f "$W/idle.ready" "$W/idle.done"
  "$PY" - "$WD_PORT" "$KEY" "$IDLE" "$2" "$W" <<'PY' >"$W/idle.out" 2>&1 &
import os, sys, time
import psycopg
port, key, n, sslmode, w = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
conns = []
for i in range(n):
    conns.append(psycopg.connect(host="127.0.0.1", port=port, dbname="app", user="bench",
                                 password=key, sslmode=sslmode, application_name="bench-idle",
                                 autocommit=True))
conns[-1].execute("select 1")
open(os.path.join(w, "idle.ready"), "w").close()
end = time.time() + 300
while not os.path.exists(os.path.join(w, "idle.done")) and time.time() < end:
    time.sleep(0.1)
for c in conns:
    c.close()
PY
  local py=$! i
  for ((i = 0; i < 3000; i++)); do
    [[ -e "$W/idle.ready" ]] && break
    kill -0 "$py" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -e "$W/idle.ready" ]]; then
    sleep 1
    after=$(rss_kib "$WD_PID")
    say "$(awk -v b="$before" -v a="$after" -v n="$IDLE" -v l="$1" 'BEGIN {
      printf "  %-22s VmRSS %d KiB -> %d KiB with %d idle sessions: %.1f KiB per connection", l, b, a, n, (a - b) / n }')"
  else
    say "  $1: could not open $IDLE connections: $(tail -3 "$W/idle.out" | tr '\n' ' ')"
  fi
  touch "$W/idle.done"
  wait "$py" 2>/dev/null || true
  stop_warden
}
say ""
say "warden RSS per idle connection (full startup + auth, each with its own target session):"
idle_test "plain client link" disable off
idle_test "TLS client link" require auto

# ---------------------------------------------------------------- connection set-up: API key vs OIDC token
# pgbench -C opens a new connection for every transaction: the rate measures
# authentication (warden's check of the key or the token, and its own login
# to the target) end to end.
NODE_DIR=tests/node
if [[ -d "$NODE_DIR/node_modules/oidc-provider" ]]; then
  OP_PORT=$(scripts/free-port.sh)
  node "$NODE_DIR/oidc_provider.js" --port "$OP_PORT" >"$W/op.json" 2>"$W/op.log" &
  OP_PID=$!
  for _ in $(seq 1 100); do [[ -s "$W/op.json" ]] && break; sleep 0.1; done
  ISSUER=$(jq -r .issuer "$W/op.json")
  TOKEN=$(node "$NODE_DIR/oidc_token.js" --issuer "$ISSUER" --user bench --groups bench)
  OIDC_BLOCK="  oidc:
    issuer: $ISSUER
    audience: urn:warden:gateway"
  start_warden batch
  conn_rate() { # password
    PGPASSWORD=$1 pgbench -n -C -S -T "$SECS" -c 4 -j 2 "host=127.0.0.1 port=$WD_PORT dbname=app user=bench sslmode=disable" 2>&1 |
      sed -nE 's/^tps = ([0-9.]+) .*/\1/p' | head -1
  }
  key_rate=$(conn_rate "$KEY")
  tok_rate=$(conn_rate "$TOKEN")
  stop_warden
  kill "$OP_PID" 2>/dev/null; wait "$OP_PID" 2>/dev/null || true
  say ""
  say "connection set-up (pgbench -C -S -c 4, warden batch): API key ${key_rate:-0} conn/s, OIDC token (RS256) ${tok_rate:-0} conn/s: token/key $(ratio "${tok_rate:-0}" "${key_rate:-0}") (target >= 0.8)"
fi
say ""
echo "results written to $RESULTS" >&2
