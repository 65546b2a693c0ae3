#!/usr/bin/env bash
# Just-in-time approval: a statement under a review rule is held (the client
# waits, other sessions run) until reviewers decide through the admin API:
# approve (the statement runs and its result reaches the client), deny (42501
# with the reason), timeout, client cancel, client disconnect, four eyes,
# non-reviewers, two approvers, duration grants used then revoked; psycopg in
# the extended protocol and inside a transaction; a webhook receiver checks
# the HMAC; the audit trail has every step.
source "$(dirname "$0")/lib.sh"
it_init

NODE_DIR="$IT_ROOT/../node"
ADMIN_PORT=$(free_port)
HOOK_OUT="$T/hooks.jsonl"
export IT_HOOK_SECRET=hook-secret-$RANDOM
node "$NODE_DIR/webhook_receiver.js" --port 0 --out "$HOOK_OUT" --secret "$IT_HOOK_SECRET" >"$T/hook.json" 2>"$T/hook.log" &
HOOK_PID=$!
bg_track "$HOOK_PID"
for _ in $(seq 1 100); do [[ -s "$T/hook.json" ]] && break; sleep 0.1; done
HOOK_PORT=$(jq -r .port "$T/hook.json")
[[ "$HOOK_PORT" =~ ^[0-9]+$ ]] || die "webhook receiver did not start: $(cat "$T/hook.log")"

export WD_LISTEN_EXTRA="admin: 127.0.0.1:$ADMIN_PORT"
WD_EXTRA="notify:
  review_url: https://127.0.0.1:$ADMIN_PORT/v1/reviews/{id}
  webhooks:
    - url: http://127.0.0.1:$HOOK_PORT/hook
      format: json
      secret_env: IT_HOOK_SECRET
    - url: http://127.0.0.1:$HOOK_PORT/slack
      format: slack
masking:
  profiles:
    - name: pii
      detectors: [email]
      columns: [\"*.secret*\"]
policy:
  default: deny
  rules:
    - name: setup
      match: { users: [bob], agents: [setup] }
      action: allow
    - name: masked-changes
      match: { agents: [masked-agent], objects: [\"public.t93_people\"] }
      action: review
      reviewers: [ops]
    - name: masked-no-ddl
      match: { agents: [masked-agent], kinds: [write] }
      action: deny
    - name: masked-reads
      match: { agents: [masked-agent] }
      action: allow
      mask: pii
    - name: orders-delete
      match: { statements: [delete], objects: [\"public.t93_orders\"] }
      action: review
      reviewers: [ops]
      timeout: 60s
      grant: duration
      max_duration: 1h
    - name: quick-expiry
      match: { statements: [delete], objects: [\"public.t93_scratch\"] }
      action: review
      reviewers: [ops]
      timeout: 2s
    - name: two-approvers
      match: { statements: [truncate] }
      action: review
      reviewers: [ops]
      approvals: 2
    - name: role-change
      match: { kinds: [dcl] }
      action: review
      reviewers: [ops]
    - name: everything-else
      match: { kinds: [read, write, transaction, set] }
      action: allow"
export WD_EXTRA
wd_new "$(conn appdb)"
wd_start
wd_env disable
GW="https://127.0.0.1:$ADMIN_PORT"
KEY_CAROL=$("$WARDEN" apikey create -c "$WD_CFG" carol --groups ops 2>/dev/null)
KEY_ERIN=$("$WARDEN" apikey create -c "$WD_CFG" erin --groups dev 2>/dev/null)
# stored keys reach the running gateway within a second
for _ in $(seq 1 50); do
  WARDEN_TOKEN=$KEY_ERIN "$WARDEN" whoami --gateway "$GW" --insecure >/dev/null 2>&1 &&
    WARDEN_TOKEN=$KEY_CAROL "$WARDEN" whoami --gateway "$GW" --insecure >/dev/null 2>&1 && break
  sleep 0.1
done
wd_review() { # as KEY, args...
  local key=$1; shift
  WARDEN_TOKEN=$key "$WARDEN" review "$@" --gateway "$GW" --insecure
}
wd_grant() { local key=$1; shift; WARDEN_TOKEN=$key "$WARDEN" grant "$@" --gateway "$GW" --insecure; }
# Waits for a pending review visible to bob; prints its id.
pending_id() {
  local i id
  for i in $(seq 1 $((100 * WAIT_SCALE))); do
    id=$(wd_review "$KEY_BOB" list --json 2>/dev/null | jq -r '.[0].id // empty')
    [[ -n "$id" ]] && { echo "$id"; return 0; }
    sleep 0.1
  done
  return 1
}
orders() { pg_direct -d app -At -c "select coalesce(string_agg(id::text, ',' order by id), '') from t93_orders"; }

PGUSER=bob PGPASSWORD=$KEY_BOB PGAPPNAME=setup psql -X -q -v ON_ERROR_STOP=1 \
  -c "drop table if exists t93_orders, t93_scratch" \
  -c "create table t93_orders (id int primary key, item text)" \
  -c "insert into t93_orders select g, 'item-' || g from generate_series(1, 9) g" \
  -c "create table t93_scratch (id int)" -c "insert into t93_scratch values (1)" \
  -c "drop table if exists t93_people" -c "create table t93_people (id int, email text, secret_code text)" \
  -c "insert into t93_people values (1, 'ann.t93@example.com', 'Sesame-t93-Code')"
assert_rc $? 0 "setup through the gateway"

# the admin API wants a credential
out=$(curl -sk "$GW/v1/reviews" -w ' %{http_code}')
assert_contains "$out" '"error":"unauthorized"' "admin API without a credential: 401 JSON"
assert_contains "$out" " 401" "admin API without a credential: status 401"
out=$(curl -sk -H "Authorization: Bearer wdn_nope" "$GW/v1/reviews" -w ' %{http_code}')
assert_contains "$out" "invalid API key or token" "admin API with a bad key: precise message"
out=$(WARDEN_TOKEN=$KEY_BOB "$WARDEN" review list --gateway "$GW" --insecure 2>&1)
assert_contains "$out" "no pending reviews" "review list: nothing pending yet"

# 1. approve: the held DELETE runs and its result reaches psql; other sessions run meanwhile
(PGAPPNAME=claude-code psql -X -At -c "delete from t93_orders where id = 1 returning item" >"$T/a1.out" 2>&1) &
P1=$!
ID=$(pending_id) || die "no pending review appeared"
ok "a DELETE on t93_orders is held for review $ID"
sleep 0.3
kill -0 "$P1" 2>/dev/null && ok "psql is still waiting" || fail "psql returned before the review was decided: $(cat "$T/a1.out")"
out=$(PGUSER=bob PGPASSWORD=$KEY_BOB psql -X -At -c "select count(*) from t93_orders" 2>&1)
assert_eq "$out" "9" "another session runs while the review is pending"
out=$(wd_review "$KEY_BOB" show "$ID" 2>&1)
assert_contains "$out" "delete from t93_orders where id = 1 returning item" "review show: the statement"
assert_contains "$out" "by alice via claude-code on appdb" "review show: requester, agent, connection"
assert_contains "$out" "rule        orders-delete" "review show: the rule"
out=$(wd_review "$KEY_ALICE" approve "$ID" 2>&1); rc=$?
assert_nonzero "$rc" "four eyes: alice cannot approve her own request"
assert_contains "$out" "403: four eyes: alice cannot decide their own request" "four eyes: precise refusal"
out=$(wd_review "$KEY_ERIN" approve "$ID" 2>&1); rc=$?
assert_nonzero "$rc" "erin (dev) is not a reviewer"
assert_contains "$out" "erin is not in a reviewer group of rule \"orders-delete\"" "non-reviewer: precise refusal"
out=$(wd_review "$KEY_BOB" approve "$ID" --comment "ticket OPS-1" 2>&1)
assert_contains "$out" "approved" "bob approves"
wait "$P1"
assert_eq "$(head -1 "$T/a1.out")" "item-1" "the approved DELETE ran and RETURNING reached psql"
assert_eq "$(orders)" "2,3,4,5,6,7,8,9" "row 1 is gone"

# 1b. approval lets a statement run; its results are masked as the identity's reads are
#     (the review rule has no mask: the allow rule below it that matches masks with pii)
(PGAPPNAME=masked-agent psql -X -At -c "select email, secret_code from t93_people" >"$T/a1b.out" 2>&1) &
P1B=$!
ID=$(pending_id) || die "no pending review (masked SELECT)"
wd_review "$KEY_BOB" approve "$ID" >/dev/null
wait "$P1B"
out=$(cat "$T/a1b.out")
assert_contains "$out" "|" "the approved SELECT of a masked identity ran, its row arrived ($(show "$out" 120))"
assert_not_contains "$out" "ann.t93@example.com" "its email reached psql masked"
assert_not_contains "$out" "Sesame-t93-Code" "its secret_code (column rule) reached psql masked"
# ... by the extended protocol with no Describe of the client's: warden describes the portal itself
"$PY" - "$WD_PORT" "$KEY_ALICE" >"$T/a1c.out" 2>&1 <<'PY' &
import os, struct, sys
sys.path.insert(0, os.environ["IT_ROOT"])
import pgwire as w
s, r = w.login(int(sys.argv[1]), "alice", "appdb", sys.argv[2], extra={"application_name": "masked-agent"})
assert r["ok"], r
cstr = lambda x: x.encode() + b"\0"
s.sendall(w.msg("P", cstr("") + cstr("update t93_people set id = id where id = 1 returning id, email") +
                struct.pack("!h", 0)) +
          w.msg("B", cstr("") + cstr("") + struct.pack("!hhh", 0, 0, 0)) + w.msg("E", cstr("") + struct.pack("!i", 0)) +
          w.msg("S"))
types, rows = "", []
while True:
    typ, body = w.read_msg(s)
    types += typ
    if typ == "D":
        n, p, row = struct.unpack("!h", body[:2])[0], 2, []
        for _ in range(n):
            (l,) = struct.unpack("!i", body[p:p + 4]); p += 4
            row.append(None if l < 0 else body[p:p + l].decode()); p += max(l, 0)
        rows.append(row)
    if typ == "Z":
        break
print("types", types, "rows", rows)
PY
P1C=$!
ID=$(pending_id) || die "no pending review (masked UPDATE, extended)"
wd_review "$KEY_BOB" approve "$ID" >/dev/null
wait "$P1C"
out=$(cat "$T/a1c.out")
assert_contains "$out" "types 12DCZ" "extended, approved: the UPDATE's row arrives, with no description the client did not ask for"
assert_not_contains "$out" "ann.t93@example.com" "extended, approved: the RETURNING email masked"
assert_not_contains "$out" "None" "extended, approved: masked, not NULL (warden's Describe gave the columns) ($(show "$out" 160))"

# 2. deny: 42501 with the reviewer's reason
(psql -X -At -v VERBOSITY=verbose -c "delete from t93_orders where id = 2" >"$T/a2.out" 2>&1) &
P2=$!
ID=$(pending_id) || die "no pending review (deny)"
out=$(wd_review "$KEY_BOB" deny "$ID" 2>&1)
assert_contains "$out" "deny needs --reason" "deny without a reason is refused by the CLI"
wd_review "$KEY_CAROL" deny "$ID" --reason "not during the freeze" >/dev/null
wait "$P2"
assert_contains "$(cat "$T/a2.out")" "ERROR:  42501: review $ID denied by carol: not during the freeze" "denied: 42501 with the reviewer and reason"
assert_eq "$(orders)" "2,3,4,5,6,7,8,9" "denied: nothing deleted"
out=$(wd_review "$KEY_BOB" approve "$ID" 2>&1)
assert_contains "$out" "409: review $ID is denied, not pending" "a decided review cannot be decided again"

# 3. timeout
out=$(psql -X -At -c "delete from t93_scratch" 2>&1)
assert_match "$out" 'review [0-9a-f]{32} for rule "quick-expiry" expired after 2s without a decision' "timeout: the request is refused when the review expires"
assert_eq "$(pg_direct -d app -At -c "select count(*) from t93_scratch")" "1" "timeout: nothing deleted"

# 4. client cancel (psql sends a CancelRequest on SIGINT)
"$PY" - "$WD_PORT" "$KEY_ALICE" >"$T/a4.out" 2>&1 <<'PY' &
import sys, threading, time, psycopg
conn = psycopg.connect(host="127.0.0.1", port=int(sys.argv[1]), dbname="appdb", user="alice",
                       password=sys.argv[2], sslmode="disable", autocommit=True)
threading.Timer(1.5, conn.cancel).start()
t = time.time()
try:
    conn.execute("delete from t93_orders where id = 3")
    print("NOT-CANCELLED")
except psycopg.errors.QueryCanceled as e:
    print("CANCELLED", e.sqlstate, str(e).strip())
conn.execute("select 1")
print("SESSION-USABLE")
PY
P4=$!
wait "$P4"
out=$(cat "$T/a4.out")
assert_contains "$out" "CANCELLED 57014 canceling statement due to user request (review" "cancel: 57014, the review is withdrawn"
assert_contains "$out" "SESSION-USABLE" "cancel: the session goes on"
assert_contains "$(wd_review "$KEY_BOB" list --status withdrawn 2>&1)" "withdrawn" "cancel: the review is listed as withdrawn"

# 5. client disconnect
(psql -X -At -c "delete from t93_orders where id = 4" >/dev/null 2>&1) &
P5=$!
ID=$(pending_id) || die "no pending review (disconnect)"
kill -KILL "$P5"; wait "$P5" 2>/dev/null
for _ in $(seq 1 50); do
  st=$(wd_review "$KEY_BOB" show "$ID" --json 2>/dev/null | jq -r .status)
  [[ "$st" == withdrawn ]] && break; sleep 0.1
done
assert_eq "$st" "withdrawn" "disconnect: the review is withdrawn"
out=$(wd_review "$KEY_BOB" approve "$ID" 2>&1)
assert_contains "$out" "is withdrawn, not pending" "disconnect: a withdrawn review cannot be approved"
assert_eq "$(orders)" "2,3,4,5,6,7,8,9" "cancel/disconnect: nothing deleted"

# 6. two approvers
(psql -X -At -c "truncate t93_scratch" >"$T/a6.out" 2>&1) &
P6=$!
ID=$(pending_id) || die "no pending review (two approvers)"
out=$(wd_review "$KEY_BOB" approve "$ID" 2>&1)
assert_contains "$out" "approval 1 of 2 recorded" "two approvers: the first approval is recorded"
out=$(wd_review "$KEY_BOB" approve "$ID" 2>&1)
assert_contains "$out" "bob has already approved" "two approvers: the same reviewer cannot count twice"
kill -0 "$P6" 2>/dev/null && ok "two approvers: still held after one" || fail "two approvers: released after one approval"
wd_review "$KEY_CAROL" approve "$ID" >/dev/null
wait "$P6"
assert_eq "$(cat "$T/a6.out")" "TRUNCATE TABLE" "two approvers: runs after the second"

# 7. duration grant: used by a later session, then revoked
(psql -X -At -c "delete from t93_orders where id = 5" >"$T/a7.out" 2>&1) &
P7=$!
ID=$(pending_id) || die "no pending review (grant)"
out=$(wd_review "$KEY_BOB" approve "$ID" --grant duration --duration 2h 2>&1)
assert_contains "$out" "duration must be at most 3600s" "a grant longer than max_duration is refused"
out=$(wd_review "$KEY_BOB" approve "$ID" --grant duration --duration 30m 2>&1)
assert_contains "$out" "approved" "approved with a 30-minute grant"
wait "$P7"
assert_eq "$(cat "$T/a7.out")" "DELETE 1" "grant: the first DELETE ran"
out=$(psql -X -At -c "delete from t93_orders where id = 6" 2>&1)
assert_eq "$out" "DELETE 1" "grant: a new session of alice runs the next DELETE without a review"
out=$(PGUSER=bob PGPASSWORD=$KEY_BOB psql -X -At -c "select 1" -c "delete from t93_orders where id = 7" 2>&1 &
  sleep 1; wd_review "$KEY_CAROL" deny "$(pending_id)" --reason "bob has no grant" >/dev/null; wait)
assert_contains "$out" "denied by carol" "grant: never widens to another user"
out=$(wd_grant "$KEY_BOB" list 2>&1)
assert_contains "$out" "duration  alice" "grant list shows alice's grant"
GID=$(wd_grant "$KEY_BOB" list --json | jq -r '.[0].id')
assert_eq "$(wd_grant "$KEY_BOB" list --json | jq -r '.[0].uses')" "1" "grant list counts its use"
out=$(wd_grant "$KEY_BOB" revoke "$GID" 2>&1)
assert_contains "$out" "revoked" "grant revoke"
# a short duration grant expires by itself
(psql -X -At -c "delete from t93_orders where id = 3" >"$T/a7e.out" 2>&1) &
P7E=$!
ID=$(pending_id) || die "no pending review (short grant)"
wd_review "$KEY_BOB" approve "$ID" --grant duration --duration 3s >/dev/null
wait "$P7E"
assert_eq "$(cat "$T/a7e.out")" "DELETE 1" "short grant: the approved DELETE ran"
out=$(psql -X -At -c "delete from t93_orders where id = 4" 2>&1)
assert_eq "$out" "DELETE 1" "short grant: used while it lasts"
sleep 3.5
(psql -X -At -c "delete from t93_orders where id = 7" >"$T/a7f.out" 2>&1) &
P7F=$!
ID=$(pending_id) || fail "short grant: after it expired the DELETE is held again"
wd_review "$KEY_BOB" deny "$ID" --reason "grant expired" >/dev/null
wait "$P7F"
assert_contains "$(cat "$T/a7f.out")" "denied by bob: grant expired" "short grant: expired, a review was needed again"
(psql -X -At -c "delete from t93_orders where id = 8" >"$T/a7b.out" 2>&1) &
P7B=$!
ID=$(pending_id) || fail "after the revocation the DELETE is held again"
wd_review "$KEY_BOB" deny "$ID" --reason "grant revoked" >/dev/null
wait "$P7B"
assert_contains "$(cat "$T/a7b.out")" "denied by bob" "revoked grant: the next DELETE needed a review again"
assert_eq "$(orders)" "2,7,8,9" "grants: exactly rows 3, 4, 5 and 6 deleted"

# 8. psycopg: extended protocol, and a denial inside a transaction
cat >"$T/t93.py" <<'PY'
import os, sys, subprocess, threading, time, json, psycopg
port, key, gw, bob = int(os.environ["WD_PORT"]), os.environ["KEY"], os.environ["GW"], os.environ["BOB"]
failures = 0
def check(c, what, d=""):
    global failures
    print(("  ok   py: " if c else "  FAIL py: ") + what + ("" if c else " " + d)); failures += 0 if c else 1
def decide(action, *extra):
    for _ in range(100):
        out = subprocess.run([os.environ["WARDEN"], "review", "list", "--json", "--gateway", gw, "--insecure"],
                             env={**os.environ, "WARDEN_TOKEN": bob}, capture_output=True, text=True).stdout
        rows = json.loads(out or "[]")
        if rows:
            subprocess.run([os.environ["WARDEN"], "review", action, rows[0]["id"], *extra, "--gateway", gw, "--insecure"],
                           env={**os.environ, "WARDEN_TOKEN": bob}, check=True, capture_output=True)
            return
        time.sleep(0.1)
    raise SystemExit("no review appeared")
conn = psycopg.connect(host="127.0.0.1", port=port, dbname="appdb", user="alice", password=key,
                       sslmode="disable", application_name="psycopg-review", autocommit=True)
threading.Thread(target=decide, args=("approve",)).start()
cur = conn.execute("delete from t93_orders where id = %s returning item", (9,))
check(cur.fetchall() == [("item-9",)], "extended: the approved DELETE returns its row")
conn.autocommit = False
conn.execute("insert into t93_orders values (%s, %s)", (100, "in-tx"))
threading.Thread(target=decide, args=("deny", "--reason", "no")).start()
try:
    conn.execute("delete from t93_orders where id = %s", (2,))
    check(False, "in a transaction: the DELETE is denied")
except psycopg.errors.InsufficientPrivilege as e:
    check("denied by bob: no" in str(e), "in a transaction: the denial reaches psycopg", str(e))
try:
    conn.execute("select 1")
    check(False, "in a transaction: aborted after the denial")
except psycopg.errors.InFailedSqlTransaction:
    check(True, "in a transaction: aborted after the denial (25P02)")
conn.commit()
conn.autocommit = True
n = conn.execute("select count(*) from t93_orders where id in (2, 100)").fetchone()[0]
check(n == 1, "in a transaction: the insert was rolled back, row 2 kept", str(n))
print("PY-FAILURES", failures)
PY
out=$(WD_PORT=$WD_PORT KEY=$KEY_ALICE GW=$GW BOB=$KEY_BOB WARDEN=$WARDEN timeout $((60 * WAIT_SCALE)) "$PY" "$T/t93.py" 2>&1)
echo "$out"
assert_contains "$out" "PY-FAILURES 0" "psycopg checks ran to the end without failures"

# 8. credentials typed into statements: the review, its notifications and the
#    audit get them replaced ('****'); the target gets the statement as sent
pg_direct -d app -c "drop role if exists t93_role" -c "create role t93_role login" -c "alter role app_scram createrole" >/dev/null
(PGAPPNAME=claude-code psql -X -At -c "ALTER ROLE t93_role PASSWORD 'Hunter2-t93-role'" >"$T/a8.out" 2>&1) &
P8=$!
ID=$(pending_id) || die "no pending review (role password)"
out=$(wd_review "$KEY_BOB" show "$ID" 2>&1)
assert_contains "$out" "ALTER ROLE t93_role PASSWORD '****'" "review show: the role's password replaced"
assert_not_contains "$out" "Hunter2-t93-role" "review show: the password itself is not shown"
wd_review "$KEY_BOB" approve "$ID" >/dev/null
wait "$P8"
assert_eq "$(cat "$T/a8.out")" "ALTER ROLE" "the approved ALTER ROLE ran"
out=$(env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PGSSLMODE PGPASSWORD=Hunter2-t93-role \
  "$PGBIN/psql" -X -At -h 127.0.0.1 -p "$IT_PG_PORT" -U t93_role -d app -c "select current_user" 2>&1)
assert_eq "$out" "t93_role" "the target got the password as sent: t93_role logs in with it"
out=$(psql -X -At -c "SET app.api_token = 'tk-t93-setting-5521'" -c "select current_setting('app.api_token')" 2>&1)
assert_eq "$out" $'SET\ntk-t93-setting-5521' "SET of a token: the target got the value as sent"
out=$("$PY" - "$WD_PORT" "$KEY_ALICE" 2>&1 <<'PY'
import sys, psycopg
conn = psycopg.connect(host="127.0.0.1", port=int(sys.argv[1]), dbname="appdb", user="alice",
                       password=sys.argv[2], sslmode="disable", autocommit=True)
print(conn.execute("select %s::text", ["postgresql://svc:Pw-t93-param-77@db.internal/app"]).fetchone()[0])
PY
)
assert_eq "$out" "postgresql://svc:Pw-t93-param-77@db.internal/app" "a bound parameter reaches the target as sent"
pg_direct -d app -c "alter role app_scram nocreaterole" -c "drop role t93_role" >/dev/null
out=$(psql -X -At -c "select 'AKIAT93ERRORKEY12345'::int" 2>&1)
assert_contains "$out" 'invalid input syntax for type integer: "AKIAT93ERRORKEY12345"' "an error quoting a key reaches the client as the target sent it"
for _ in $(seq 1 50); do
  [[ $(jq -s '[.[] | select(.body.review.rule == "role-change")] | length' "$HOOK_OUT" 2>/dev/null) -ge 2 ]] && break; sleep 0.2
done
assert_eq "$(jq -s '[.[] | select(.body.event == "review.requested" and .body.review.statement == "ALTER ROLE t93_role PASSWORD '"'****'"'")] | length' "$HOOK_OUT")" "1" \
  "webhook: the held ALTER ROLE with its password replaced"

# webhooks: signed JSON and a Slack message per event
for _ in $(seq 1 50); do [[ $(jq -s '[.[] | select(.body.event == "review.approved")] | length' "$HOOK_OUT" 2>/dev/null) -ge 3 ]] && break; sleep 0.2; done
assert_eq "$(jq -s '[.[] | select(.headers["x-warden-event"] == "review.requested" and .body.review.rule == "orders-delete")] | length > 0' "$HOOK_OUT")" "true" "webhook: review.requested delivered"
assert_eq "$(jq -s '[.[] | select(.body.event != null and .signature_ok != true)] | length' "$HOOK_OUT")" "0" "webhook: every JSON delivery carries a valid HMAC-SHA256"
assert_eq "$(jq -s '[.[] | select(.body.event == "review.requested" and .body.review.user == "alice" and .body.review.agent == "claude-code" and (.body.review.statement | test("delete from t93_orders where id = 1")))] | length' "$HOOK_OUT")" "1" "webhook: requester, agent and statement in the JSON body"
assert_eq "$(jq -s '[.[] | select(.body.blocks != null and (.raw | test("Approve")))] | length > 0' "$HOOK_OUT")" "true" "webhook: the Slack format has the Approve button"

wd_alive
wd_stop
audit_export || it_finish
for ev in requested approval approved denied expired withdrawn refused grant_used grant_revoked; do
  audit_expect ".kind == \"review\" and .event == \"$ev\"" "review event $ev recorded"
done
audit_expect '.kind == "review" and .event == "approved" and .user == "bob" and .comment == "ticket OPS-1" and .request_id != null' "the approval names bob, his comment and the held request"
audit_expect '.kind == "review" and .event == "refused" and .user == "alice" and .comment == "self-approval"' "the self-approval attempt is recorded"
audit_expect '.kind == "request" and .decision == "review" and .rule == "orders-delete"' "held requests are recorded with decision review"
audit_expect '.kind == "request" and .decision == "review" and .rule == "masked-changes" and .masked.profile == "pii"' \
  "a held request of a masked identity names the profile its results are masked with"
audit_expect '.kind == "request" and .decision == "allow" and .grant.kind == "duration"' "a request run under a grant names the grant"
audit_expect '.kind == "auth_failure" and .protocol == "admin"' "a refused admin credential is recorded"
audit_expect ".kind == \"request\" and .decision == \"review\" and .statement == \"ALTER ROLE t93_role PASSWORD '****'\"" \
  "the held ALTER ROLE is recorded with its password replaced"
audit_expect ".kind == \"request\" and .statement == \"SET app.api_token = '****'\"" \
  "a SET of a token is recorded with the value replaced"
audit_expect '.kind == "request" and ((.params // []) | tostring | contains("postgresql://svc:****@db.internal/app"))' \
  "a bound parameter's password is recorded replaced"
audit_expect '.kind == "result" and .error_message == "invalid input syntax for type integer: \"****\""' \
  "an error quoting a key is recorded with the key replaced"
for s in Hunter2-t93-role tk-t93-setting-5521 Pw-t93-param-77 AKIAT93ERRORKEY12345; do
  hits=$(grep -rlaF -- "$s" "$WD_DATA" "$AUDIT_RAW" "$HOOK_OUT" "$WD_LOG" 2>/dev/null || true)
  [[ -z "$hits" ]] && ok "a credential typed into a statement is in no record (audit store, export, webhooks, log)" ||
    fail "a credential typed into a statement is recorded in: $hits"
done
it_finish
