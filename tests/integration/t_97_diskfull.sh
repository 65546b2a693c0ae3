#!/usr/bin/env bash
# Fail-closed on a full disk: warden's data_dir is a small tmpfs. Once it is
# full and the audit store cannot commit, statements are refused with SQLSTATE
# 58030 and do not reach the target; warden keeps running, every session gets
# the same prompt error, and the log names the cause. Once space is freed,
# statements work again within seconds (no restart), are recorded, and the
# log verifies.
source "$(dirname "$0")/lib.sh"
it_init

wd_new "$(conn appdb)"
MNT=$WD_DATA
MOUNTED=0
t97_cleanup() {
  local rc=$? p
  # warden holds files on the tmpfs: stop it before unmounting
  for p in "${WD_PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then wd_stop_pid "$p" || true; fi
  done
  WD_PIDS=()
  if ((MOUNTED)); then
    umount "$MNT" 2>/dev/null || umount -l "$MNT" || echo "  t_97: could not unmount $MNT"
  fi
  (exit "$rc"); it_cleanup
}
trap t97_cleanup EXIT

mkdir -p "$MNT"
if ! err=$(mount -t tmpfs -o size=4m,mode=0700 tmpfs "$MNT" 2>&1); then
  echo "  SKIP t_97: cannot mount a tmpfs on $MNT (needs root / CAP_SYS_ADMIN): $err"
  exit 0
fi
MOUNTED=1
log "data_dir $MNT is a 4 MiB tmpfs"

pg_direct -d app -c "set client_min_messages to warning; drop table if exists t97;
                     create table t97 (v text primary key, pad text); grant all on t97 to app_scram" ||
  die "cannot create t97 on the target"
wd_start

# The client side, in one process so sessions live across the phases. Every
# client call runs under a deadline; a call that does not return in time is
# reported as a hang (and ends the script). Facts go to stdout as JSON.
cat >"$T/t97.py" <<'PY'
import errno, json, os, sys, threading, time
import psycopg
port, key, scale, data_dir, pgdir, pgport, wd_pid = (
    int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7]))
F = {"refused_values": []}
PAD = "x" * 16384          # every insert the same size: each needs new pages in the store
CALL_SECS = 15 * scale

def out():
    print(json.dumps(F), flush=True)

def call(what, fn):
    """fn() under a deadline: ("ok", value, secs) or ("err", (sqlstate, message, type), secs)."""
    res = {}
    def run():
        try:
            res["r"] = ("ok", fn())
        except psycopg.Error as e:
            res["r"] = ("err", (e.sqlstate, str(e).strip(), type(e).__name__))
        except Exception as e:
            res["r"] = ("err", (None, repr(e), type(e).__name__))
    t0 = time.time()
    th = threading.Thread(target=run, daemon=True)
    th.start()
    th.join(CALL_SECS)
    secs = round(time.time() - t0, 3)
    if th.is_alive():
        F["hang"] = "%s did not return within %ds" % (what, CALL_SECS)
        out()
        os._exit(3)
    kind, v = res["r"]
    return kind, v, secs

def connect(tag):
    return psycopg.connect(host="127.0.0.1", port=port, dbname="appdb", user="alice", password=key,
                           application_name="t97-" + tag, sslmode="disable", autocommit=True,
                           connect_timeout=10 * scale)

def insert(conn, v):
    return lambda: conn.execute("insert into t97 (v, pad) values (%s, %s)", (v, PAD)).statusmessage

def fact(kind, v, secs):
    if kind == "ok":
        return {"ok": True, "value": v, "secs": secs}
    return {"ok": False, "sqlstate": v[0], "message": v[1], "type": v[2], "secs": secs}

def alive():
    try:
        os.kill(wd_pid, 0)
        return True
    except ProcessLookupError:
        return False

# -- before: two sessions, a few statements
A = call("connect A", lambda: connect("a"))
B = call("connect B", lambda: connect("b"))
if A[0] != "ok" or B[0] != "ok":
    F["setup_error"] = repr((A, B)); out(); sys.exit(1)
A, B = A[1], B[1]
F["pre_ok"] = sum(1 for i in range(5) if call("pre insert", insert(A, "pre-%d" % i))[0] == "ok")
F["pre_select"] = fact(*call("pre select", lambda: B.execute("select 'b-before'").fetchone()[0]))

# -- fill the tmpfs
filler = os.path.join(data_dir, "filler")
written = 0
with open(filler, "wb", buffering=0) as f:
    for chunk in (1 << 16, 4096, 512):
        blk = b"\0" * chunk
        while True:
            try:
                n = f.write(blk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
            written += n
            if n < chunk:
                break
    try:
        os.fsync(f.fileno())
    except OSError:
        pass
F["filler_bytes"] = written
st = os.statvfs(data_dir)
F["free_after_fill"] = st.f_bavail * st.f_frsize

# -- insert in session A until the first refusal (the store may absorb a few commits)
deadline = time.time() + 60 * scale
n_ok = 0
first = None
i = 0
while time.time() < deadline:
    i += 1
    v = "fill-%d" % i
    k, r, secs = call("fill insert", insert(A, v))
    if k == "ok":
        n_ok += 1
        continue
    first = fact(k, r, secs)
    F["refused_values"].append(v)
    break
F["ok_after_fill"] = n_ok
F["first_refusal"] = first
if first is None:
    out(); sys.exit(0)

# -- after the first refusal: every session, old and new, gets the same error
checks = {}
v = "marker-a"; checks["a_insert"] = fact(*call("A marker", insert(A, v))); F["refused_values"].append(v)
v = "marker-b"; checks["b_insert"] = fact(*call("B marker", insert(B, v))); F["refused_values"].append(v)
checks["b_select"] = fact(*call("B select", lambda: B.execute("select 'b-during'").fetchone()[0]))
k, C, secs = call("connect C", lambda: connect("c"))
checks["c_connect"] = {"ok": k == "ok", "secs": secs, "detail": None if k == "ok" else str(C)}
if k == "ok":
    v = "marker-c"; checks["c_insert"] = fact(*call("C marker", insert(C, v))); F["refused_values"].append(v)
# four more sessions at once
par = {}
def par_one(j):
    try:
        c = connect("p%d" % j)
    except Exception as e:
        par[j] = {"ok": None, "connect_error": repr(e)}
        return
    par[j] = fact(*call("P%d marker" % j, insert(c, "marker-p%d" % j)))
    c.close()
ths = [threading.Thread(target=par_one, args=(j,)) for j in range(4)]
t0 = time.time()
for t in ths: t.start()
for t in ths: t.join(CALL_SECS * 2)
if any(t.is_alive() for t in ths):
    F["hang"] = "parallel sessions did not finish within %ds" % (CALL_SECS * 2); out(); os._exit(3)
for j in range(4):
    checks["p%d_insert" % j] = par[j]
    F["refused_values"].append("marker-p%d" % j)
F["during"] = checks
F["alive_during"] = alive()
# session A is still usable (gets the error again, no protocol breakage)
F["a_again"] = fact(*call("A again", insert(A, "marker-a2"))); F["refused_values"].append("marker-a2")
# still refused after warden's retries (every 500 ms) have run against the full disk
late = []
for j in range(3):
    time.sleep(0.7)
    v = "marker-late-%d" % j
    late.append(fact(*call("late marker", insert(A if j % 2 == 0 else B, v))))
    F["refused_values"].append(v)
F["late"] = late

# what reached the target, straight from PostgreSQL, while the disk is still full
with psycopg.connect(host=pgdir, port=pgport, dbname="app", user="postgres", autocommit=True) as d:
    F["target_has"] = [r[0] for r in d.execute("select v from t97 where v = any(%s) order by v",
                                                (F["refused_values"],)).fetchall()]

# -- free the space: statements work again without a restart
os.unlink(filler)
t0 = time.time()
deadline = t0 + 10 * scale
rec = None
tries = 0
while time.time() < deadline:
    tries += 1
    k, r, secs = call("recovery insert", insert(A, "recovered-a"))
    if k == "ok":
        rec = fact(k, r, secs)
        break
    last = fact(k, r, secs)
    time.sleep(0.2)
F["recovered_after_secs"] = round(time.time() - t0, 3) if rec else None
F["recovery_tries"] = tries
F["recovery_last_error"] = None if rec else last
F["after"] = {
    "b_insert": fact(*call("B after", insert(B, "recovered-b"))),
}
k, C2, secs = call("connect D", lambda: connect("d"))
if k == "ok":
    F["after"]["d_insert"] = fact(*call("D after", insert(C2, "recovered-d")))
    C2.close()
else:
    F["after"]["d_insert"] = {"ok": False, "message": str(C2)}
F["alive_after"] = alive()
A.close(); B.close()
out()
PY

out=$(PYTHONUNBUFFERED=1 timeout $((240 * WAIT_SCALE)) "$PY" "$T/t97.py" "$WD_PORT" "$KEY_ALICE" "$WAIT_SCALE" \
        "$MNT" "$IT_PG_DIR" "$IT_PG_PORT" "$WD_PID" 2>"$T/t97.err"); rc=$?
F=$(tail -1 <<<"$out")
log "client facts: $(show "$F" 3000)"
[[ -s "$T/t97.err" ]] && log "client stderr: $(show "$(cat "$T/t97.err")" 1000)"
assert_rc "$rc" 0 "client script ran to the end"
if ! jq -e . >/dev/null 2>&1 <<<"$F"; then die "client script printed no facts"; fi
f() { jq -r "$1" <<<"$F"; }

assert_eq "$(f '.hang // "none"')" none "no client call hung"
assert_eq "$(f .pre_ok)" 5 "before the fill: 5 inserts through warden"
assert_eq "$(f .pre_select.value)" b-before "before the fill: a second session works"
log "filler: $(f .filler_bytes) bytes, $(f .free_after_fill) bytes left; $(f .ok_after_fill) inserts committed after the fill"
assert_eq "$(f .free_after_fill)" 0 "the tmpfs is full"
assert_eq "$(f '.first_refusal.ok')" false "inserts are refused once the store cannot commit"
assert_eq "$(f '.first_refusal.sqlstate')" 58030 "the refusal is SQLSTATE 58030"
assert_contains "$(f '.first_refusal.message')" "the audit trail is unavailable" "the refusal says why"
for s in a_insert b_insert b_select c_insert p0_insert p1_insert p2_insert p3_insert; do
  assert_eq "$(f ".during.$s.sqlstate")" 58030 "during: $s refused with 58030 ($(f ".during.$s | {ok, value, message, secs} | tostring"))"
  secs=$(f ".during.$s.secs // 99")
  if awk -v s="$secs" -v m=$((5 * WAIT_SCALE)) 'BEGIN { exit !(s < m) }'; then
    ok "during: $s answered promptly (${secs}s)"
  else
    fail "during: $s took ${secs}s (expected a prompt error)"
  fi
done
assert_eq "$(f .during.c_connect.ok)" true "during: a new session can still log in"
assert_eq "$(f .alive_during)" true "during: warden still running"
assert_eq "$(f .a_again.sqlstate)" 58030 "during: the refused session stays usable (58030 again)"
assert_eq "$(f '[.late[].sqlstate] | join(",")')" "58030,58030,58030" \
  "during: still refused after warden's retries against the full disk ($(f '.late | map({ok, value, secs}) | tostring'))"
assert_eq "$(f '.target_has | length')" 0 "no refused statement reached the target (seen: $(f '.target_has | join(",")'))"

assert_eq "$(f '.recovered_after_secs != null')" true \
  "after freeing space: statements work again without a restart (last error: $(f '.recovery_last_error | tostring'))"
log "recovered after $(f .recovered_after_secs)s, $(f .recovery_tries) tries"
assert_eq "$(f .after.b_insert.ok)" true "after: the other old session works again ($(f '.after.b_insert | tostring'))"
assert_eq "$(f .after.d_insert.ok)" true "after: a new session works ($(f '.after.d_insert | tostring'))"
assert_eq "$(f .alive_after)" true "after: warden still running"
wd_alive

# the target, once more after recovery: refused values never arrive later
refused=$(f '.refused_values | map("'"'"'" + . + "'"'"'") | join(",")')
n=$(pg_direct -d app -At -c "select count(*) from t97 where v in ($refused)")
assert_eq "$n" 0 "after recovery: still no refused statement in the target"
n=$(pg_direct -d app -At -c "select count(*) from t97 where v in ('recovered-a', 'recovered-b', 'recovered-d')")
assert_eq "$n" 3 "after recovery: the new inserts reached the target"

wdlog=$(cat "$WD_LOG")
assert_match "$wdlog" "audit: cannot commit [0-9]+ entries to [^ ]*audit\.db: [^;]*(disk is full|No space|full)" \
  "warden's log names the cause (the store is full)"
assert_contains "$wdlog" "writable again" "warden's log says when the store is writable again"
grep -E "audit: cannot commit|writable again|entries .*lost" "$WD_LOG" | head -5 | sed 's/^/       log: /'

wd_stop
out=$("$WARDEN" audit verify -c "$WD_CFG" 2>&1); rc=$?
assert_rc "$rc" 0 "audit verify passes after the full disk ($(show "$out" 300))"
audit_export || it_finish
for v in pre-0 pre-4 recovered-a recovered-b recovered-d; do
  n=$(audit_count '.kind == "request" and ((.statement // "") | startswith("insert into t97")) and ((.params // []) | index($v))' --arg v "$v")
  if [[ "$n" =~ ^[1-9] ]]; then ok "audit: the insert of $v is recorded"; else fail "audit: no request recorded for the insert of $v"; fi
done
# every row in the target was recorded (nothing was forwarded unrecorded)
pg_direct -d app -At -c "select v from t97 order by v" >"$T/target.txt"
missing=$(jq -r -s --rawfile t "$T/target.txt" '
  ([.[] | select(.kind == "request" and ((.statement // "") | startswith("insert into t97"))) | .params[0]]) as $rec
  | [$t | split("\n")[] | select(length > 0) | select(. as $v | $rec | index($v) | not)] | join(",")' "$AUDIT_FILE")
assert_eq "$missing" "" "every row in the target has a recorded request"
n=$(audit_q '[.[] | .id] | (length == (unique | length))')
assert_eq "$n" true "entry ids are unique"
audit_expect_no_foreign_users "alice"
it_finish
