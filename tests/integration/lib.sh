# shellcheck shell=bash
# tests/integration/lib.sh — sourced by every t_*.sh (bash).
#
# The runner (run.sh) exports:
#   WARDEN            the gateway binary
#   WARDEN_SANITIZED  1 for the ASan/UBSan build (use smaller loads, longer waits)
#   IT_ROOT           tests/integration (absolute)
#   IT_RUN_DIR        this run's temp dir
#   IT_OUT            the file this test's stdout/stderr goes to
#   IT_PG_DIR IT_PG_PORT IT_PG_PASSWORD IT_PG_CERT   the shared cluster
#   PGBIN             PostgreSQL client binaries (also first in PATH)
#
# A test:
#   source "$(dirname "$0")/lib.sh"
#   it_init
#   wd_new "$(conn appdb)" "$(conn restoredb database=restore)"
#   wd_start
#   wd_env; psql ... ; ok / fail / assert_* ...
#   audit_export; audit_expect_request 'select 1' alice psql
#   it_finish          # stops warden, checks logs + secrets, exits 0 or 1
# Assertions never stop the test; `die` does (and still cleans up).

set -uo pipefail

PY=/usr/bin/python3
SANITIZED=${WARDEN_SANITIZED:-0}
# Longer waits under the sanitizers.
if [[ "$SANITIZED" == 1 ]]; then WAIT_SCALE=3; else WAIT_SCALE=1; fi

# API keys of the test identities (the client-side secret is the key itself).
KEY_ALICE=wdn_it_alice_9f2c4e7a1b
KEY_BOB=wdn_it_bob_3d8e6a0c55

IT_FAILS=0
IT_CHECKS=0
IT_BG_PIDS=()
WD_PIDS=()     # every warden this test started
WD_LOGS=()

sha256_hex() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
free_port() { "$IT_ROOT/../../scripts/free-port.sh"; }

log() { printf '  .. %s\n' "$*"; }
ok() { IT_CHECKS=$((IT_CHECKS + 1)); printf '  ok   %s\n' "$*"; }
fail() {
  IT_CHECKS=$((IT_CHECKS + 1)); IT_FAILS=$((IT_FAILS + 1))
  printf '  FAIL %s\n' "$*"
}
die() {
  IT_FAILS=$((IT_FAILS + 1))
  printf '  FAIL (fatal) %s\n' "$*"
  exit 1   # the EXIT trap cleans up and reports
}

# Show a value in a failure message, cut to a readable length.
show() {
  local s=$1 max=${2:-600}
  if ((${#s} > max)); then s="${s:0:max}...[${#s} chars]"; fi
  printf '%s' "$s"
}

assert_eq() { # got want what
  if [[ "$1" == "$2" ]]; then ok "$3"; else fail "$3: expected [$(show "$2")], got [$(show "$1")]"; fi
}
assert_contains() { # haystack needle what
  if [[ "$1" == *"$2"* ]]; then ok "$3"; else fail "$3: expected to contain [$(show "$2" 200)], got [$(show "$1")]"; fi
}
assert_not_contains() { # haystack needle what  (needle is never printed: may be a secret)
  if [[ "$1" != *"$2"* ]]; then ok "$3"; else fail "$3: found a string that must not be there"; fi
}
assert_match() { # haystack ERE what
  if [[ "$1" =~ $2 ]]; then ok "$3"; else fail "$3: expected to match /$2/, got [$(show "$1")]"; fi
}
assert_rc() { # got want what
  if [[ "$1" == "$2" ]]; then ok "$3"; else fail "$3: exit status $1, expected $2"; fi
}
assert_nonzero() { # rc what
  if [[ "$1" != 0 ]]; then ok "$2"; else fail "$2: expected a non-zero exit status, got 0"; fi
}
assert_files_equal() { # a b what
  if cmp -s "$1" "$2"; then ok "$3"; else
    fail "$3: $1 and $2 differ ($(wc -c <"$1") vs $(wc -c <"$2") bytes)"
    diff <(head -c 100000 "$1") <(head -c 100000 "$2") | head -10 | sed 's/^/       /'
  fi
}

# ---------------------------------------------------------------- lifecycle
it_init() {
  IT_NAME=$(basename "$0" .sh)
  T="$IT_RUN_DIR/$IT_NAME"
  rm -rf "$T"; mkdir -p "$T"
  cd "$T" || die "cannot cd to $T"
  trap it_cleanup EXIT
  trap 'exit 130' INT TERM
  export PATH="$PGBIN:$PATH"
  unset PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGSSLMODE PGAPPNAME PGOPTIONS PGSERVICE
  echo "== $IT_NAME ($(date +%T))"
}

# Track a background process of this test (killed at the end, by pid).
bg_track() {
  IT_BG_PIDS+=("$1")
  echo "$1" >>"$IT_RUN_DIR/pids"
}

it_cleanup() {
  local rc=$?
  trap - EXIT
  local p
  for p in "${IT_BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${WD_PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then wd_stop_pid "$p" || true; fi
  done
  if ((IT_FAILS > 0)) || [[ $rc != 0 ]]; then
    local l
    for l in "${WD_LOGS[@]}"; do
      [[ -f "$l" ]] || continue
      echo "  --- warden log $l (last 80 lines) ---"
      tail -n 80 "$l" | sed 's/^/  | /'
    done
  fi
  if [[ $rc == 0 && $IT_FAILS == 0 ]]; then exit 0; fi
  exit 1
}

# Final checks; call as the last line of a test.
it_finish() {
  local p
  for p in "${WD_PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then wd_stop_pid "$p"; fi
  done
  check_no_secret
  echo "  $IT_CHECKS checks, $IT_FAILS failed"
  if ((IT_FAILS > 0)); then exit 1; fi
  exit 0
}

# The target password must appear in nothing a client printed (this test's
# output, every file the test wrote) nor in warden's logs.
check_no_secret() {
  local hits
  hits=$(grep -rlF -- "$IT_PG_PASSWORD" "$T" "$IT_OUT" 2>/dev/null | grep -v '/wd[^/]*\.log$' || true)
  if [[ -n "$hits" ]]; then
    fail "target password appears in client-visible output: $(echo $hits)"
  else
    ok "target password appears in no client output"
  fi
  hits=$(grep -lF -- "$IT_PG_PASSWORD" "${WD_LOGS[@]}" /dev/null 2>/dev/null || true)
  if [[ -n "$hits" ]]; then
    fail "target password appears in warden's log: $(echo $hits)"
  fi
}

# ---------------------------------------------------------------- config
# conn NAME [key=value ...]  -> one YAML list item for `connections:`.
# Defaults: the shared cluster, database app, user app_scram, password from
# $IT_PG_PASSWORD, sslmode prefer. key=- drops a key.
conn() {
  local name=$1; shift
  declare -A c=([type]=postgres [host]=127.0.0.1 [port]=$IT_PG_PORT [database]=app
    [user]=app_scram [password_env]=IT_PG_PASSWORD [sslmode]=prefer)
  local order=(type host port database user password_env sslmode sslrootcert)
  local kv
  for kv in "$@"; do c[${kv%%=*}]=${kv#*=}; done
  printf '  - name: %s\n' "$name"
  local k
  for k in "${order[@]}"; do
    [[ -n "${c[$k]:-}" && "${c[$k]}" != - ]] || continue
    printf '    %s: %s\n' "$k" "${c[$k]}"
  done
}

# wd_new CONN_YAML...  — a new warden instance: its own dir, free port,
# data_dir and config. Sets WD_DIR WD_PORT WD_CFG WD_LOG WD_DATA.
# $WD_EXTRA (YAML lines) is appended at top level; WD_DURABILITY (strict);
# $WD_LISTEN_EXTRA (one line) goes under listen: (e.g. "admin: 127.0.0.1:PORT").
WD_SEQ=0
wd_new() {
  WD_SEQ=$((WD_SEQ + 1))
  WD_DIR="$T/wd$WD_SEQ"
  mkdir -p "$WD_DIR"
  WD_PORT=$(free_port)
  WD_CFG="$WD_DIR/warden.yaml"
  WD_LOG="$T/wd$WD_SEQ.log"
  WD_DATA="$WD_DIR/data"
  {
    echo "data_dir: $WD_DATA"
    echo "listen:"
    echo "  postgres: 127.0.0.1:$WD_PORT"
    if [[ -n "${WD_LISTEN_EXTRA:-}" ]]; then printf '  %s\n' "$WD_LISTEN_EXTRA"; fi
    echo "workers: 2"
    echo "log_level: ${WD_LOG_LEVEL:-info}"
    echo "audit:"
    echo "  durability: ${WD_DURABILITY:-strict}"
    if [[ -n "${WD_AUDIT_EXTRA:-}" ]]; then printf '  %s\n' "$WD_AUDIT_EXTRA"; fi
    echo "tls:"
    echo "  mode: auto"
    echo "identity:"
    if [[ -n "${WD_IDENTITY_EXTRA:-}" ]]; then printf '%s\n' "$WD_IDENTITY_EXTRA"; fi
    echo "  api_keys:"
    echo "    - name: alice"
    echo "      key_sha256: \"$(sha256_hex "$KEY_ALICE")\""
    echo "      groups: [dev]"
    echo "    - name: bob"
    echo "      key_sha256: \"$(sha256_hex "$KEY_BOB")\""
    echo "      groups: [ops, dev]"
    echo "connections:"
    local c
    for c in "$@"; do printf '%s\n' "$c"; done
    if [[ -n "${WD_EXTRA:-}" ]]; then printf '%s\n' "$WD_EXTRA"; fi
  } >"$WD_CFG"
}

# Wait until 127.0.0.1:PORT accepts TCP connections (or PID dies). 0 = ready.
wait_port() { # port pid seconds
  "$PY" - "$1" "$2" "$3" <<'PY'
import os, socket, sys, time
port, pid, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
end = time.time() + secs
while time.time() < end:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit(2)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

wd_start() {
  "$WARDEN" serve -c "$WD_CFG" >>"$WD_LOG" 2>&1 &
  WD_PID=$!
  WD_PIDS+=("$WD_PID")
  [[ " ${WD_LOGS[*]} " == *" $WD_LOG "* ]] || WD_LOGS+=("$WD_LOG")
  echo "$WD_PID" >>"$IT_RUN_DIR/pids"
  eval "WD_LOG_OF_$WD_PID=\$WD_LOG"
  wait_port "$WD_PORT" "$WD_PID" $((15 * WAIT_SCALE))
  case $? in
    0) log "warden pid $WD_PID listening on 127.0.0.1:$WD_PORT" ;;
    2) wait "$WD_PID"; die "warden exited at start (status $?); see $WD_LOG" ;;
    *) die "warden did not listen on 127.0.0.1:$WD_PORT within $((15 * WAIT_SCALE))s" ;;
  esac
}

# Stop one warden: SIGTERM, wait, check exit status and sanitizer reports.
wd_stop_pid() {
  local pid=$1 log_var="WD_LOG_OF_$1" i limit=$((100 * WAIT_SCALE))
  local lf=${!log_var:-}
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < limit; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    fail "warden pid $pid did not exit within $((limit / 10))s of SIGTERM (killed)"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  local st=$?
  if [[ $st == 143 ]]; then
    fail "warden pid $pid was killed by SIGTERM (no graceful shutdown; expected exit status 0)"
  elif [[ $st != 0 ]]; then
    fail "warden pid $pid exited with status $st after SIGTERM (expected 0)"
  fi
  [[ -n "$lf" ]] && check_sanitizer "$lf"
  return 0
}
wd_stop() { wd_stop_pid "$WD_PID"; }

check_sanitizer() {
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer|WARNING: ThreadSanitizer' "$1"; then
    fail "sanitizer report in $1:"
    grep -m1 -A30 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$1" | sed 's/^/       /'
  fi
}

wd_alive() {
  if kill -0 "$WD_PID" 2>/dev/null; then ok "warden still running"; else fail "warden process died"; fi
}

# Client environment for libpq tools pointing at the current warden.
# wd_env [sslmode] [dbname] [key]
wd_env() {
  export PGHOST=127.0.0.1 PGPORT=$WD_PORT PGUSER=alice
  export PGDATABASE=${2:-appdb} PGSSLMODE=${1:-require} PGPASSWORD=${3:-$KEY_ALICE}
  export PGCONNECT_TIMEOUT=$((10 * WAIT_SCALE))
}

# key_new NAME GROUPS — creates a stored API key for NAME (groups a,b) on the
# current warden, prints it, and returns once the running gateway takes it for
# PostgreSQL logins (stored keys reach it within a second); 1 when create fails
# ($T/apikey.err says why).
key_new() {
  local key
  key=$("$WARDEN" apikey create -c "$WD_CFG" "$1" --groups "$2" 2>"$T/apikey.err") || return 1
  for _ in $(seq 1 50); do
    PGUSER=$1 PGPASSWORD=$key psql -X -At -c "select 1" >/dev/null 2>&1 && break
    sleep 0.1
  done
  printf '%s' "$key"
}

# psql straight to the shared cluster as superuser (unix socket, trust).
pg_direct() {
  env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PGPASSWORD -u PGSSLMODE -u PGAPPNAME \
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$IT_PG_DIR" -p "$IT_PG_PORT" -U postgres "$@"
}

# ---------------------------------------------------------------- audit
# audit_export [cfg] — writes $T/audit.jsonl (jsonl, one entry a line).
AUDIT_FILE=""
AUDIT_RAW=""
audit_export() {
  local cfg=${1:-$WD_CFG}
  AUDIT_FILE="$T/audit-$(basename "$(dirname "$cfg")").jsonl"
  if ! "$WARDEN" audit export -c "$cfg" --format jsonl >"$AUDIT_FILE" 2>"$AUDIT_FILE.err"; then
    fail "warden audit export -c $cfg failed: $(show "$(cat "$AUDIT_FILE.err")")"
    return 1
  fi
  if ! jq -e . "$AUDIT_FILE" >/dev/null 2>&1; then
    fail "audit export is not valid JSON Lines: $(show "$(head -c 400 "$AUDIT_FILE")")"
    return 1
  fi
  # Queries run on a copy whose statements are cut to 20000 characters (jq's
  # regex functions are slow on multi-megabyte strings); the full export stays
  # in $AUDIT_RAW.
  AUDIT_RAW=$AUDIT_FILE
  AUDIT_FILE="${AUDIT_RAW%.jsonl}.cut.jsonl"
  jq -c 'if (.statement | type) == "string" and (.statement | length) > 20000
         then .statement = .statement[0:20000] else . end' "$AUDIT_RAW" >"$AUDIT_FILE"
  log "audit export: $(wc -l <"$AUDIT_FILE") entries"
}

# audit_q JQ [jq args...] — run a jq program over the slurped export.
audit_q() {
  local prog=$1; shift
  jq -s -r "$@" "$prog" "$AUDIT_FILE"
}

# audit_count JQ_SELECT_EXPR [jq args] -> number of entries for which it holds.
audit_count() {
  local cond=$1; shift
  jq -s "$@" "[.[] | select($cond)] | length" "$AUDIT_FILE"
}

# audit_expect_request NEEDLE USER AGENT [CONNECTION] [MIN]
# At least MIN (1) request entries whose statement contains NEEDLE
# (case-insensitive) with that user, agent (and connection).
audit_expect_request() {
  local needle=$1 user=$2 agent=$3 connection=${4:-} min=${5:-1} n
  n=$(audit_count '.kind == "request" and ((.statement // "") | gsub("\\s+"; " ") | ascii_downcase | contains($n | ascii_downcase))
        and .user == $u and .agent == $a and ($c == "" or .connection == $c)' \
      --arg n "$needle" --arg u "$user" --arg a "$agent" --arg c "$connection")
  if ((n >= min)); then
    ok "audit: $n request(s) with [$(show "$needle" 60)] user=$user agent=$agent${connection:+ connection=$connection}"
  else
    local near
    near=$(audit_q '[.[] | select(.kind == "request" and ((.statement // "") | gsub("\\s+"; " ") | ascii_downcase | contains($n | ascii_downcase)))][0:3]
                    | map({user, agent, connection, statement: ((.statement // "")[0:80])}) | tostring' --arg n "$needle")
    fail "audit: expected >= $min request(s) with [$(show "$needle" 60)] user=$user agent=$agent${connection:+ connection=$connection}, found $n; same statement with any user/agent: $(show "$near" 400)"
  fi
}

# audit_expect COND WHAT [jq args] — at least one entry satisfies COND.
audit_expect() {
  local cond=$1 what=$2; shift 2
  local n
  n=$(audit_count "$cond" "$@")
  if [[ "$n" =~ ^[0-9]+$ ]] && ((n >= 1)); then ok "audit: $what ($n)"; else
    fail "audit: $what: no entry satisfies: $cond"
  fi
}

# The identity recorded must be the API key's, never the startup user alone.
audit_expect_no_foreign_users() { # allowed users (space separated)
  local bad
  bad=$(audit_q '[.[] | select(.kind != "auth_failure") | .user] | unique | map(select(. as $x | ($ok | split(" ") | index($x)) | not)) | join(",")' --arg ok "$1")
  if [[ -z "$bad" ]]; then ok "audit: only identities [$1] recorded"; else fail "audit: unexpected user names recorded: $bad"; fi
}

# ---------------------------------------------------------------- misc
# wait_file FILE SECONDS
wait_file() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do [[ -e "$1" ]] && return 0; sleep 0.1; done
  return 1
}

# A real OpenID Connect provider (tests/node/oidc_provider.js) on a free port,
# its keys kept in $T/op. Sets NODE_DIR, OP_PORT, OP_PID and ISSUER.
# op_start again after killing it restarts it on the same port with the same keys.
op_start() {
  NODE_DIR="$IT_ROOT/../node"
  [[ -d "$NODE_DIR/node_modules/oidc-provider" ]] || die "tests/node/node_modules/oidc-provider missing: run scripts/deps.sh"
  OP_PORT=${OP_PORT:-$(free_port)}
  rm -f "$T/op.json"
  node "$NODE_DIR/oidc_provider.js" --port "$OP_PORT" --state-dir "$T/op" >"$T/op.json" 2>>"$T/op.log" &
  OP_PID=$!
  bg_track "$OP_PID"
  local _
  # Node loads oidc-provider and makes its keys before the ready line: on a
  # loaded machine (the sanitizer run) that takes seconds, so wait as long as
  # the process lives, up to 30 s (90 s sanitized).
  for _ in $(seq 1 $((300 * WAIT_SCALE))); do
    [[ -s "$T/op.json" ]] && break
    kill -0 "$OP_PID" 2>/dev/null || break
    sleep 0.1
  done
  ISSUER=$(jq -r .issuer "$T/op.json" 2>/dev/null)
  if [[ "$ISSUER" != "http://127.0.0.1:$OP_PORT" ]]; then
    if kill -0 "$OP_PID" 2>/dev/null; then
      die "oidc provider did not print its ready line within $((30 * WAIT_SCALE))s: $(cat "$T/op.log")"
    fi
    die "oidc provider exited before it was ready: $(cat "$T/op.log")"
  fi
  log "oidc provider at $ISSUER"
}
