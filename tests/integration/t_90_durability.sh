#!/usr/bin/env bash
# Audit durability: in strict mode a statement's record is durable before the
# statement reaches the target (a SIGKILL right after loses nothing); in batch
# mode a graceful stop (SIGTERM) flushes every record.
source "$(dirname "$0")/lib.sh"
it_init

if [[ "$SANITIZED" == 1 ]]; then N=30; else N=200; fi

# ---- strict + SIGKILL
WD_DURABILITY=strict wd_new "$(conn appdb)"
STRICT_CFG=$WD_CFG
wd_start
wd_env disable
export PGAPPNAME=t90-strict
out=$(for i in $(seq 1 "$N"); do echo "select 'strict-$i';"; done | psql -X -q -At 2>&1 | tail -1)
assert_eq "$out" "strict-$N" "$N statements through warden (strict)"
# A statement with a side effect on the target: if it ran, its record must exist.
psql -X -q -c "create table if not exists t90 (v text)" -c "insert into t90 values ('t90-marker-$$')" >/dev/null 2>&1
kill -KILL "$WD_PID"; wait "$WD_PID" 2>/dev/null
WD_PIDS=()   # already gone
n=$(pg_direct -d app -At -c "select count(*) from t90 where v = 't90-marker-$$'")
assert_eq "$n" "1" "the marker insert reached the target"
audit_export "$STRICT_CFG" || it_finish
n=$(audit_count '.kind == "request" and ((.statement // "") | startswith("select '"'"'strict-"))')
assert_eq "$n" "$N" "strict: all $N statements recorded after SIGKILL"
audit_expect_request "insert into t90 values ('t90-marker-$$')" alice t90-strict appdb

# The store is still usable after the crash: start again on the same data_dir.
wd_start
out=$(psql -X -At -c "select 'after-crash'" 2>&1)
assert_eq "$out" "after-crash" "warden restarts on the crashed audit store"
wd_stop
audit_export "$STRICT_CFG" || it_finish
audit_expect_request "select 'after-crash'" alice t90-strict appdb
n=$(audit_q '[.[] | .id] | (length == (unique | length))')
assert_eq "$n" "true" "audit ids are unique across the restart"

# ---- many concurrent sessions (threads), each with its own queries
if [[ "$SANITIZED" == 1 ]]; then NCONN=30; else NCONN=150; fi
wd_start
out=$("$PY" - "$WD_PORT" "$KEY_ALICE" "$NCONN" 2>&1 <<'PY'
import sys, threading
import psycopg
port, key, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
errors = []
def worker(k):
    try:
        with psycopg.connect(host="127.0.0.1", port=port, dbname="appdb", user="alice", password=key,
                             application_name="t90-many", sslmode="require" if k % 2 else "disable",
                             connect_timeout=60) as c:
            for i in range(10):
                v = c.execute("select %s::int * 2, pg_backend_pid()", (k * 100 + i,)).fetchone()[0]
                if v != 2 * (k * 100 + i):
                    errors.append(f"session {k}: wrong answer {v}")
    except Exception as e:
        errors.append(f"session {k}: {e!r}")
ts = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print("ERRORS", len(errors))
for e in errors[:5]: print(e)
PY
)
assert_eq "$(head -1 <<<"$out")" "ERRORS 0" "$NCONN concurrent sessions x 10 queries, each gets its own answers ($(show "$out" 300))"
wd_stop
audit_export "$STRICT_CFG" || it_finish
n=$(audit_count '.kind == "request" and .agent == "t90-many" and ((.statement // "") | startswith("select $1::int * 2"))')
assert_eq "$n" "$((NCONN * 10))" "all $((NCONN * 10)) statements of the concurrent sessions recorded"
n=$(audit_q '[.[] | select(.agent == "t90-many" and .kind == "request")] | group_by(.session) | map(map(.seq) | . == sort) | all')
assert_eq "$n" "true" "per-session seq numbers increase in id order"

# ---- batch + SIGTERM with concurrent sessions
WD_DURABILITY=batch wd_new "$(conn appdb)"
BATCH_CFG=$WD_CFG
wd_start
wd_env disable
export PGAPPNAME=t90-batch
pids=()
for c in 1 2 3 4; do
  (for i in $(seq 1 "$N"); do echo "select 'batch-$c-$i';"; done | psql -X -q -At >/dev/null 2>&1) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
wd_stop
audit_export "$BATCH_CFG" || it_finish
n=$(audit_count '.kind == "request" and ((.statement // "") | startswith("select '"'"'batch-"))')
assert_eq "$n" "$((4 * N))" "batch: all $((4 * N)) statements of 4 concurrent sessions recorded after SIGTERM"
n=$(audit_count '.kind == "result" and ((.command_tag // "") == "SELECT 1")')
if ((n >= 4 * N)); then ok "batch: results recorded ($n)"; else fail "batch: $n result entries with SELECT 1, expected >= $((4 * N))"; fi
n=$(audit_q '[.[] | .id] | (. == sort)')
assert_eq "$n" "true" "export is in id order"
audit_expect_no_foreign_users "alice"

# ---- batch: extended-protocol units the scan stops inside of
# An Execute whose rows are masked and that the client did not describe gets a
# Describe sent ahead of it; a denied Execute gets a stand-in. The scan stops
# after either; in batch mode no record's callback resumes it, so the rest of
# the unit (its Sync) must be scanned there and then, or the client waits forever.
WD_DURABILITY=batch WD_EXTRA='masking:
  profiles:
    - { name: pii, detectors: [email] }
policy:
  rules:
    - { name: no-drop, match: { kinds: [ddl] }, action: deny }
    - { name: masked, match: {}, action: allow, mask: pii }' wd_new "$(conn appdb)"
wd_start
out=$(timeout $((60 * WAIT_SCALE)) "$PY" - "$IT_ROOT" "$WD_PORT" "$KEY_ALICE" "$N" 2>&1 <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[1])
import pgwire
from pgwire import msg, read_msg
port, key, n = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s, res = pgwire.login(port, "alice", "appdb", key, extra={"application_name": "t90-units"})
assert res["ok"], res
def cstr(b): return b + b"\0"
def unit(sql):  # Parse, Bind, Execute, Sync: no Describe
    return (msg("P", cstr(b"") + cstr(sql) + struct.pack("!h", 0)) + msg("B", cstr(b"") + cstr(b"") + struct.pack("!hhh", 0, 0, 0))
            + msg("E", cstr(b"") + struct.pack("!i", 0)) + msg("S"))
def answers(k):
    got = []
    while len(got) < k:
        t, p = read_msg(s)
        if t == "D":
            got.append(p[6:].decode())
        elif t == "E":
            got.append("E" + pgwire.parse_fields(p)["C"])
        elif t == "Z":
            got.append("Z")
    return got
s.sendall(unit(b"select 'mail x@y.org'"))
print("masked:", answers(2))
s.sendall(unit(b"drop table if exists t90_none"))
print("denied:", answers(2))
# n units in one write: each stops the scan once
s.sendall(b"".join(unit(b"select 'u%d'" % i) for i in range(n)))
got = answers(2 * n)
print("pipelined:", sum(1 for g in got if g == "Z"), "ready,", sum(1 for g in got if g.startswith("u")), "rows")
PY
)
echo "$out" | sed 's/^/    /'
assert_contains "$out" "masked: ['mail ****', 'Z']" "batch: an undescribed Execute with masked rows is answered (Describe sent ahead)"
assert_contains "$out" "denied: ['E42501', 'Z']" "batch: a denied Execute is answered (its stand-in fails, Sync answered)"
assert_contains "$out" "pipelined: $N ready, $N rows" "batch: $N such units in one write are all answered"
wd_stop
it_finish
