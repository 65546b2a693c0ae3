#!/usr/bin/env bash
# Bad input and failing targets: each gets a proper ErrorResponse (SQLSTATE),
# none leaks the target password, and a long-lived good session is unaffected.
source "$(dirname "$0")/lib.sh"
it_init

DOWN_PORT=$(free_port)   # nothing listens there
export IT_WRONG_PW="wrongpw_$(openssl rand -hex 6)"
WD_EXTRA=$'limits:\n  max_message_size: 1MiB\n  auth_timeout_ms: 3000'
wd_new "$(conn appdb)" \
  "$(conn downdb port=$DOWN_PORT)" \
  "$(conn badpwdb password_env=IT_WRONG_PW)"
wd_start
wd_env require
export PGAPPNAME=t70-psql

# ---- a long-lived good session, held open through everything below
"$PY" - "$WD_PORT" "$KEY_ALICE" "$T" >"$T/longlived.out" 2>&1 <<'PY' &
import os, sys, time
import psycopg
port, key, t = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = psycopg.connect(host="127.0.0.1", port=port, dbname="appdb", user="alice", password=key,
                       application_name="t70-longlived", sslmode="require", autocommit=True)
print("first:", conn.execute("select 'longlived-1'").fetchone()[0], flush=True)
open(os.path.join(t, "longlived.ready"), "w").close()
end = time.time() + 600
while not os.path.exists(os.path.join(t, "longlived.go")) and time.time() < end:
    time.sleep(0.1)
print("second:", conn.execute("select 'longlived-2'").fetchone()[0], flush=True)
print("third:", conn.execute("select %s::text", ("longlived-3",)).fetchone()[0], flush=True)
conn.close()
PY
LL_PID=$!; bg_track $LL_PID
wait_file "$T/longlived.ready" $((20 * WAIT_SCALE)) || fail "long-lived session did not start: $(cat "$T/longlived.out")"

# ---- wrong API key: psql shows the failure, the wire shows 28P01
out=$(PGPASSWORD=wdn_wrong_key_123 psql -X -c "select 'never'" 2>&1); rc=$?
assert_nonzero "$rc" "psql with a wrong API key fails"
assert_contains "$out" "FATAL" "psql shows a FATAL error for the wrong key ($(show "$out" 200))"
assert_not_contains "$out" "never" "no query ran with a wrong key"
out=$(psql -X -v VERBOSITY=verbose "host=127.0.0.1 port=$WD_PORT dbname=appdb user=alice password=wdn_wrong_key_123 sslmode=disable" -c "select 1" 2>&1)
assert_contains "$out" "failed" "psql (sslmode=disable) reports the failure"

# The raw-protocol cases: one python script, one JSON result line per case.
"$PY" - "$WD_PORT" "$KEY_ALICE" >"$T/wire.jsonl" 2>"$T/wire.err" <<'PY'
import json, socket, struct, sys, time
sys.path.insert(0, __import__("os").environ["IT_ROOT"])
import pgwire as w
port, key = int(sys.argv[1]), sys.argv[2]

def out(case, **kw):
    kw["case"] = case
    print(json.dumps(kw), flush=True)

def login_case(case, **kw):
    try:
        s, r = w.login(port, **kw)
        s.close()
        out(case, **r)
    except Exception as e:
        out(case, ok=False, exception=repr(e))

login_case("wrong_key", user="alice", database="appdb", password="wdn_wrong_key_123")
login_case("unknown_db", user="alice", database="no_such_connection", password=key)
login_case("target_down", user="alice", database="downdb", password=key)
login_case("target_badpw", user="alice", database="badpwdb", password=key)
login_case("good", user="alice", database="appdb", password=key, extra={"application_name": "t70-wire"})

# startup packet with length 3
try:
    s = w.connect(port); s.sendall(struct.pack("!i", 3))
    out("len3", error=w.read_until_error_or_close(s)); s.close()
except Exception as e:
    out("len3", exception=repr(e))

# startup packet longer than max_startup_size (10 KiB): 20000 bytes announced and sent
try:
    s = w.connect(port)
    body = struct.pack("!i", w.PROTO_V3) + b"user\0alice\0options\0" + b"x" * 19970 + b"\0\0"
    s.sendall(struct.pack("!i", 20000) + body[:19996])
    out("too_long", error=w.read_until_error_or_close(s)); s.close()
except Exception as e:
    out("too_long", exception=repr(e))

# only the length (1 MiB) announced, nothing more: rejected on the length alone
try:
    s = w.connect(port); s.sendall(struct.pack("!i", 1 << 20))
    out("too_long_header_only", error=w.read_until_error_or_close(s)); s.close()
except Exception as e:
    out("too_long_header_only", exception=repr(e))

# unknown protocol version
try:
    s = w.connect(port)
    s.sendall(w.startup_packet({"user": "alice", "database": "appdb"}, version=(9 << 16)))
    out("bad_version", error=w.read_until_error_or_close(s)); s.close()
except Exception as e:
    out("bad_version", exception=repr(e))

# GSSENCRequest -> 'N', then a normal startup on the same socket
try:
    s = w.connect(port)
    s.sendall(struct.pack("!ii", 8, w.GSSENC_REQUEST))
    answer = s.recv(1).decode(errors="replace")
    s2, r = w.login(port, user="alice", database="appdb", password=key, sock=s,
                    extra={"application_name": "t70-gssenc"})
    rows = None
    if r.get("ok"):
        rows, _ = w.simple_query(s, "select 'after-gssenc'")
    s.close()
    out("gssenc", answer=answer, login=r, rows=rows)
except Exception as e:
    out("gssenc", exception=repr(e))

# CancelRequest with a key that matches nothing: just closed, nothing breaks
try:
    s = w.connect(port)
    s.sendall(struct.pack("!iiii", 16, w.CANCEL_REQUEST, 12345, 67890))
    s.settimeout(5)
    data = s.recv(100)
    out("bogus_cancel", data=data.decode(errors="replace"))
    s.close()
except Exception as e:
    out("bogus_cancel", exception=repr(e))

# After login: a message whose length field is below 4
try:
    s, r = w.login(port, user="alice", database="appdb", password=key)
    s.sendall(b"Q" + struct.pack("!i", 2))
    out("bad_msg_len", login=r.get("ok"), error=w.read_until_error_or_close(s)); s.close()
except Exception as e:
    out("bad_msg_len", exception=repr(e))

# After login: a message larger than limits.max_message_size (1 MiB here)
try:
    s, r = w.login(port, user="alice", database="appdb", password=key)
    s.sendall(b"Q" + struct.pack("!i", 4 << 20) + b"select 1")
    out("huge_msg", login=r.get("ok"), error=w.read_until_error_or_close(s)); s.close()
except Exception as e:
    out("huge_msg", exception=repr(e))

# After login: an unknown message type
try:
    s, r = w.login(port, user="alice", database="appdb", password=key)
    s.sendall(w.msg("y", b"junk"))
    out("unknown_msg", login=r.get("ok"), error=w.read_until_error_or_close(s)); s.close()
except Exception as e:
    out("unknown_msg", exception=repr(e))

# After login: a FunctionCall whose argument's length runs past the message
try:
    s, r = w.login(port, user="alice", database="appdb", password=key)
    s.sendall(w.msg("F", struct.pack("!ihhi", 1254, 0, 1, 400) + b"abc" + struct.pack("!h", 0)))
    out("bad_fcall", login=r.get("ok"), error=w.read_until_error_or_close(s)); s.close()
except Exception as e:
    out("bad_fcall", exception=repr(e))

# Client that connects and sends nothing: closed after auth_timeout_ms (3 s here)
try:
    s = w.connect(port, timeout=30)
    t0 = time.time()
    err = w.read_until_error_or_close(s)
    out("silent", seconds=round(time.time() - t0, 1), error=err); s.close()
except Exception as e:
    out("silent", exception=repr(e))

# Half a startup packet, then the client hangs up
try:
    s = w.connect(port); s.sendall(struct.pack("!i", 40) + b"\x00\x03"); s.close()
    out("half_startup", sent=True)
except Exception as e:
    out("half_startup", exception=repr(e))
PY
rc=$?
[[ $rc == 0 ]] || fail "wire script failed: $(show "$(cat "$T/wire.err")")"
sed 's/^/  wire: /' "$T/wire.jsonl"
wire() { jq -r "select(.case == \"$1\") | $2" "$T/wire.jsonl" 2>/dev/null; }

assert_eq "$(wire wrong_key .error.C)" "28P01" "wrong API key -> 28P01"
assert_eq "$(wire wrong_key .error.S)" "FATAL" "wrong API key -> severity FATAL"
assert_eq "$(wire unknown_db .error.C)" "3D000" "unknown dbname -> 3D000"
assert_contains "$(wire unknown_db .error.M)" "no_such_connection" "3D000 message names the requested database"
assert_eq "$(wire target_down .error.C)" "08006" "target down -> 08006"
assert_eq "$(wire target_badpw .error.C)" "08004" "wrong target credential -> 08004"
m=$(wire target_badpw '.error.M + " " + (.error.D // "") + " " + (.error.H // "")')
if [[ "$m" == *badpwdb* || "$m" == *"127.0.0.1:$IT_PG_PORT"* || "$m" == *"port $IT_PG_PORT"* ]]; then
  ok "wrong target credential: message mentions the target ($(show "$m" 200))"
else
  fail "wrong target credential: message does not mention the target (connection badpwdb / 127.0.0.1:$IT_PG_PORT): [$(show "$m" 300)]"
fi
assert_not_contains "$(cat "$T/wire.jsonl")" "$IT_WRONG_PW" "the configured (wrong) target password is not echoed to the client"
assert_eq "$(wire good .ok)" "true" "good login still works"
assert_eq "$(wire len3 .error.C)" "08P01" "startup length 3 -> ErrorResponse 08P01"
assert_eq "$(wire too_long .error.C)" "08P01" "startup packet over 10 KiB -> ErrorResponse 08P01"
assert_eq "$(wire too_long_header_only .error.C)" "08P01" "startup length 1 MiB (header only) -> ErrorResponse 08P01"
assert_match "$(wire bad_version .error.C)" "^(0A000|08P01)$" "unsupported protocol version -> ErrorResponse 0A000 or 08P01"
assert_eq "$(wire gssenc .answer)" "N" "GSSENCRequest answered 'N'"
assert_eq "$(wire gssenc '.rows | tostring')" '[["after-gssenc"]]' "startup after a refused GSSENCRequest works"
assert_eq "$(wire bogus_cancel '.data // .exception')" "" "bogus CancelRequest: closed without a reply"
assert_eq "$(wire bad_msg_len .error.C)" "08P01" "message length < 4 after login -> 08P01"
assert_match "$(wire huge_msg '.error.C // "closed"')" "^(08P01|54000|closed)$" "message over max_message_size -> refused ($(wire huge_msg '.error.C // "closed"'))"
assert_eq "$(wire unknown_msg .error.C)" "08P01" "unknown message type -> 08P01"
assert_eq "$(wire bad_fcall .error.C)" "08P01" "a FunctionCall whose argument runs past the message -> 08P01"
assert_eq "$(wire bad_fcall .error.M)" "invalid frontend message: malformed FunctionCall" "the malformed FunctionCall: a precise message"
s=$(wire silent .seconds)
if [[ "$s" =~ ^[0-9.]+$ ]] && awk -v s="$s" -v lim=$((10 * WAIT_SCALE)) 'BEGIN{exit !(s < lim)}'; then
  ok "silent client closed after ${s}s (auth_timeout_ms 3000)"
else
  fail "silent client not closed within $((10 * WAIT_SCALE))s ($(wire silent tostring))"
fi

# ---- the same failures as psql sees them (message text, and no secret in it)
out=$(psql -X -d no_such_connection -c "select 1" 2>&1); rc=$?
assert_nonzero "$rc" "psql: unknown dbname fails"
assert_contains "$out" "no_such_connection" "psql: unknown dbname message names it ($(show "$out" 200))"
out=$(psql -X -d downdb -c "select 1" 2>&1); rc=$?
assert_nonzero "$rc" "psql: target down fails"
out=$(psql -X -d badpwdb -c "select 1" 2>&1); rc=$?
assert_nonzero "$rc" "psql: wrong target credential fails ($(show "$out" 300))"
assert_not_contains "$out" "$IT_WRONG_PW" "psql: configured target password not in the client error"
assert_not_contains "$out" "$IT_PG_PASSWORD" "psql: real target password not in the client error"

# ---- the target ends the session (pg_terminate_backend): the client gets an error
"$PY" - "$WD_PORT" "$KEY_ALICE" "$T" >"$T/terminated.out" 2>&1 <<'PY' &
import os, sys, time
import psycopg
port, key, t = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = psycopg.connect(host="127.0.0.1", port=port, dbname="appdb", user="alice", password=key,
                       application_name="t70-terminated", sslmode="require", autocommit=True)
pid = conn.execute("select pg_backend_pid()").fetchone()[0]
open(os.path.join(t, "terminated.pid"), "w").write(str(pid))
while not os.path.exists(os.path.join(t, "terminated.go")):
    time.sleep(0.05)
try:
    conn.execute("select 'after-terminate'")
    print("NO-ERROR")
except psycopg.Error as e:
    print("ERROR", type(e).__name__, getattr(e, "sqlstate", None), str(e).splitlines()[0] if str(e) else "")
PY
TPID=$!; bg_track $TPID
if wait_file "$T/terminated.pid" $((10 * WAIT_SCALE)); then
  pg_direct -d postgres -At -c "select pg_terminate_backend($(cat "$T/terminated.pid"))" >/dev/null
  sleep 0.5
  touch "$T/terminated.go"
  wait $TPID
  out=$(cat "$T/terminated.out")
  assert_match "$out" "^ERROR (AdminShutdown 57P01|OperationalError)" "target backend terminated: the client gets an error ($(show "$out" 200))"
else
  fail "session for the terminate test did not start: $(cat "$T/terminated.out")"
fi

# ---- the client vanishes while a statement runs: once the statement ends, its
# target session ends too (warden does not keep orphaned target sessions)
psql -X -At -c "select pg_sleep(4), 't70-vanish'" >/dev/null 2>&1 &
VPID=$!; bg_track $VPID
n=0
for ((i = 0; i < 50 * WAIT_SCALE; i++)); do
  n=$(pg_direct -d postgres -At -c "select count(*) from pg_stat_activity where query like '%t70-vanish%' and pid <> pg_backend_pid()")
  [[ "$n" == 1 ]] && break
  sleep 0.1
done
assert_eq "$n" "1" "the long statement runs on the target"
kill -KILL $VPID; wait $VPID 2>/dev/null
for ((i = 0; i < 100 * WAIT_SCALE; i++)); do
  n=$(pg_direct -d postgres -At -c "select count(*) from pg_stat_activity where query like '%t70-vanish%' and pid <> pg_backend_pid()")
  [[ "$n" == 0 ]] && break
  sleep 0.1
done
assert_eq "$n" "0" "after the client vanished, its target session is gone when the statement ends (within $((10 * WAIT_SCALE))s)"

# ---- everything still works
out=$(psql -X -At -c "select 'still-serving'" 2>&1)
assert_eq "$out" "still-serving" "a new session works after the bad input"
touch "$T/longlived.go"
wait $LL_PID; rc=$?
assert_rc "$rc" 0 "long-lived session process"
ll=$(cat "$T/longlived.out")
assert_contains "$ll" "second: longlived-2" "long-lived session still works after the bad input"
assert_contains "$ll" "third: longlived-3" "long-lived session: parameterised query after the bad input"

wd_alive
wd_stop
audit_export || it_finish
audit_expect '.kind == "auth_failure"' "auth_failure entry for the wrong key"
audit_expect '.kind == "auth_failure" and (.reason // "") != ""' "auth_failure has a reason"
audit_expect_request "select 'longlived-2'" alice t70-longlived appdb
audit_expect_request "select 'still-serving'" alice t70-psql appdb
audit_expect_request "select 'after-gssenc'" alice t70-gssenc appdb
n=$(audit_count '.kind == "request" and .statement == "select '"'"'never'"'"'"')
assert_eq "$n" "0" "nothing recorded as a request for the wrong-key session"
assert_not_contains "$(cat "$AUDIT_RAW")" "wdn_wrong_key_123" "the wrong API key itself is not stored in the audit"
assert_not_contains "$(cat "$AUDIT_RAW")" "$IT_WRONG_PW" "no target password in the audit"
audit_expect_no_foreign_users "alice"
it_finish
