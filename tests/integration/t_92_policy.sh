#!/usr/bin/env bash
# Guardrails: statements decided by the policy from what libpg_query says they
# do. Denials get 42501 naming the rule and what was detected; a denial inside
# a transaction aborts it as a server error would (COMMIT answers ROLLBACK,
# nothing is committed); bypass attempts (comment-split keywords, writes in
# CTEs, EXPLAIN ANALYZE, COPY PROGRAM, dangerous functions, multi-statement)
# are denied; psql, psycopg (extended protocol, pipelines) and node-postgres;
# `warden policy check|explain|test`.
source "$(dirname "$0")/lib.sh"
it_init

POLICY='policy:
  default: deny
  rules:
    - name: ops-anything
      match: { groups: [ops] }
      action: allow
    - name: no-destructive-ddl
      match: { kinds: [ddl], statements: [drop, truncate, alter] }
      action: deny
      message: "Destructive DDL is not allowed through the agent path."
    - name: agents-read-only
      match: { groups: [dev], agents: ["cursor*", "claude*"], kinds: [write, ddl, dcl, procedural, copy_in, copy_program] }
      action: deny
    - name: pii-tables
      match: { objects: ["public.t92_customers"] }
      action: review
      reviewers: [ops]
      timeout: 2s
    - name: dev-writes
      match: { groups: [dev], kinds: [read, write], objects: ["public.t92_*"] }
      action: allow
    - name: keep-large-objects
      match: { functions: [lo_unlink] }
      action: deny
    - name: reads
      match: { kinds: [read, transaction, set] }
      action: allow'
WD_EXTRA=$POLICY wd_new "$(conn appdb)"
out=$("$WARDEN" policy check -c "$WD_CFG" 2>&1); rc=$?
assert_rc "$rc" 0 "policy check accepts the policy"
assert_contains "$out" "policy OK: 7 rules, default deny" "policy check summarises it"
wd_start

bob() { PGPASSWORD=$KEY_BOB PGUSER=bob PGAPPNAME=setup psql -X -q -v ON_ERROR_STOP=1 "$@"; }
wd_env disable
bob -c "drop table if exists t92_orders, t92_customers" \
    -c "create table t92_orders (id int primary key, item text)" \
    -c "insert into t92_orders select g, 'item-' || g from generate_series(1, 5) g" \
    -c "create table t92_customers (id int, email text)" \
    -c "insert into t92_customers values (1, 'a@example.com')"
assert_rc $? 0 "ops (bob) sets up the tables: ops-anything allows DDL"

# alice (dev) through psql
ap() { PGAPPNAME=${AGENT:-psql} psql -X -At -v VERBOSITY=verbose "$@" 2>&1; }
orders() { pg_direct -d app -At -c "select count(*) || ':' || coalesce(sum(id), 0) from t92_orders"; }

out=$(ap -c "select count(*) from t92_orders")
assert_eq "$out" "5" "a read is allowed (rule reads)"

out=$(ap -c "drop table t92_orders")
assert_contains "$out" "ERROR:  42501: warden policy rule \"no-destructive-ddl\" denies this statement: ddl" "DROP: 42501 naming the rule and the kind"
assert_contains "$out" "t92_orders" "DROP: the message names the table"
assert_contains "$out" "DETAIL:  Destructive DDL is not allowed through the agent path." "DROP: the rule's message is the DETAIL"
assert_contains "$out" "HINT:  This is the gateway's access policy, not a database error" "DROP: a HINT telling the agent not to retry"
assert_eq "$(orders)" "5:15" "the table is still there"

out=$(ap -c "DROP/**/TABLE t92_orders")
assert_contains "$out" "42501" "a comment between keywords does not hide a DROP"
out=$(ap -c "DR/**/OP TABLE t92_orders")
assert_contains "$out" "42501: warden policy: no rule allows this statement" "a keyword split by a comment is unknown: denied by default"
assert_contains "$out" "the SQL parser rejects it" "unknown: the parser's reason is given"

out=$(ap -c "select 1; drop table t92_orders")
assert_contains "$out" "no-destructive-ddl" "multi-statement: the strictest decision wins"
assert_not_contains "$out" "1
" "multi-statement: nothing of it ran"

out=$(ap -c "insert into t92_orders values (6, 'six')")
assert_contains "$out" "INSERT 0 1" "alice with psql may write the t92 tables (rule dev-writes)"

# transactions: a denial aborts the transaction as a server error would
out=$(printf '%s\n' "begin;" "insert into t92_orders values (7, 'seven');" "drop table t92_orders;" \
  "select 'after-denial';" "commit;" | ap -v ON_ERROR_STOP=0)
assert_contains "$out" "42501" "in a transaction: the DROP is denied"
assert_contains "$out" "25P02" "in a transaction: the next statement fails: current transaction is aborted"
assert_contains "$out" "ROLLBACK" "in a transaction: COMMIT answers ROLLBACK"
assert_eq "$(orders)" "6:21" "in a transaction: nothing was committed (row 7 absent)"
out=$(printf '%s\n' "begin;" "insert into t92_orders values (8, 'eight');" "savepoint s1;" \
  "drop table t92_orders;" "rollback to savepoint s1;" "insert into t92_orders values (9, 'nine');" "commit;" | ap -v ON_ERROR_STOP=0)
assert_contains "$out" "42501" "savepoint: the DROP is denied"
assert_eq "$(orders)" "8:38" "savepoint: ROLLBACK TO SAVEPOINT recovers the transaction; rows 8 and 9 committed"

# a coding agent may only read
AGENT=claude-code
out=$(ap -c "insert into t92_orders values (10, 'ten')")
assert_contains "$out" "rule \"agents-read-only\" denies this statement: write (insert) on t92_orders" "claude: INSERT denied"
out=$(ap -c "with d as (delete from t92_orders returning *) select count(*) from d")
assert_contains "$out" "agents-read-only" "claude: a DELETE inside WITH is a write"
assert_contains "$out" "writing inside WITH" "claude: the message says where the write hides"
out=$(ap -c "explain analyze delete from t92_orders")
assert_contains "$out" "agents-read-only" "claude: EXPLAIN ANALYZE DELETE is a write"
out=$(ap -c "explain delete from t92_orders")
assert_contains "$out" "Delete on t92_orders" "claude: plain EXPLAIN DELETE runs nothing and is allowed"
out=$(ap -c "do \$\$ begin delete from t92_orders; end \$\$")
assert_contains "$out" "procedural" "claude: a DO block is procedural and denied"
out=$(ap -c "copy t92_orders to program 'id'")
assert_contains "$out" "42501" "claude: COPY TO PROGRAM denied"
out=$(ap -c "select * from t92_orders for update")
assert_contains "$out" "42501" "claude: SELECT FOR UPDATE (read+lock) is not only a read"
assert_eq "$(orders)" "8:38" "claude: nothing was written"
out=$(ap -c "select count(*) from t92_orders")
assert_eq "$out" "8" "claude: reads still work"
unset AGENT

out=$(ap -c "select * from t92_customers")
assert_match "$out" 'ERROR:  42501: review [0-9a-f]{32} for rule "pii-tables" expired after 2s without a decision' "PII table: held for a review, which expires (no reviewer here)"
out=$(ap -c "select o.id from t92_orders o join t92_customers c on c.id = o.id")
assert_contains "$out" "for rule \"pii-tables\" expired" "PII table in a join: review"

out=$(ap -c "select pg_read_file('/etc/hostname')")
assert_contains "$out" "calling pg_read_file()" "pg_read_file: named in the denial"
assert_contains "$out" "no rule allows" "pg_read_file: the reads rule does not cover a dangerous function"
out=$(ap -c "select pg_catalog.pg_read_file('/etc/hostname')")
assert_contains "$out" "42501" "pg_catalog.pg_read_file: denied too"
out=$(ap -c "set role postgres")
assert_contains "$out" "dcl (set)" "SET ROLE is dcl: denied"
out=$(ap -c "set statement_timeout = 0" -c "show statement_timeout")
assert_contains "$out" "0" "an ordinary SET is allowed"

# the lexing bypass: with standard_conforming_strings off the server would read
# SELECT 'a\' , ' ; DELETE ...' as a SELECT and a DELETE, the parser as one SELECT
out=$(printf '%s\n' "set standard_conforming_strings = off;" "select 'a\\' , ' ; delete from t92_orders; --';" | ap -v ON_ERROR_STOP=0)
assert_contains "$out" "42501" "SET standard_conforming_strings = off is denied (unknown: lexing changes)"
out=$(printf '%s\n' "select 'a\\' , ' ; delete from t92_orders; --';" "select 2;" | PGOPTIONS="-c standard_conforming_strings=off" ap -v ON_ERROR_STOP=0)
assert_contains "$out" "warden cannot classify statements while standard_conforming_strings is off" "off at startup (PGOPTIONS): every statement is denied"
assert_not_contains "$out" "DELETE" "off at startup: the hidden DELETE never ran"
out=$(PGCLIENTENCODING=SJIS ap -c "select 1")
assert_contains "$out" "warden cannot classify statements in this client_encoding" "client_encoding SJIS: denied"
out=$(ap -c "set client_encoding = 'UTF8'" -c "set standard_conforming_strings = on" -c "select 'safe'")
assert_contains "$out" "safe" "setting the safe values is allowed"
assert_eq "$(orders)" "8:38" "lexing bypasses: nothing was deleted"

# SQL-level PREPARE / EXECUTE: EXECUTE is decided as what it runs
out=$(printf '%s\n' "prepare p92(int) as select item from t92_orders where id = \$1;" "execute p92(2);" \
  "execute nosuch(1);" | ap -v ON_ERROR_STOP=0)
assert_contains "$out" "item-2" "EXECUTE of a prepared read runs"
assert_contains "$out" "unknown (execute)" "EXECUTE of a name warden never saw prepared is unknown: denied"
out=$(printf '%s\n' "prepare d92 as delete from t92_orders;" | AGENT=claude-code ap -v ON_ERROR_STOP=0)
assert_contains "$out" "agents-read-only" "claude: PREPARE of a DELETE is decided as the DELETE"

# psycopg: extended protocol, transactions, pipelines
cat >"$T/t92.py" <<'PY'
import os, psycopg
from psycopg import errors
failures = 0
def check(cond, what, detail=""):
    global failures
    print(("  ok   py: " if cond else "  FAIL py: ") + what + ("" if cond else " " + detail))
    failures += 0 if cond else 1
def connect(agent):
    return psycopg.connect(host="127.0.0.1", port=int(os.environ["WD_PORT"]), dbname="appdb", user="alice",
                           password=os.environ["KEY"], application_name=agent, sslmode="disable")
with connect("claude-code") as conn:
    cur = conn.cursor()
    cur.execute("select item from t92_orders where id = %s", (3,))
    check(cur.fetchone() == ("item-3",), "extended: a parameterised read runs")
    try:
        cur.execute("delete from t92_orders where id = %s", (3,))
        check(False, "extended: a parameterised DELETE is denied")
    except errors.InsufficientPrivilege as e:
        check("agents-read-only" in str(e), "extended: DELETE denied with 42501 naming the rule", str(e))
        check(e.diag.message_hint and "not a database error" in e.diag.message_hint, "extended: hint present")
    conn.rollback()
    cur.execute("select count(*) from t92_orders")
    check(cur.fetchone() == (8,), "extended: the session goes on after a denial")
    conn.commit()
with connect("psql-like") as conn:
    cur = conn.cursor()
    cur.execute("insert into t92_orders values (%s, %s)", (20, "twenty"))
    try:
        cur.execute("truncate t92_orders")
        check(False, "extended in a transaction: TRUNCATE denied")
    except errors.InsufficientPrivilege as e:
        check("no-destructive-ddl" in str(e), "extended in a transaction: TRUNCATE denied", str(e))
    try:
        cur.execute("select 1")
        check(False, "extended: the transaction is aborted after the denial")
    except errors.InFailedSqlTransaction:
        check(True, "extended: the transaction is aborted after the denial (25P02)")
    conn.commit()   # the server turns it into a rollback
    cur.execute("select count(*) from t92_orders where id = 20")
    check(cur.fetchone() == (0,), "extended: nothing of the aborted transaction was committed")
    conn.commit()
    # pipeline (autocommit): allowed, denied, allowed — the denial fails its own Sync unit only
    conn.autocommit = True
    with conn.pipeline() as p:
        c1 = conn.execute("select %s::int", (1,))
        p.sync()
        try:
            conn.execute("drop table t92_orders")
            p.sync()
            check(False, "pipeline: DROP denied")
        except errors.InsufficientPrivilege as e:
            check("no-destructive-ddl" in str(e), "pipeline: DROP denied in its own unit", str(e))
        c3 = conn.execute("select %s::int", (3,))
    check(c1.fetchone() == (1,) and c3.fetchone() == (3,), "pipeline: the statements around the denial ran")
print("PY-FAILURES", failures)
PY
out=$(WD_PORT=$WD_PORT KEY=$KEY_ALICE timeout $((60 * WAIT_SCALE)) "$PY" "$T/t92.py" 2>&1); rc=$?
echo "$out"
assert_contains "$out" "PY-FAILURES 0" "psycopg checks ran to the end without failures"

# node-postgres: simple and extended
NODE_DIR="$IT_ROOT/../node"
cat >"$NODE_DIR/.t92_client.js" <<'JS'
const { Client } = require('pg');
(async () => {
  let failures = 0;
  const check = (c, what, d) => { console.log((c ? '  ok   node: ' : '  FAIL node: ') + what + (c ? '' : ' ' + (d || ''))); if (!c) failures++; };
  const c = new Client({ host: '127.0.0.1', port: +process.env.WD_PORT, database: 'appdb', user: 'alice',
                         password: process.env.KEY, application_name: 'cursor-agent', ssl: false });
  await c.connect();
  let r = await c.query('select count(*)::int as n from t92_orders');
  check(r.rows[0].n === 8, 'read allowed', JSON.stringify(r.rows));
  for (const [sql, params] of [['update t92_orders set item = $1 where id = 1', ['x']], ['update t92_orders set item = \'x\'', undefined]]) {
    try { await c.query(sql, params); check(false, 'write denied: ' + sql); }
    catch (e) { check(e.code === '42501' && /agents-read-only/.test(e.message), 'write denied (' + (params ? 'extended' : 'simple') + ')', e.code + ' ' + e.message); }
  }
  r = await c.query('select $1::text as v', ['still-usable']);
  check(r.rows[0].v === 'still-usable', 'the connection is usable after denials');
  await c.end();
  console.log('NODE-FAILURES ' + failures);
})().catch(e => { console.log('NODE-ERROR', e); process.exit(1); });
JS
out=$(cd "$NODE_DIR" && WD_PORT=$WD_PORT KEY=$KEY_ALICE timeout $((60 * WAIT_SCALE)) node .t92_client.js 2>&1); rc=$?
rm -f "$NODE_DIR/.t92_client.js"
echo "$out"
assert_contains "$out" "NODE-FAILURES 0" "node-postgres checks ran to the end without failures"
assert_eq "$(pg_direct -d app -At -c "select count(*) from t92_orders where item = 'x'")" "0" "node: nothing was updated"

# FunctionCall (the protocol's fast path) names its function by OID: warden asks the target's
# catalog for its name and decides it as SELECT of that function. psql's large objects are
# FunctionCalls (libpq's lo_creat, lo_open, lowrite, loread, lo_close, lo_unlink).
head -c 3000 /dev/urandom >"$T/blob.in"
out=$(ap -c "\\lo_import '$T/blob.in'")
LO_OID=$(sed -nE 's/^lo_import ([0-9]+)$/\1/p' <<<"$out")
[[ -n "$LO_OID" ]] && ok "psql \\lo_import through warden: large object $LO_OID (lo_creat, lo_open, lowrite by FunctionCall)" ||
  fail "psql \\lo_import was refused: $(show "$out")"
out=$(ap -c "\\lo_export ${LO_OID:-0} '$T/blob.out'")
assert_files_equal "$T/blob.in" "$T/blob.out" "psql \\lo_export: the large object read back (loread by FunctionCall)"
out=$(ap -c "\\lo_unlink ${LO_OID:-0}")
assert_contains "$out" "42501" "lo_unlink by FunctionCall: denied by the rule naming the function"
assert_contains "$out" "keep-large-objects" "lo_unlink by FunctionCall: the message names the rule"
assert_eq "$(pg_direct -d app -At -c "select count(*) from pg_largeobject_metadata where oid = ${LO_OID:-0}")" "1" "the large object is still there"
TB_OID=$(pg_direct -d app -At -c "select 'pg_catalog.pg_terminate_backend(integer,bigint)'::regprocedure::oid")
out=$(timeout $((30 * WAIT_SCALE)) "$PY" - "$IT_ROOT" "$WD_PORT" "$TB_OID" "$KEY_ALICE" 2>&1 <<'PY'
import struct, sys
sys.path.insert(0, sys.argv[1])
import pgwire
from pgwire import msg, read_msg, parse_fields
s, res = pgwire.login(int(sys.argv[2]), "alice", "appdb", sys.argv[4], extra={"application_name": "t92-fastpath"})
assert res["ok"], res
args = [struct.pack("!i", 1), struct.pack("!q", 0)]
body = struct.pack("!ihhh", int(sys.argv[3]), 1, 1, len(args))
for a in args:
    body += struct.pack("!i", len(a)) + a
s.sendall(msg("F", body + struct.pack("!h", 0)))
while True:
    typ, p = read_msg(s)
    if typ == "E":
        e = parse_fields(p)
        print("error", e.get("C"), e.get("M"))
    elif typ == "V":
        print("ran")
    elif typ == "Z":
        break
rows, err = pgwire.simple_query(s, "select 1")
print("then", rows)
PY
)
assert_contains "$out" "error 42501" "a dangerous function by FunctionCall (pg_terminate_backend by OID): denied"
assert_not_contains "$out" "ran" "pg_terminate_backend did not run"
assert_contains "$out" "then [['1']]" "the session goes on"

# policy explain
out=$("$WARDEN" policy explain -c "$WD_CFG" --user alice --groups dev --agent claude-code --connection appdb \
  "select 1; delete from public.t92_orders" 2>&1)
assert_contains "$out" "statement 1: read (select)" "explain: statement 1 classified"
assert_contains "$out" "statement 2: write (delete) on public.t92_orders, without WHERE" "explain: statement 2 classified with its object and flag"
assert_contains "$out" "-> deny by rule \"agents-read-only\"" "explain: the deciding rule"
assert_contains "$out" "request: deny" "explain: the request's decision"
out=$("$WARDEN" policy explain -c "$WD_CFG" --user alice --groups dev --connection appdb "select pg_ls_dir('.')" 2>&1)
assert_contains "$out" "skipped rule \"reads\"" "explain: says why the reads rule does not cover a dangerous function"

# policy check: errors with file and line
printf '%s\n' "$POLICY" | sed 's/kinds: \[read, transaction, set\]/kinds: [read, transactoin]/' >"$T/bad1.yaml"
out=$("$WARDEN" policy check -c "$T/bad1.yaml" 2>&1); rc=$?
assert_rc "$rc" 1 "policy check: an unknown kind fails"
assert_match "$out" 'bad1.yaml:[0-9]+: policy.rules\[6\].match.kinds\[1\]: unknown kind "transactoin"' "policy check: the unknown kind with its line"
printf '%s\n' "$POLICY" | sed 's/match: { groups: \[ops\] }/match: {}/' >"$T/bad2.yaml"
out=$("$WARDEN" policy check -c "$T/bad2.yaml" 2>&1); rc=$?
assert_rc "$rc" 1 "policy check: a rule after a catch-all fails"
assert_contains "$out" "rule \"no-destructive-ddl\" is unreachable" "policy check: names the unreachable rule"
printf '%s\n' "$POLICY" | sed 's/statements: \[drop, truncate, alter\]/statements: [drop, trunacte]/' >"$T/bad3.yaml"
out=$("$WARDEN" policy check -c "$T/bad3.yaml" 2>&1); rc=$?
assert_rc "$rc" 1 "policy check: an unknown statement word fails"
assert_contains "$out" "unknown statement \"trunacte\"" "policy check: names the unknown statement"

wd_alive
wd_stop
audit_export || it_finish
audit_expect '.kind == "request" and .decision == "deny" and .rule == "no-destructive-ddl" and (.statement | test("^drop table t92_orders$"))' "a denied DROP recorded with its rule"
audit_expect '.kind == "request" and .decision == "deny" and .rule == "agents-read-only" and .agent == "claude-code" and (.classification.kinds | index("write")) and (.classification.flags | index("writes_in_cte"))' "a denied write-in-CTE recorded with its classification"
audit_expect '.kind == "request" and .decision == "allow" and .rule == "reads" and .classification.statements == ["select"]' "an allowed read recorded with rule and classification"
audit_expect '.kind == "result" and .error_code == "42501"' "a denial's result records 42501"
denied_ids=$(audit_q '[.[] | select(.kind == "request" and .decision == "deny") | .id] | length')
results=$(audit_q '[ (map(select(.kind == "request" and .decision == "deny") | .id)) as $d | .[] | select(.kind == "result" and (.request_id as $r | $d | index($r))) ] | length')
assert_eq "$results" "$denied_ids" "every denied request has its result entry"
audit_expect '.kind == "request" and .decision == "deny" and (.statement | test("pg_read_file")) and (.classification.flags | index("dangerous_function"))' "pg_read_file flagged dangerous in the audit"
audit_expect '.kind == "request" and (.statement | test("^execute p92")) and .decision == "allow" and .classification.statements == ["select"]' "EXECUTE recorded with the prepared statement's classification"

audit_expect '.kind == "request" and .decision == "allow" and .rule == "reads" and .classification.function_call == true and .classification.functions == ["pg_catalog.lowrite"] and (.statement | test("^-- FunctionCall oid [0-9]+: \"pg_catalog\".\"lowrite\"$"))' "a FunctionCall recorded with the OID and the function's name"
audit_expect '.kind == "request" and .decision == "deny" and .rule == "keep-large-objects" and .classification.functions == ["pg_catalog.lo_unlink"]' "lo_unlink by FunctionCall recorded denied by its rule"
audit_expect '.kind == "request" and .decision == "deny" and .agent == "t92-fastpath" and (.classification.flags | index("dangerous_function")) and .params == [{"hex":"00000001"},{"hex":"0000000000000000"}]' "pg_terminate_backend by FunctionCall recorded as a dangerous function, its arguments as parameters"

# policy test: what-if against the recorded traffic
sed -e 's/name: reads$/name: reads-narrow/' -e 's/match: { kinds: \[read, transaction, set\] }/match: { kinds: [read, transaction, set], agents: ["psql"] }/' \
  "$WD_CFG" >"$T/candidate.yaml"
out=$("$WARDEN" policy test -c "$WD_CFG" --candidate "$T/candidate.yaml" 2>&1); rc=$?
assert_rc "$rc" 0 "policy test runs"
assert_match "$out" 'request(s)? re-decided under .*candidate.yaml: [1-9][0-9]* would change \([1-9][0-9]* stricter, 0 looser\)' "policy test: counts the changed decisions"
assert_match "$out" 'claude-code +allow -> deny +rule default \(was reads\)' "policy test: lists a claude read that the candidate would deny"
assert_not_contains "$out" "setup " "policy test: ops requests are unaffected"
json=$("$WARDEN" policy test -c "$WD_CFG" --candidate "$T/candidate.yaml" --json 2>&1)
assert_eq "$(jq -r '[.changes[] | select(.agent == "claude-code" and .old == "allow" and .new == "deny")] | length > 0' <<<"$json")" "true" "policy test --json: the same change as JSON"
out=$("$WARDEN" policy test -c "$WD_CFG" --candidate "$WD_CFG" 2>&1)
assert_contains "$out" " 0 would change" "policy test: the current policy against itself changes nothing"
it_finish
